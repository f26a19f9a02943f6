export { FailureWindows, type Decision, type WindowPolicy } from './windows';
export { IgnoreList, parseIgnoreList, ownAddresses, type IgnoreEntries } from './ignore';
