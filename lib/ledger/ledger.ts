/** The ban ledger: what is banned until when, written to disk before the firewall is touched. */
import { closeSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from 'fs';
import { syncDirectory, writeTextDurably } from '../durable-file';

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
  /** The fleet host a ban came from (ban-share); absent for this host's own bans. */
  origin?: string;
}

/** A journal this much larger than the snapshot (and at least this size) is folded into a new snapshot. */
const MIN_COMPACT_BYTES = 64 * 1024;

/** A journal line: a ban recorded (`p`, the whole record) or lifted (`d`, its address). */
type JournalRecord = { p: BanRecord } | { d: string };

/**
 * The bans are kept in `file` (a snapshot, `{version, bans}`) and `file.journal`, where each change is
 * appended and flushed: a ban costs one short write whatever the number of bans held, where rewriting
 * the whole file cost 20 ms and more with 10,000 held. When the journal has grown past the snapshot, a
 * new snapshot is written durably and the journal deleted; should a crash come between the two, the
 * journal is read again over the new snapshot, which changes nothing (each line sets a ban's whole state).
 */
export class Ledger {
  private readonly bans = new Map<string, BanRecord>();
  private snapshotBytes = 0;
  private journalBytes = 0;
  private snapshotExists = false;

  /** `file` null keeps the ledger in memory only (persist off). */
  constructor(private readonly file: string | null) {}

  private get journal(): string {
    return `${this.file}.journal`;
  }

  /**
   * Reads the snapshot, then the journal over it; missing files are an empty ledger, a damaged snapshot
   * an error that names it. A journal line cut short by a crash is skipped (and the journal folded away).
   */
  load(): void {
    if (!this.file) return;
    const text = readIfThere(this.file);
    if (text !== null) {
      let doc: { bans?: BanRecord[] };
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new Error(`ban ledger ${this.file} is damaged (${(err as Error).message}); move it aside to start afresh`);
      }
      for (const rec of doc.bans ?? []) this.bans.set(rec.ip, rec);
      this.snapshotBytes = Buffer.byteLength(text);
      this.snapshotExists = true;
    }
    const journal = readIfThere(this.journal);
    if (journal === null) return;
    this.journalBytes = Buffer.byteLength(journal);
    let torn = !journal.endsWith('\n') && journal.length > 0;
    for (const line of journal.split('\n')) {
      if (!line) continue;
      let rec: JournalRecord;
      try {
        rec = JSON.parse(line);
      } catch {
        torn = true;
        continue;
      }
      if (!rec || typeof rec !== 'object') continue;
      if ('p' in rec && rec.p && typeof rec.p.ip === 'string') this.bans.set(rec.p.ip, rec.p);
      else if ('d' in rec && typeof rec.d === 'string') this.bans.delete(rec.d);
    }
    // A line cut short would run into the next one appended: start from a clean snapshot instead.
    if (torn) this.save();
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

  /** Records bans, on disk (flushed) before returning. */
  put(records: BanRecord[]): void {
    for (const r of records) this.bans.set(r.ip, r);
    this.append(records.map((p) => `${JSON.stringify({ p })}\n`).join(''));
  }

  remove(ips: string[]): void {
    const gone = ips.filter((ip) => this.bans.delete(ip));
    if (gone.length) this.append(gone.map((d) => `${JSON.stringify({ d })}\n`).join(''));
  }

  /** Forgets every ban and deletes the files: for a node deleted from the flows, whose bans were lifted. */
  discard(): void {
    this.bans.clear();
    if (!this.file) return;
    for (const f of [this.file, `${this.file}.tmp`, this.journal]) rmSync(f, { force: true });
    this.snapshotExists = false;
    this.snapshotBytes = this.journalBytes = 0;
  }

  /** Writes a new snapshot of every ban (temporary file, flush, rename), then deletes the journal. */
  save(): void {
    if (!this.file) return;
    const text = JSON.stringify({ version: 1, bans: this.all() });
    writeTextDurably(this.file, text);
    rmSync(this.journal, { force: true });
    this.snapshotExists = true;
    this.snapshotBytes = Buffer.byteLength(text);
    this.journalBytes = 0;
  }

  private append(text: string): void {
    if (!this.file) return;
    if (!this.snapshotExists || this.journalBytes + text.length > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes)) return this.save();
    const created = this.journalBytes === 0;
    const fd = openSync(this.journal, 'a', 0o600);
    try {
      writeSync(fd, text);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) syncDirectory(this.journal);
    this.journalBytes += Buffer.byteLength(text);
  }
}

function readIfThere(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
