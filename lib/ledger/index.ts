export { Ledger, type BanRecord } from './ledger';
