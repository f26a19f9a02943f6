/**
 * The outbox: mails wait here until the SMTP server takes them, with back-off between tries,
 * a digest window, an hourly cap, and a bound on what is kept.
 */
import { EventEmitter } from 'events';

export interface OutboxOptions<T> {
  /** Seconds to collect items into one mail; 0 sends each at once. */
  digest: number;
  maxPerHour: number;
  /** Items kept at most while the server is down; the oldest are dropped (and reported) beyond. */
  maxQueued: number;
  /** Sends one mail made of `items`; rejects when the server did not take it. */
  send: (items: T[]) => Promise<void>;
  /** First retry delay (ms), doubled per failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Emits 'sent' (items), 'failed' (err, items), 'dropped' (count). */
export class Outbox<T> extends EventEmitter {
  private waiting: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private retryDelay: number;
  private readonly sentTimes: number[] = [];
  private closed = false;
  /** How long a new item waits for others to join it in one mail. */
  private readonly collectMs: number;
  private readonly firstRetryMs: number;

  constructor(private readonly options: OutboxOptions<T>) {
    super();
    this.collectMs = options.digest > 0 ? options.digest * 1000 : 0;
    this.firstRetryMs = options.retryMs ?? 5000;
    this.retryDelay = this.firstRetryMs;
  }

  get queued(): number {
    return this.waiting.length;
  }

  add(item: T): void {
    this.waiting.push(item);
    if (this.waiting.length > this.options.maxQueued) {
      const over = this.waiting.length - this.options.maxQueued;
      this.waiting.splice(0, over);
      this.emit('dropped', over);
    }
    this.schedule(this.collectMs);
  }

  private schedule(ms: number): void {
    if (this.timer || this.sending || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  /** Mails left this hour under the cap. */
  private budget(now: number): number {
    while (this.sentTimes.length && this.sentTimes[0] <= now - 3600_000) this.sentTimes.shift();
    return this.options.maxPerHour - this.sentTimes.length;
  }

  private async flush(): Promise<void> {
    if (this.sending || this.waiting.length === 0 || this.closed) return;
    const now = Date.now();
    if (this.budget(now) <= 0) {
      // Over the cap: what waits goes out as one digest when the hour allows again.
      this.schedule(this.sentTimes[0] + 3600_000 - now + 10);
      return;
    }
    // With a digest, or when only one mail is left this hour, everything waiting goes in one mail.
    const batch = this.options.digest > 0 || this.budget(now) === 1 ? this.waiting.splice(0) : this.waiting.splice(0, 1);
    this.sending = true;
    try {
      await this.options.send(batch);
      this.sentTimes.push(Date.now());
      this.retryDelay = this.firstRetryMs;
      this.emit('sent', batch);
    } catch (err) {
      this.waiting.unshift(...batch);
      this.emit('failed', err, batch);
      this.sending = false;
      this.schedule(this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, this.options.maxRetryMs ?? 300_000);
      return;
    }
    this.sending = false;
    if (this.waiting.length) this.schedule(this.collectMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
