/** Jails as fail2ban-client sees them: which nodes make each one, its counters, and the client of its admin API. */
export { jailTopology, ownJailName, type FlowNodeDef, type JailNodes } from './topology';
export { jailOfLabel, jailStatuses, type BanCounters, type JailBan, type JailStatus, type WindowCounters } from './status';
export { formatBannedByJail, formatJail, formatJailsOfAddresses, formatOverview } from './format';
export { JAILS_PATH, type JailChange, type JailChangeAnswer, type JailErrorAnswer, type JailsAnswer } from './api';
export { AuthNeededError, ClientError, JailClient, type ClientOptions } from './client';
