/**
 * Node-RED's core `mqtt out` drops what it is given while the broker is unreachable, so ban-share keeps
 * what it published lately and publishes it again when the connection is back. It learns the
 * connection's state from the status of the `mqtt in` (or `mqtt out`) node, which a Status node hands
 * it: "connected" is up, "connecting" and "disconnected" are down.
 *
 * A broker that vanishes without closing the connection is only noticed when the MQTT keep-alive runs
 * out (1.5 times 60 s by default), and what was published in that time is lost as well: so what changed
 * in the last RESEND_WINDOW_MS before the connection went down is published again too. One entry per
 * topic, the latest change, so a long outage holds at most one entry per ban.
 */
import { banPublication, unbanPublication, type Publication, type SharedBan } from './wire';

export type LinkState = 'unknown' | 'up' | 'down';

/** Longer than MQTT's default keep-alive (60 s) times 1.5, the longest a dead connection goes unnoticed. */
export const RESEND_WINDOW_MS = 120_000;

/** The connection state a Status node's `msg.status` tells, or null when it is not an MQTT node's. */
export function linkStateOf(status: unknown): 'up' | 'down' | null {
  if (typeof status !== 'object' || status === null) return null;
  const s = status as { text?: unknown; source?: { type?: unknown } };
  if (s.source && typeof s.source.type === 'string' && !s.source.type.startsWith('mqtt')) return null;
  if (typeof s.text !== 'string') return null;
  // Node-RED hands on the message key ("node-red:common.status.connected"), or its English text.
  const word = s.text.slice(s.text.lastIndexOf('.') + 1).trim().toLowerCase();
  if (word === 'connected') return 'up';
  if (word === 'disconnected' || word === 'connecting') return 'down';
  return null;
}

type Change = { ban: SharedBan; at: number } | { unban: { origin: string; jail: string; ip: string }; at: number };

export class BrokerLink {
  state: LinkState = 'unknown';
  private readonly changes = new Map<string, Change>();

  constructor(
    private readonly prefix: string,
    private readonly windowMs = RESEND_WINDOW_MS,
  ) {}

  /** Remembers a ban published now. */
  banned(topic: string, ban: SharedBan, now: number): void {
    this.remember(topic, { ban, at: now }, now);
  }

  /** Remembers an unban published now. */
  unbanned(topic: string, unban: { origin: string; jail: string; ip: string }, now: number): void {
    this.remember(topic, { unban, at: now }, now);
  }

  /** How many changes wait to be published again (while the broker is away). */
  get waiting(): number {
    return this.changes.size;
  }

  private remember(topic: string, change: Change, now: number): void {
    // Re-inserted, so the map stays in order of time and pruning stops at the first recent entry.
    this.changes.delete(topic);
    this.changes.set(topic, change);
    if (this.state !== 'down') this.prune(now);
  }

  private prune(now: number): void {
    for (const [topic, c] of this.changes) {
      if (c.at > now - this.windowMs) break;
      this.changes.delete(topic);
    }
  }

  /**
   * Follows the connection's state; when it comes up after being down (or at the first "connected"),
   * returns what to publish again, bans with the time they have left (those over are left out).
   */
  status(state: 'up' | 'down', now: number): Publication[] {
    const before = this.state;
    if (state === 'down') {
      if (before !== 'down') this.prune(now);
      this.state = 'down';
      return [];
    }
    this.state = 'up';
    if (before === 'up') return [];
    const out: Publication[] = [];
    for (const c of this.changes.values()) {
      const p = 'ban' in c ? banPublication(this.prefix, c.ban, now) : unbanPublication(this.prefix, c.unban.origin, c.unban.jail, c.unban.ip);
      if (p) out.push(p);
    }
    this.prune(now);
    return out;
  }
}
