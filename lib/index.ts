export * from './filter';
export * from './window';
export * from './firewall';
export * from './ledger';
export * from './mail';
export * from './tail';
export { parseDuration, parseBantime, formatDuration, DurationError } from './duration';
export { parseAddress, parseAddressOrPrefix, prefixOf, AddressSet, type Address } from './ip';
export type * from './messages';
