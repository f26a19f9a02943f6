/**
 * The fleet's wire format (SPEC.md, "ban-share"): one retained MQTT message per ban, on
 * `<prefix>/<origin>/<jail>/<address>` (a prefix's `/` written `_`), payload JSON
 * `{ip, jail, origin, bantime, until}`, the MQTT 5 message expiry set to the seconds left; an unban is a
 * zero-length retained message on the same topic. Any MQTT client may speak it, so what arrives is
 * read as an attacker's text: checked whole, and refused whole when any part disagrees.
 */
import { parseAddressOrPrefix, type Address } from '../ip';
import { describeValue } from '../untrusted';

/** A ban as it travels between hosts. */
export interface SharedBan {
  /** Canonical address or CIDR prefix. */
  ip: string;
  jail: string;
  /** The host that banned it, one topic level. */
  origin: string;
  /** Seconds, -1 for ever (the origin's whole ban, not the time left). */
  bantime: number;
  /** Epoch ms, null for ever. */
  until: number | null;
}

/** What goes to `mqtt out`: the MQTT topic, the payload ('' clears a retained ban) and the expiry. */
export interface Publication {
  topic: string;
  payload: string;
  /** Seconds the broker keeps the message; absent for a ban for ever and for an unban. */
  expiry?: number;
}

/** What came from `mqtt in`, read and checked against its topic. */
export type Received =
  | { kind: 'ban'; ban: SharedBan; address: Address; /** seconds left, -1 for ever, <= 0 over */ left: number }
  | { kind: 'unban'; origin: string; jail: string; ip: string; address: Address };

/** A message that is not a ban of this wire format, or whose parts disagree: refused whole. */
export class WireError extends Error {}

/** The longest payload read; a ban is about 150 bytes. */
export const MAX_PAYLOAD = 1024;

/** Why `text` cannot be one MQTT topic level of ours (origin, jail), or null. */
export function topicLevelProblem(text: string, what: string): string | null {
  if (text === '') return `${what} is empty`;
  if (text.length > 128) return `${what} ${describeValue(text, 40)} is longer than 128 characters`;
  // '/' would add levels; '+' and '#' are wildcards; control characters have no place in a topic.
  // eslint-disable-next-line no-control-regex
  if (/[/+#\u0000-\u001f\u007f]/.test(text)) return `${what} ${describeValue(text, 40)} holds a character a topic level cannot ('/', '+', '#' or a control character)`;
  return null;
}

/** The prefix as configured ("fail2ban/bans", "fail2ban/bans/" the same); throws for a bad one. */
export function normalisePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, '');
  if (p === '' || p.split('/').some((level) => topicLevelProblem(level, 'a level') !== null)) {
    throw new Error(`topic prefix ${describeValue(prefix, 60)} is not a topic (levels without '+', '#' or empty ones, like fail2ban/bans)`);
  }
  return p;
}

/** The topic of a ban (its address's `/` written `_`). */
export function banTopic(prefix: string, origin: string, jail: string, ip: string): string {
  return `${prefix}/${origin}/${jail}/${ip.replace('/', '_')}`;
}

/** The subscription that takes every host's bans: `<prefix>/#`. */
export function fleetSubscription(prefix: string): string {
  return `${prefix}/#`;
}

/** Seconds left of a ban at `now`: -1 for ever, 0 or less when it is over. */
export function secondsLeft(until: number | null, now: number): number {
  return until === null ? -1 : (until - now) / 1000;
}

/** The retained message of a running ban, or null when the ban is over at `now`. */
export function banPublication(prefix: string, ban: SharedBan, now: number): Publication | null {
  const left = secondsLeft(ban.until, now);
  if (ban.until !== null && left <= 0) return null;
  const payload = JSON.stringify({ ip: ban.ip, jail: ban.jail, origin: ban.origin, bantime: ban.bantime, until: ban.until });
  const publication: Publication = { topic: banTopic(prefix, ban.origin, ban.jail, ban.ip), payload };
  if (ban.until !== null) publication.expiry = Math.max(1, Math.ceil(left));
  return publication;
}

