/** Per-offender failure windows: fail2ban's maxretry within findtime, and the ban decision. */

export interface WindowPolicy {
  maxretry: number;
  /** Seconds. */
  findtime: number;
  /** Seconds, -1 for ever. */
  bantime: number;
  /** Offenders kept at most; the ones closest to expiry are dropped first. */
  maxEntries: number;
}

export interface Decision {
  key: string;
  /** Seconds, -1 for ever. */
  bantime: number;
  failures: number;
  matches: string[];
  banCount: number;
  /** Epoch ms of the failure that triggered it. */
  time: number;
}

interface Offender {
  /** Epoch ms of each failure still in the window, oldest first. */
  times: number[];
  lines: string[];
}

export class FailureWindows {
  private readonly offenders = new Map<string, Offender>();
  private readonly banCounts = new Map<string, number>();
  /** Offenders dropped because maxEntries was reached. */
  evicted = 0;

  constructor(readonly policy: WindowPolicy) {
    if (!Number.isInteger(policy.maxretry) || policy.maxretry < 1) throw new Error(`maxretry must be a whole number of at least 1 (got ${policy.maxretry})`);
    if (!(policy.findtime > 0)) throw new Error(`findtime must be positive (got ${policy.findtime})`);
  }

  /** Offenders with failures in their window. */
  get size(): number {
    return this.offenders.size;
  }

  /**
   * Counts a failure of `key` at `time` (epoch ms). Returns a ban decision when it is the maxretry-th
   * failure within findtime. A failure older than findtime before `now` is not counted: a replayed
   * old log does not ban today.
   */
  add(key: string, time: number, line: string | undefined, now = Date.now()): Decision | null {
    const findtimeMs = this.policy.findtime * 1000;
    if (time < now - findtimeMs) return null;
    let offender = this.offenders.get(key);
    if (offender) {
      // Keep the map ordered by latest failure, so the front is always the next to expire.
      this.offenders.delete(key);
      this.offenders.set(key, offender);
    } else {
      if (this.offenders.size >= this.policy.maxEntries) this.evict(now);
      offender = { times: [], lines: [] };
      this.offenders.set(key, offender);
    }
    offender.times.push(time);
    offender.lines.push(line ?? '');
    // Failures may come slightly out of order (several files): keep the window sorted by time.
    if (offender.times.length > 1 && offender.times[offender.times.length - 2] > time) {
      const pairs = offender.times.map((t, i) => [t, offender!.lines[i]] as const).sort((a, b) => a[0] - b[0]);
      offender.times = pairs.map((p) => p[0]);
      offender.lines = pairs.map((p) => p[1]);
    }
    const newest = offender.times[offender.times.length - 1];
    while (offender.times.length && offender.times[0] <= newest - findtimeMs) {
      offender.times.shift();
      offender.lines.shift();
    }
    if (offender.times.length < this.policy.maxretry) return null;

    this.offenders.delete(key);
    const banCount = (this.banCounts.get(key) ?? 0) + 1;
    this.banCounts.set(key, banCount);
    return {
      key,
      bantime: this.policy.bantime,
      failures: offender.times.length,
      matches: offender.lines.filter((l) => l !== ''),
      banCount,
      time,
    };
  }

  /** Drops offenders whose newest failure left the window. */
  expire(now = Date.now()): number {
    const horizon = now - this.policy.findtime * 1000;
    let dropped = 0;
    for (const [key, offender] of this.offenders) {
      if (offender.times[offender.times.length - 1] > horizon) break;
      this.offenders.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** Makes room: first what has expired, then the offender whose window ends soonest (the map's front). */
  private evict(now: number): void {
    if (this.expire(now) > 0) return;
    const victim = this.offenders.keys().next();
    if (!victim.done) {
      this.offenders.delete(victim.value);
      this.evicted++;
    }
  }

  /** Forgets one offender's failures (e.g. after a manual unban). */
  forget(key: string): void {
    this.offenders.delete(key);
  }
}
