/** The ban ledger: what is banned until when, written to disk before the firewall is touched. */
import { readFileSync, rmSync } from 'fs';
import { writeTextDurably } from '../durable-file';

export interface BanRecord {
  ip: string;
  jail: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms, null for ever. */
  until: number | null;
  /** Seconds, -1 for ever. */
  bantime: number;
  failures?: number;
  matches?: string[];
  banCount?: number;
  reason?: string;
}

export class Ledger {
  private readonly bans = new Map<string, BanRecord>();

  /** `file` null keeps the ledger in memory only (persist off). */
  constructor(private readonly file: string | null) {}

  /** Reads the ledger file; a missing file is an empty ledger, a damaged one an error that names it. */
  load(): void {
    if (!this.file) return;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let doc: { bans?: BanRecord[] };
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new Error(`ban ledger ${this.file} is damaged (${(err as Error).message}); move it aside to start afresh`);
    }
    for (const rec of doc.bans ?? []) this.bans.set(rec.ip, rec);
  }

  get(ip: string): BanRecord | undefined {
    return this.bans.get(ip);
  }

  all(): BanRecord[] {
    return [...this.bans.values()];
  }

  get size(): number {
    return this.bans.size;
  }

  /** Records bans and writes the file (durably) before returning. */
  put(records: BanRecord[]): void {
    for (const r of records) this.bans.set(r.ip, r);
    this.save();
  }

  remove(ips: string[]): void {
    let changed = false;
    for (const ip of ips) changed = this.bans.delete(ip) || changed;
    if (changed) this.save();
  }

  /** Forgets every ban and deletes the file: for a node deleted from the flows, whose bans were lifted. */
  discard(): void {
    this.bans.clear();
    if (!this.file) return;
    rmSync(this.file, { force: true });
    rmSync(`${this.file}.tmp`, { force: true });
  }

  /** Writes to a temporary file, flushes it, and renames it over the ledger: a crash leaves one or the other. */
  save(): void {
    if (!this.file) return;
    writeTextDurably(this.file, JSON.stringify({ version: 1, bans: this.all() }));
  }

}
