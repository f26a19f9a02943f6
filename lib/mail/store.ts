/**
 * The outbox saved under the user directory, so that mails waiting for the SMTP server survive a
 * restart. Writes are grouped (at most one per `delayMs`) so that a storm of events is not a storm
 * of writes; each write goes to a temporary file that is renamed over the old one.
 */
import { readFileSync, rmSync } from 'fs';
import { writeTextDurably } from '../durable-file';
import type { OutboxState } from './outbox';

export class OutboxFile<T> {
  private timer: NodeJS.Timeout | null = null;
  private pending: (() => OutboxState<T>) | null = null;

  constructor(
    readonly file: string,
    private readonly delayMs = 1000,
    /** What the file holds, for the message that names a damaged one. */
    private readonly what = 'mail queue',
  ) {}

  /** The saved state; null when there is none. A damaged file is an error that names it. */
  load(): OutboxState<T> | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const doc = JSON.parse(text) as Partial<OutboxState<T>>;
      return { items: Array.isArray(doc.items) ? doc.items : [], more: doc.more && typeof doc.more === 'object' ? doc.more : {}, sent: Array.isArray(doc.sent) ? doc.sent : [] };
    } catch (err) {
      throw new Error(`saved ${this.what} ${this.file} is damaged (${(err as Error).message}); move it aside to start afresh`);
    }
  }

  /** Saves `state()` within delayMs (once, however often it is called meanwhile). */
  saveSoon(state: () => OutboxState<T>): void {
    this.pending = state;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.delayMs);
  }

  /** Saves what is pending now. Throws when the file cannot be written. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const state = this.pending;
    this.pending = null;
    if (state) this.save(state());
  }

  /** Writes the state; an empty queue with no recent mail removes the file. */
  save(state: OutboxState<T>): void {
    if (state.items.length === 0 && Object.keys(state.more).length === 0 && state.sent.length === 0) return this.remove();
    writeTextDurably(this.file, JSON.stringify({ version: 1, ...state }));
  }

  remove(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    rmSync(this.file, { force: true });
  }
}
