/**
 * The outbox: mails wait here until the SMTP server takes them, with back-off between tries,
 * a digest window, an hourly cap, and a bound on what is kept in full. Nothing is dropped: beyond
 * the bound, events are still counted (per key, e.g. jail and event) and the next mail says so.
 */
import { EventEmitter } from 'events';

export interface OutboxOptions<T> {
  /** Seconds to collect items into one mail; 0 sends each at once. */
  digest: number;
  /** Mails at most in any hour (a sliding window). */
  maxPerHour: number;
  /** Items kept in full at most; beyond, items are only counted by `keyOf`. */
  maxQueued: number;
  /** Sends one mail made of `batch`; rejects when the server did not take it. */
  send: (batch: Batch<T>) => Promise<void>;
  /** What an item counts as when it is kept only as a number (default: "event"). */
  keyOf?: (item: T) => string;
  /** First retry delay (ms), doubled per failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Length of the "hour" of maxPerHour (ms); tests shorten it. */
  hourMs?: number;
}

/** What one mail carries: items in full, and counts of the items that were kept only as numbers. */
export interface Batch<T> {
  items: T[];
  /** Count of further items per key (the outbox was full when they came). */
  more: Record<string, number>;
}

/** The outbox's state as it is saved across restarts. */
export interface OutboxState<T> {
  items: T[];
  more: Record<string, number>;
  /** Epoch ms of the mails sent within the last hour, for the cap. */
  sent: number[];
}

/** Number of items a batch stands for. */
export function batchSize(batch: Batch<unknown>): number {
  return batch.items.length + Object.values(batch.more).reduce((a, b) => a + b, 0);
}

/**
 * Emits 'sent' (batch), 'failed' (err, batch, retryInMs), 'overflow' (count so far, once per
 * overflow spell), and 'change' whenever what waits changes (to save it).
 */
export class Outbox<T> extends EventEmitter {
  private waiting: T[] = [];
  private more: Record<string, number> = {};
  private inFlight: Batch<T> | null = null;
  private inFlightDone: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private sentTimes: number[] = [];
  private closed = false;
  private overflowing = false;
  /** When the next try is due after a failure (epoch ms), 0 when none failed. */
  retryAt = 0;
  /** How long a new item waits for others to join it in one mail. */
  private readonly collectMs: number;
  private readonly firstRetryMs: number;
  private readonly hourMs: number;

  constructor(private readonly options: OutboxOptions<T>) {
    super();
    this.collectMs = options.digest > 0 ? options.digest * 1000 : 0;
    this.firstRetryMs = options.retryMs ?? 5000;
    this.retryDelay = this.firstRetryMs;
    this.hourMs = options.hourMs ?? 3600_000;
  }

  /** Items waiting (in full or counted), the one being sent included. */
  get queued(): number {
    return batchSize({ items: this.waiting, more: this.more }) + (this.inFlight ? batchSize(this.inFlight) : 0);
  }

  /** Mails sent within the last hour. */
  get sentThisHour(): number {
    this.budget(Date.now());
    return this.sentTimes.length;
  }

  add(item: T): void {
    if (this.waiting.length < this.options.maxQueued) {
      this.waiting.push(item);
    } else {
      const key = this.options.keyOf?.(item) ?? 'event';
      this.more[key] = (this.more[key] ?? 0) + 1;
      if (!this.overflowing) {
        this.overflowing = true;
        this.emit('overflow', this.options.maxQueued);
      }
    }
    this.emit('change');
    this.schedule(this.collectMs);
  }

  /** What waits (and what is being sent) and the recent sending times, to save. */
  snapshot(): OutboxState<T> {
    const items = [...(this.inFlight?.items ?? []), ...this.waiting];
    const more = { ...this.more };
    for (const [k, n] of Object.entries(this.inFlight?.more ?? {})) more[k] = (more[k] ?? 0) + n;
    this.budget(Date.now());
    return { items, more, sent: [...this.sentTimes] };
  }

  /** Puts back a saved state (before anything is added). */
  restore(state: Partial<OutboxState<T>>): void {
    const now = Date.now();
    this.sentTimes = (state.sent ?? []).filter((t) => typeof t === 'number' && t > now - this.hourMs && t <= now).sort((a, b) => a - b);
    for (const [k, n] of Object.entries(state.more ?? {})) if (Number.isInteger(n) && n > 0) this.more[k] = (this.more[k] ?? 0) + n;
    for (const item of state.items ?? []) this.add(item);
    if (this.queued) this.schedule(this.collectMs);
  }

  private schedule(ms: number): void {
    if (this.timer || this.inFlight || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  /** Mails left this hour under the cap. */
  private budget(now: number): number {
    while (this.sentTimes.length && this.sentTimes[0] <= now - this.hourMs) this.sentTimes.shift();
    return this.options.maxPerHour - this.sentTimes.length;
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.closed || (this.waiting.length === 0 && batchSize({ items: [], more: this.more }) === 0)) return;
    const now = Date.now();
    const budget = this.budget(now);
    if (budget <= 0) {
      // Over the cap: what waits goes out as one digest when the hour allows again.
      this.schedule(this.sentTimes[0] + this.hourMs - now + 10);
      return;
    }
    // With a digest, when only one mail is left this hour, or when events were counted only,
    // everything waiting goes in one mail.
    const all = this.options.digest > 0 || budget === 1 || Object.keys(this.more).length > 0;
    const batch: Batch<T> = all ? { items: this.waiting.splice(0), more: this.more } : { items: this.waiting.splice(0, 1), more: {} };
    if (all) {
      this.more = {};
      this.overflowing = false;
    }
    this.inFlight = batch;
    let finished!: () => void;
    this.inFlightDone = new Promise<void>((r) => (finished = r));
    try {
      await this.options.send(batch);
      this.sentTimes.push(Date.now());
      this.retryDelay = this.firstRetryMs;
      this.retryAt = 0;
      this.inFlight = null;
      this.emit('change');
      this.emit('sent', batch);
    } catch (err) {
      // Back in front, in the order they came.
      this.inFlight = null;
      this.waiting.unshift(...batch.items);
      for (const [k, n] of Object.entries(batch.more)) this.more[k] = (this.more[k] ?? 0) + n;
      const delay = this.retryDelay;
      this.retryDelay = Math.min(this.retryDelay * 2, this.options.maxRetryMs ?? 300_000);
      this.retryAt = Date.now() + delay;
      this.schedule(delay);
      this.emit('failed', err, batch, delay);
      return;
    } finally {
      finished();
      this.inFlightDone = null;
    }
    if (this.queued) this.schedule(this.collectMs);
  }

  /** Stops sending; resolves once a mail being sent has gone (or failed), waiting at most `waitMs`. */
  async close(waitMs = 5000): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlightDone) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.inFlightDone, new Promise<void>((r) => (t = setTimeout(r, waitMs)))]);
      clearTimeout(t);
    }
  }
}
