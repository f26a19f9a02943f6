/**
 * A jail's ban decision (threshold-window's output) as a CrowdSec alert carrying its ban decision, so that
 * the Local API records it as coming from this watcher and its bouncers apply it.
 */
import { parseAddressOrPrefix } from '../ip';
import { describeValue } from '../untrusted';
import { goDuration } from './duration';

/** What is kept of a ban decision until it is posted (in the persisted queue). */
export interface PendingAlert {
  ip: string;
  jail: string;
  /** Seconds; -1 for ever. */
  bantime: number;
  failures: number;
  /** Epoch ms of the decision. */
  time: number;
  /** A few of the log lines, for the alert's message. */
  matches: string[];
}

/** The scenario a jail's alerts are posted under. */
export const scenarioOf = (jail: string) => `node-red-fail2ban/${jail}`;

/** What CrowdSec takes for "for ever": ten years. */
const FOR_EVER_SECONDS = 10 * 365 * 24 * 3600;

/** Reads a ban decision from a message payload; throws naming what is wrong. */
export function pendingAlertOf(payload: unknown, now = Date.now()): PendingAlert {
  const p = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  if (p.action !== undefined && p.action !== 'ban') throw new Error(`action ${describeValue(p.action)} is not a ban: only bans become alerts`);
  const address = parseAddressOrPrefix(p.ip ?? p.host);
  if (!address) throw new Error(`${describeValue(p.ip ?? p.host)} is not an address or prefix: nothing to post`);
  const bantime = typeof p.bantime === 'number' && (p.bantime > 0 || p.bantime === -1) ? p.bantime : 600;
  const jail = typeof p.jail === 'string' && /^[\w.@-]{1,64}$/.test(p.jail) ? p.jail : 'jail';
  const failures = typeof p.failures === 'number' && p.failures >= 0 ? Math.floor(p.failures) : 1;
  const time = typeof p.time === 'number' && Number.isFinite(p.time) ? p.time : now;
  const matches = Array.isArray(p.matches) ? p.matches.filter((m): m is string => typeof m === 'string').slice(-3).map((m) => m.slice(0, 300)) : [];
  return { ip: address.text, jail, bantime, failures, time, matches };
}

/** The alert as POST /v1/alerts takes it (models.Alert of CrowdSec's API). */
export function alertBody(a: PendingAlert, now = Date.now()): Record<string, unknown> {
  const address = parseAddressOrPrefix(a.ip)!;
  const scope = address.isPrefix ? 'Range' : 'Ip';
  const scenario = scenarioOf(a.jail);
  // The time left: the ban was decided at `time`, the alert may go out later (the API was down).
  const left = a.bantime < 0 ? FOR_EVER_SECONDS : Math.max(1, a.bantime - Math.max(0, (now - a.time) / 1000));
  const at = new Date(a.time).toISOString();
  const source: Record<string, unknown> = { scope, value: a.ip };
  if (address.isPrefix) source.range = a.ip;
  else source.ip = a.ip;
  return {
    scenario,
    scenario_hash: '',
    scenario_version: '',
    message: `${a.ip} banned by jail ${a.jail} of Node-RED after ${a.failures} failure${a.failures === 1 ? '' : 's'}`,
    events_count: Math.min(a.failures, 2 ** 31 - 1),
    capacity: 0,
    leakspeed: '0',
    simulated: false,
    remediation: true,
    start_at: at,
    stop_at: at,
    source,
    events: a.matches.map((line) => ({ timestamp: at, meta: [{ key: 'log_line', value: line }] })),
    decisions: [{ type: 'ban', scope, value: a.ip, duration: goDuration(left), origin: 'crowdsec', scenario, simulated: false }],
  };
}

/** Whether a pending alert's ban is over (nothing left to tell). */
export function alertExpired(a: PendingAlert, now = Date.now()): boolean {
  return a.bantime >= 0 && now - a.time >= a.bantime * 1000;
}
