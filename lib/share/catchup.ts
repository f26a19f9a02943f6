/**
 * An unban is a zero-length retained message: it deletes the ban on the broker and reaches only the hosts
 * connected at that moment. A host that was away (stopped, or cut off with the broker) would keep such a
 * ban until it ends. So when the connection comes up, the retained messages the broker delivers are taken
 * as the fleet's running bans: once they have stopped coming, a ban held from a host that no longer
 * publishes it is lifted. Only for origins the broker delivered at least one ban of: a broker that lost its
 * store (no persistence) delivers nothing, and lifts nothing.
 */
export const CATCH_UP_QUIET_MS = 5000;
export const CATCH_UP_MAX_MS = 60_000;

export class CatchUp {
  private readonly seen = new Set<string>();
  private readonly origins = new Set<string>();
  private last: number;

  constructor(
    private readonly start: number,
    private readonly quietMs = CATCH_UP_QUIET_MS,
    private readonly maxMs = CATCH_UP_MAX_MS,
  ) {
    this.last = start;
  }

  /** A ban the broker delivered (any host's, taken or not). */
  saw(origin: string, ip: string, now: number): void {
    this.seen.add(`${origin} ${ip}`);
    this.origins.add(origin);
    this.last = now;
  }

  /** Whether the retained messages have stopped coming (quiet for a while), or it has waited long enough. */
  due(now: number): boolean {
    return now - this.last >= this.quietMs || now - this.start >= this.maxMs;
  }

  /** Of the bans held from other hosts, those their origin no longer publishes. */
  stale(held: Array<{ ip: string; origin: string }>): Array<{ ip: string; origin: string }> {
    return held.filter((h) => this.origins.has(h.origin) && !this.seen.has(`${h.origin} ${h.ip}`));
  }
}
