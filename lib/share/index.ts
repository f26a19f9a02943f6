/** A fleet of jails over MQTT (SPEC.md, "ban-share"): the wire format, the guards, publishing again. */
export { banPublication, banTopic, fleetSubscription, isFleetTopic, MAX_PAYLOAD, normalisePrefix, readMessage, secondsLeft, topicLevelProblem, unbanPublication, WireError, type Publication, type Received, type SharedBan } from './wire';
export { HeldBans, OriginRate, Refusal, ShareGuard, type GuardOptions } from './guard';
export { CatchUp, CATCH_UP_MAX_MS, CATCH_UP_QUIET_MS } from './catchup';
export { BrokerLink, linkStateOf, RESEND_WINDOW_MS, type LinkState } from './resend';
