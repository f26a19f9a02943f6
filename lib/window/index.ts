export { FailureWindows, indexKey, keyText, MAX_KEPT_LINE, type BanHistory, type Decision, type JournalRecord, type JournalSink, type SubnetPolicy, type WindowPolicy, type WindowState } from './windows';
export { banTimeFor, failureWeight, parseMultipliers, type IncrementPolicy } from './policy';
export { WindowStore, windowStateFile, type LoadReport, type StoreOptions } from './store';
export { offenderOf, unitForSubnetV6 } from './subnet';
export { IgnoreList, parseIgnoreList, ownAddresses, type IgnoreEntries } from './ignore';
