/**
 * What a host takes from the fleet (SPEC.md, "ban-share"): never its own messages, only shared jails,
 * only an address that parses and is no wider than firewall-ban bans, never one of this host's own
 * addresses nor one in `ignoreip`, for the time left and at most `maxBantime`, and at most
 * `maxPerMinute` bans of one origin in a minute. Everything else is refused, with the reason.
 */
import { tooWideToBan, type Address } from '../ip';
import { selfConflict } from '../firewall/self';
import type { SharedBan } from './wire';

export interface GuardOptions {
  /** This host's name in the fleet. */
  origin: string;
  /** Jails shared (published and taken); empty: all. */
  jails: string[];
  /** ignoreip: addresses and prefixes never taken. */
  ignore: { has(address: Address): boolean };
  /** Longest ban taken, seconds; -1: no limit. */
  maxBantime: number;
  /** Bans taken from one origin in a minute. */
  maxPerMinute: number;
  /** Why an address is this machine's own (default: loopback and the interfaces' addresses), or null. */
  self?: (address: Address) => string | null;
}

/** A ban from the fleet this host will not apply, and why. */
export class Refusal extends Error {}

/** Per origin, when the bans taken in the last minute were taken (a sliding window). */
export class OriginRate {
  private readonly taken = new Map<string, number[]>();

  constructor(private readonly perMinute: number) {}

  /** Takes one more for `origin` at `now` if the minute allows it. */
  take(origin: string, now: number): boolean {
    const cutoff = now - 60_000;
    let times = this.taken.get(origin);
    if (!times) {
      // Names of origins are the publishers' choice: forget those quiet for a minute.
      if (this.taken.size >= 1000) for (const [o, t] of this.taken) if (t[t.length - 1] <= cutoff) this.taken.delete(o);
      times = [];
      this.taken.set(origin, times);
    }
    let first = 0;
    while (first < times.length && times[first] <= cutoff) first++;
    if (first) times.splice(0, first);
    if (times.length >= this.perMinute) return false;
    times.push(now);
    return true;
  }
}

export class ShareGuard {
  private readonly jails: Set<string> | null;
  private readonly rate: OriginRate;

  constructor(private readonly options: GuardOptions) {
    this.jails = options.jails.length ? new Set(options.jails) : null;
    this.rate = new OriginRate(options.maxPerMinute);
  }

  /** Whether `jail` is shared (its bans published, others' taken). */
  shares(jail: string): boolean {
    return this.jails === null || this.jails.has(jail);
  }

  /** Whether a message under `origin` is this host's own (never applied). */
  isOwn(origin: string): boolean {
    return origin === this.options.origin;
  }

  /**
   * The ban time to apply for `ban` (seconds; -1 for ever), `left` seconds before it ends; throws a
   * Refusal. The per-origin count is taken last, so a refused ban never uses up the minute.
   */
  check(ban: SharedBan, address: Address, left: number, now: number): number {
    const from = `${address.text} from ${ban.origin} (jail ${ban.jail})`;
    if (this.isOwn(ban.origin)) throw new Refusal(`${from}: this host's own ban`);
    if (!this.shares(ban.jail)) throw new Refusal(`${from}: jail ${ban.jail} is not shared here`);
    const wide = tooWideToBan(address);
    if (wide) throw new Refusal(`${from}: ${wide}`);
    const self = (this.options.self ?? selfConflict)(address);
    if (self) throw new Refusal(`${from}: ${self}`);
    if (this.options.ignore.has(address)) throw new Refusal(`${from}: in ignoreip`);
    if (left !== -1 && left <= 0) throw new Refusal(`${from}: the ban is over`);
    const max = this.options.maxBantime;
    const bantime = max === -1 ? left : left === -1 ? max : Math.min(left, max);
    if (!this.rate.take(ban.origin, now)) throw new Refusal(`${from}: more than ${this.options.maxPerMinute} bans from ${ban.origin} in a minute (maxPerMinute)`);
    return bantime;
  }
}

/**
 * Which host each ban this host holds came from, as firewall-ban's events tell (null: this host's own).
 * An unban from the fleet lifts only a ban that came from the same origin, never one of this host's own.
 */
export class HeldBans {
  private readonly held = new Map<string, { origin: string | null; until: number | null }>();

  /** Follows a firewall-ban event (ban, restore, repair, unban). */
  follow(event: { event: string; ip: string; origin?: unknown; until: number | null }): void {
    if (event.event === 'unban') this.held.delete(event.ip);
    else if (event.event === 'ban' || event.event === 'restore' || event.event === 'repair') {
      this.held.set(event.ip, { origin: typeof event.origin === 'string' ? event.origin : null, until: event.until });
    }
  }

  /** Records a ban handed to firewall-ban before its event comes back. */
  applied(ip: string, origin: string, until: number | null): void {
    this.held.set(ip, { origin, until });
  }

  originOf(ip: string): string | null | undefined {
    return this.held.get(ip)?.origin;
  }

  /**
   * Whether `ip` is held from `origin` until `until` already (within 2 s): the retained message of a ban
   * taken before, seen again when the connection to the broker comes back.
   */
  covers(ip: string, origin: string, until: number | null): boolean {
    const h = this.held.get(ip);
    if (h === undefined || h.origin !== origin) return false;
    return h.until === null || (until !== null && h.until >= until - 2000);
  }

  /** The bans held from other hosts. */
  fromFleet(): Array<{ ip: string; origin: string }> {
    const out: Array<{ ip: string; origin: string }> = [];
    for (const [ip, h] of this.held) if (h.origin !== null) out.push({ ip, origin: h.origin });
    return out;
  }

  /** Whether this host banned `ip` itself (a ban from the fleet must not take it over). */
  ownBan(ip: string): boolean {
    const h = this.held.get(ip);
    return h !== undefined && h.origin === null;
  }
}