/** The zero-length retained message that lifts a ban fleet-wide. */
export function unbanPublication(prefix: string, origin: string, jail: string, ip: string): Publication {
  return { topic: banTopic(prefix, origin, jail, ip), payload: '' };
}

/** Whether `topic` lies under `prefix` (messages elsewhere are not the fleet's). */
export function isFleetTopic(prefix: string, topic: unknown): boolean {
  return typeof topic === 'string' && topic.startsWith(`${prefix}/`);
}

function payloadText(payload: unknown): string | null {
  if (payload === undefined || payload === null) return '';
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.length > MAX_PAYLOAD ? null : payload.toString('utf8');
  return null;
}

/**
 * Reads a message from the broker: its topic `<prefix>/<origin>/<jail>/<address>` and its payload (a
 * string or Buffer as `mqtt in` gives it, or an object it parsed). Throws WireError naming what is wrong.
 */
export function readMessage(prefix: string, topic: unknown, payload: unknown, now: number): Received {
  if (!isFleetTopic(prefix, topic)) throw new WireError(`topic ${describeValue(topic)} is not under ${prefix}/`);
  const levels = (topic as string).slice(prefix.length + 1).split('/');
  if (levels.length !== 3) throw new WireError(`topic ${describeValue(topic)} is not ${prefix}/<origin>/<jail>/<address>`);
  const [origin, jail, addressLevel] = levels;
  const bad = topicLevelProblem(origin, 'origin') ?? topicLevelProblem(jail, 'jail');
  if (bad) throw new WireError(`topic ${describeValue(topic)}: ${bad}`);
  const address = parseAddressOrPrefix(addressLevel.replace('_', '/'));
  if (!address) throw new WireError(`topic ${describeValue(topic)}: ${describeValue(addressLevel)} is not an IPv4/IPv6 address or prefix`);

  let body: unknown = payload;
  const text = typeof payload === 'object' && payload !== null && !Buffer.isBuffer(payload) ? null : payloadText(payload);
  if (text === '') return { kind: 'unban', origin, jail, ip: address.text, address };
  if (text !== null) {
    if (text.length > MAX_PAYLOAD) throw new WireError(`payload of ${text.length} characters on ${describeValue(topic)}: a ban is at most ${MAX_PAYLOAD}`);
    try {
      body = JSON.parse(text);
    } catch {
      throw new WireError(`payload ${describeValue(text)} on ${describeValue(topic)} is not JSON`);
    }
  } else if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    throw new WireError(`payload ${describeValue(payload)} on ${describeValue(topic)} is not a ban`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WireError(`payload ${describeValue(body)} on ${describeValue(topic)} is not a ban object`);
  const b = body as Record<string, unknown>;
  const ip = parseAddressOrPrefix(b.ip);
  if (!ip || ip.text !== address.text) throw new WireError(`payload ip ${describeValue(b.ip)} disagrees with the topic's ${address.text}`);
  if (b.origin !== origin) throw new WireError(`payload origin ${describeValue(b.origin)} disagrees with the topic's ${describeValue(origin)}`);
  if (b.jail !== jail) throw new WireError(`payload jail ${describeValue(b.jail)} disagrees with the topic's ${describeValue(jail)}`);
  const bantime = b.bantime;
  if (typeof bantime !== 'number' || !Number.isFinite(bantime) || !(bantime > 0 || bantime === -1)) throw new WireError(`payload bantime ${describeValue(bantime)} for ${address.text} is not seconds (or -1 for ever)`);
  const until = b.until;
  if (until !== null && (typeof until !== 'number' || !Number.isFinite(until))) throw new WireError(`payload until ${describeValue(until)} for ${address.text} is not epoch milliseconds or null`);
  if ((until === null) !== (bantime === -1)) throw new WireError(`payload for ${address.text}: until ${describeValue(until)} and bantime ${bantime} disagree (null goes with -1, for ever)`);
  const ban: SharedBan = { ip: address.text, jail, origin, bantime, until: until as number | null };
  return { kind: 'ban', ban, address, left: secondsLeft(ban.until, now) };
}
