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
  /**
   * Offenders in the order of their newest failure, oldest first: the next to expire or to evict.
   * Entries go stale when the offender fails again or is dropped; they are skipped when reached.
   * (Deleting from the front of a Map and asking for its first key is O(deleted) in V8, hence this.)
   */
  private order: Array<{ key: string; newest: number }> = [];
  private head = 0;
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
    if (!offender) {
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
    if (offender.times.length < this.policy.maxretry) {
      this.order.push({ key, newest });
      this.compactIfSparse();
      return null;
    }

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
    for (let entry = this.front(); entry && entry.newest <= horizon; entry = this.front()) {
      this.offenders.delete(entry.key);
      this.head++;
      dropped++;
    }
    return dropped;
  }

  /** The first entry of `order` that is still current, skipping stale ones. */
  private front(): { key: string; newest: number } | undefined {
    while (this.head < this.order.length) {
      const entry = this.order[this.head];
      if (this.isCurrent(entry)) return entry;
      this.head++;
    }
    if (this.head > 0) {
      this.order = [];
      this.head = 0;
    }
    return undefined;
  }

  /** An `order` entry is current while its offender is kept and has not failed again since. */
  private isCurrent(entry: { key: string; newest: number }): boolean {
    const offender = this.offenders.get(entry.key);
    return offender !== undefined && offender.times[offender.times.length - 1] === entry.newest;
  }

  /**
   * Drops the consumed front and the stale entries of `order` once they outweigh the live ones,
   * so that it stays within a small multiple of the offenders (amortised O(1) per failure).
   */
  private compactIfSparse(): void {
    const consumed = this.head > 4096 && this.head * 2 > this.order.length;
    const stale = this.order.length - this.head > 2 * this.offenders.size + 4096;
    if (!consumed && !stale) return;
    this.order = this.order.slice(this.head).filter((e) => this.isCurrent(e));
    this.head = 0;
  }

  /** Makes room: first what has expired, then the offender whose window ends soonest. */
  private evict(now: number): void {
    if (this.expire(now) > 0) return;
    const victim = this.front();
    if (victim) {
      this.offenders.delete(victim.key);
      this.head++;
      this.evicted++;
    }
  }

  /** Forgets one offender's failures (e.g. after a manual unban). */
  forget(key: string): void {
    this.offenders.delete(key);
  }
}
