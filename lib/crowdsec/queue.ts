/**
 * The alerts waiting for the Local API: mail's outbox (lib/mail) holding PendingAlerts, posted in batches by
 * a Watcher, kept across restarts in a file under the user directory. Bounded: beyond `maxQueued` alerts
 * are only counted by jail (and said to be lost when the API comes back); alerts whose ban is over by the
 * time the API takes them are not posted.
 */
import { EventEmitter } from 'events';
import { Outbox, OutboxFile, type Batch } from '../mail';
import { alertBody, alertExpired, type PendingAlert } from './alert';
import type { Watcher } from './watcher';

export interface AlertQueueOptions {
  watcher: Watcher;
  /** Where the queue is kept; null keeps it in memory only. */
  file: string | null;
  /** Alerts kept at most (default 10,000). */
  maxQueued?: number;
  /** Seconds to gather alerts into one POST (default 1). */
  batchSeconds?: number;
  /** First retry delay (ms) after a failure, doubled up to maxRetryMs (default 1 s and 30 s). */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Emits 'posted' (count), 'failed' (err, retryInMs), 'lost' (count per jail, alerts beyond the bound) and
 * 'change'.
 */
export class AlertQueue extends EventEmitter {
  private readonly outbox: Outbox<PendingAlert>;
  private readonly store: OutboxFile<PendingAlert> | null;
  posted = 0;
  lost = 0;

  constructor(options: AlertQueueOptions) {
    super();
    this.store = options.file ? new OutboxFile<PendingAlert>(options.file, 200, 'CrowdSec alert queue') : null;
    this.outbox = new Outbox<PendingAlert>({
      digest: options.batchSeconds ?? 1,
      maxPerHour: Number.MAX_SAFE_INTEGER,
      maxQueued: options.maxQueued ?? 10_000,
      keyOf: (a) => a.jail,
      retryMs: options.retryMs ?? 1000,
      maxRetryMs: options.maxRetryMs ?? 30_000,
      send: (batch) => this.post(options.watcher, batch),
    });
    this.outbox.on('failed', (err: Error, _batch: unknown, delay: number) => this.emit('failed', err, delay));
    this.outbox.on('change', () => {
      this.store?.saveSoon(() => ({ ...this.outbox.snapshot(), sent: [] }));
      this.emit('change');
    });
  }

  /** Puts back what was saved (before anything is added). */
  load(): void {
    const saved = this.store?.load();
    if (saved) this.outbox.restore({ items: saved.items, more: saved.more });
  }

  private async post(watcher: Watcher, batch: Batch<PendingAlert>): Promise<void> {
    const now = Date.now();
    const live = batch.items.filter((a) => !alertExpired(a, now));
    if (live.length) await watcher.postAlerts(live.map((a) => alertBody(a, now)));
    this.posted += live.length;
    const lost = Object.values(batch.more).reduce((a, b) => a + b, 0);
    if (lost) {
      this.lost += lost;
      this.emit('lost', batch.more);
    }
    this.emit('posted', live.length);
  }

  add(alert: PendingAlert): void {
    this.outbox.add(alert);
  }

  /** Alerts waiting (the batch being posted included). */
  get waiting(): number {
    return this.outbox.queued;
  }

  /** When the next try is due after a failure (epoch ms); 0 when none failed. */
  get retryAt(): number {
    return this.outbox.retryAt;
  }

  /** Stops posting and saves what waits. */
  async close(): Promise<void> {
    await this.outbox.close();
    if (this.store) {
      this.store.saveSoon(() => ({ ...this.outbox.snapshot(), sent: [] }));
      this.store.flush();
    }
  }
}
