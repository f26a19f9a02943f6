/** The CrowdSec Local API client: the decision stream (bouncer), watcher login and alerts, and its queue. */
export { parseGoDuration, goDuration } from './duration';
export { checkLapiUrl, lapiRequest, LapiError, USER_AGENT, type LapiRequest } from './client';
export { DecisionSet, type CrowdsecBan, type FirewallHolds, type CrowdsecUnban, type StreamChanges, type StreamDecision } from './stream';
export { Watcher } from './watcher';
export { alertBody, alertExpired, pendingAlertOf, scenarioOf, type PendingAlert } from './alert';
export { DecisionStream, streamAdvice, streamStatus } from './bouncer';
export { AlertQueue, type AlertQueueOptions } from './queue';
