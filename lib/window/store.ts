/**
 * Durable window state: a snapshot (written to a temporary file, flushed and renamed over the old one)
 * plus an append-only journal of every change since, written at least every `flushMs` (250 ms), so a
 * SIGKILL loses at most that much. The journal is folded into a new snapshot once it outgrows it (so
 * the cost of snapshots stays a fraction of the cost of the journal).
 *
 * Files: `<file>` (the snapshot) and `<file>.<generation>.journal`, both one JSON value per line, read
 * line by line (so neither is ever one huge string). The snapshot's first line names the generation of
 * the journal that continues it; older journals are deleted.
 */
import { closeSync, mkdirSync, openSync, promises as fsp, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'fs';
import { writeDurably } from '../durable-file';
import { basename, dirname, join } from 'path';
import { performance } from 'perf_hooks';
import { FailureWindows, type BanHistory, type JournalRecord } from './windows';

/** A line of a snapshot or a journal: a journal record, or a whole offender (snapshot). */
type SnapshotRecord = JournalRecord | ['o', string, number[], string[], number[] | null];

export interface StoreOptions {
  /** Longest time a change waits in memory, ms. */
  flushMs?: number;
  /** The journal is folded into a snapshot once it is larger than this and than four times the snapshot. */
  compactBytes?: number;
  /** Called when a write fails (disk full, directory removed); the state stays in memory. */
  onError?: (err: Error) => void;
}

export interface LoadReport {
  offenders: number;
  bans: number;
  /** Journal lines that could not be read (a line cut short by a crash). */
  skipped: number;
  /** Set when the snapshot could not be read and was moved aside. */
  movedAside?: string;
}

/** The snapshot's first line. */
interface SnapshotHeader {
  format: 'threshold-window';
  version: 1;
  generation: number;
  savedAt: number;
}

/** Calls `fn` with each non-empty line of `buf`, decoded one at a time. */
function eachLine(buf: Buffer, fn: (line: string) => void): void {
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    if (end > start) fn(buf.toString('utf8', start, end));
    start = end + 1;
  }
}

const CHUNK = 1 << 20;
/** A compaction started by the journal's growth works for at most this long (ms) per event-loop turn. */
const SLICE_MS = 5;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The snapshot lines of a ban and of an offender. */
const banLine = (key: string, r: BanHistory) => `["b",${JSON.stringify(key)},${r.count},${r.time},${r.bantime},${r.failures}]`;
const offenderLine = (key: string, times: number[], lines: string[], weights: number[] | null) =>
  `["o",${JSON.stringify(key)},${JSON.stringify(times)},${JSON.stringify(lines)},${weights ? JSON.stringify(weights) : 'null'}]`;

/**
 * Journal records written straight into a growing byte buffer, one JSON array per line, without
 * building a string per record (cheap at a high failure rate).
 */
class RecordBuffer {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  records = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  /** Text known to be plain ASCII with nothing to escape. */
  raw(text: string): this {
    const n = text.length;
    this.reserve(n);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    this.length = at;
    return this;
  }

  /** A JSON string. */
  str(text: string): this {
    const n = text.length;
    let plain = true;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) {
        plain = false;
        break;
      }
    }
    if (!plain) {
      const quoted = JSON.stringify(text);
      this.reserve(quoted.length * 3);
      this.length += this.buf.write(quoted, this.length, 'utf8');
      return this;
    }
    this.reserve(n * 3 + 2);
    this.buf[this.length++] = 34;
    this.length += this.buf.write(text, this.length, 'utf8');
    this.buf[this.length++] = 34;
    return this;
  }

  /** A JSON number. */
  num(n: number): this {
    // Whole numbers up to 1e14 (epoch ms for millennia) are written digit by digit; others as String() has them.
    if (!(n >= 0 && n <= 1e14 && n % 1 === 0)) return this.raw(Number.isFinite(n) ? String(n) : 'null');
    this.reserve(16);
    if (n === 0) {
      this.buf[this.length++] = 48;
      return this;
    }
    let digits = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) this.buf[--at] = 48 + (m % 10);
    return this;
  }

  /** Ends a record. */
  end(): void {
    this.reserve(2);
    this.buf[this.length++] = 93; // ]
    this.buf[this.length++] = 10; // \n
    this.records++;
  }

  /** Writes everything to `fd` and empties the buffer; returns the bytes written. */
  writeTo(fd: number): number {
    let written = 0;
    while (written < this.length) written += writeSync(fd, this.buf, written, this.length - written);
    this.clear();
    return written;
  }

  clear(): void {
    this.length = 0;
    this.records = 0;
    if (this.buf.length > 4 << 20) this.buf = Buffer.allocUnsafe(1 << 16);
  }
}

export class WindowStore {
  private fd: number | null = null;
  private generation = 0;
  private readonly pending = new RecordBuffer();
  private journalBytes = 0;
  private snapshotBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;
  private readonly compactBytes: number;
  private failed = false;
  private lastFlush = 0;
  /** Generation of the snapshot on disk (journals from it on continue it). */
  private base = 0;
  /** A compaction in slices under way (see compactInSlices). */
  private compacting: { cancelled: boolean; done: Promise<void> } | null = null;
  private lastFold: Promise<void> = Promise.resolve();

  constructor(readonly file: string, private readonly windows: FailureWindows, private readonly options: StoreOptions = {}) {
    this.flushMs = options.flushMs ?? 250;
    this.compactBytes = options.compactBytes ?? 16 * 1024 * 1024;
  }

  private journalFile(generation: number): string {
    return `${this.file}.${generation}.journal`;
  }

  /** Generations of the journals beside the snapshot, ascending. */
  private journals(): number[] {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(prefix) && n.endsWith('.journal'))
      .map((n) => Number(n.slice(prefix.length, -'.journal'.length)))
      .filter((g) => Number.isInteger(g) && g >= 0)
      .sort((a, b) => a - b);
  }

  /**
   * Reads the snapshot and replays the journals into the windows, then writes a fresh snapshot and
   * starts a new journal. Call once, before the first failure.
   */
  open(now = Date.now()): LoadReport {
    const report: LoadReport = { offenders: 0, bans: 0, skipped: 0 };
    mkdirSync(dirname(this.file), { recursive: true });
    this.unlink(this.foldFile()); // left by a compaction a crash cut short
    let base = 0;
    let snapshot: Buffer | null = null;
    try {
      snapshot = readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (snapshot !== null) {
      try {
        let header: SnapshotHeader | null = null;
        eachLine(snapshot, (line) => {
          if (!header) {
            header = JSON.parse(line) as SnapshotHeader;
            if (header.format !== 'threshold-window' || header.version !== 1 || !Number.isInteger(header.generation)) throw new Error('not a threshold-window snapshot');
            return;
          }
          try {
            this.apply(JSON.parse(line) as SnapshotRecord, now);
          } catch {
            report.skipped++;
          }
        });
        if (!header) throw new Error('empty');
        base = (header as SnapshotHeader).generation;
      } catch (err) {
        const aside = `${this.file}.damaged-${now}`;
        renameSync(this.file, aside);
        report.movedAside = `${aside} (${(err as Error).message})`;
      }
    }
    const generations = this.journals();
    for (const g of generations) {
      if (g < base) continue;
      let journal: Buffer;
      try {
        journal = readFileSync(this.journalFile(g));
      } catch {
        continue;
      }
      eachLine(journal, (line) => {
        try {
          this.apply(JSON.parse(line) as SnapshotRecord, now);
        } catch {
          report.skipped++;
        }
      });
    }
    this.generation = Math.max(base, generations.length ? generations[generations.length - 1] : 0) + 1;
    this.writeSnapshot(now);
    for (const g of generations) this.unlink(this.journalFile(g));
    this.fd = openSync(this.journalFile(this.generation), 'a', 0o600);
    report.offenders = this.windows.size;
    report.bans = this.windows.banRecords;
    this.lastFlush = Date.now();
    const out = this.pending;
    this.windows.journal = {
      failure: (key, time, line, weight) => {
        out.raw('["f",').str(key).raw(',').num(time).raw(',').str(line).raw(',').num(weight).end();
        // A producer that keeps the event loop busy could starve the timer: every 1024 records the
        // clock is checked too.
        if ((out.records & 1023) === 0 && Date.now() - this.lastFlush >= this.flushMs) this.flush();
      },
      ban: (key, count, time, bantime, failures) => {
        out.raw('["b",').str(key).raw(',').num(count).raw(',').num(time).raw(',').raw(String(bantime)).raw(',').num(failures).end();
      },
      forget: (key) => {
        out.raw('["x",').str(key).end();
      },
    };
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
    return report;
  }

  private apply(record: SnapshotRecord, now: number, windows = this.windows): void {
    switch (record[0]) {
      case 'f':
        windows.restoreFailure(String(record[1]), Number(record[2]), String(record[3] ?? ''), Number(record[4]) || 1, now);
        break;
      case 'b':
        windows.restoreBan(String(record[1]), Number(record[2]), Number(record[3]), Number(record[4]), Number(record[5]) || 0, now);
        break;
      case 'x':
        windows.forget(String(record[1]));
        break;
      case 'o': {
        const [, key, times, lines, weights] = record;
        for (let i = 0; i < times.length; i++) windows.restoreFailure(String(key), Number(times[i]), String(lines[i] ?? ''), weights ? Number(weights[i]) || 1 : 1, now);
        break;
      }
      default:
        throw new Error('unknown record');
    }
  }

  /** Writes what waits in memory to the journal; folds the journal into a snapshot when it has grown. */
  flush(now = Date.now()): void {
    this.lastFlush = Date.now();
    if (this.fd === null || this.pending.length === 0) return;
    try {
      this.journalBytes += this.pending.writeTo(this.fd);
      if (this.journalBytes > this.compactBytes && this.journalBytes > 4 * this.snapshotBytes && !this.compacting) this.compactInSlices(now);
      this.failed = false;
    } catch (err) {
      // What could not be written is dropped: memory stays bounded while the disk is full.
      this.pending.clear();
      if (!this.failed) this.options.onError?.(err as Error);
      this.failed = true;
    }
  }

  /** A new snapshot of everything, written now, then a new, empty journal; the old ones are deleted. */
  compact(now = Date.now()): void {
    if (this.fd === null) return;
    this.cancelCompaction();
    this.generation++;
    this.writeSnapshot(now);
    closeSync(this.fd);
    this.fd = openSync(this.journalFile(this.generation), 'a', 0o600);
    for (const g of this.journals()) if (g < this.generation) this.unlink(this.journalFile(g));
    this.journalBytes = 0;
  }

  /** Resolves when no compaction is under way (one that was cancelled included). */
  settled(): Promise<void> {
    return this.lastFold;
  }

  /** Where a compaction in slices writes the snapshot before renaming it into place. */
  private foldFile(): string {
    return `${this.file}.compacting`;
  }

  private cancelCompaction(): void {
    if (this.compacting) this.compacting.cancelled = true;
    this.compacting = null;
  }

  /**
   * Compaction without a stall (writing the snapshot of 100,000 offenders at once takes 100 to 200 ms):
   * a new journal starts at once, and the snapshot it continues is made from the files alone (the
   * snapshot on disk and the journals before the new one, which no longer change), as a restart would
   * read them, a few milliseconds per event-loop turn, then renamed into place. Until then the old
   * snapshot and every journal since stay on disk, so a crash meanwhile loses nothing. It costs a
   * second copy of the windows in memory while it runs.
   */
  private compactInSlices(now: number): void {
    if (this.fd === null) return;
    const from = this.base;
    const target = this.generation + 1;
    closeSync(this.fd);
    this.generation = target;
    this.fd = openSync(this.journalFile(target), 'a', 0o600);
    this.journalBytes = 0;
    const job = { cancelled: false, done: Promise.resolve() };
    this.compacting = job;
    job.done = this.fold(from, target, now, job).then(
      () => undefined,
      (err: Error) => {
        if (!job.cancelled) this.options.onError?.(err);
      },
    ).finally(() => {
      if (this.compacting === job) this.compacting = null;
    });
    this.lastFold = job.done;
  }

  private async fold(from: number, target: number, now: number, job: { cancelled: boolean }): Promise<void> {
    const scratch = new FailureWindows(this.windows.policy);
    let deadline = performance.now() + SLICE_MS;
    const breathe = async () => {
      if (performance.now() < deadline) return;
      await nextTurn();
      deadline = performance.now() + SLICE_MS;
      if (job.cancelled) throw new Error('cancelled');
    };
    const replay = async (path: string, snapshot: boolean) => {
      let buf: Buffer;
      try {
        buf = await fsp.readFile(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      if (job.cancelled) throw new Error('cancelled');
      let start = 0;
      let first = snapshot;
      while (start < buf.length) {
        let end = buf.indexOf(10, start);
        if (end < 0) end = buf.length;
        if (end > start) {
          const line = buf.toString('utf8', start, end);
          if (first) first = false; // the header
          else {
            try {
              this.apply(JSON.parse(line) as SnapshotRecord, now, scratch);
            } catch {
              /* a line cut short by a crash: skipped, as open() does */
            }
          }
        }
        start = end + 1;
        await breathe();
      }
    };
    await replay(this.file, true);
    for (const g of this.journals()) if (g >= from && g < target) await replay(this.journalFile(g), false);

    // Not the .tmp of writeDurably: compact() may write that one meanwhile.
    const tmp = this.foldFile();
    let bytes = 0;
    try {
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        const header: SnapshotHeader = { format: 'threshold-window', version: 1, generation: target, savedAt: now };
        let chunk: string[] = [JSON.stringify(header)];
        let size = 0;
        const put = async (line: string) => {
          chunk.push(line);
          size += line.length;
          if (size > CHUNK) {
            bytes += (await fh.write(`${chunk.join('\n')}\n`)).bytesWritten;
            chunk = [];
            size = 0;
          }
          await breathe();
        };
        for (const [key, r] of scratch.bans()) await put(banLine(key, r));
        for (const [key, times, lines, weights] of scratch.offenders()) await put(offenderLine(key, times, lines, weights));
        if (chunk.length) bytes += (await fh.write(`${chunk.join('\n')}\n`)).bytesWritten;
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (job.cancelled) throw new Error('cancelled');
      // Checked and renamed in one turn: a close(remove) cannot slip in between.
      renameSync(tmp, this.file);
    } catch (err) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw err;
    }
    this.base = target;
    this.snapshotBytes = bytes;
    try {
      const dir = await fsp.open(dirname(this.file), 'r');
      await dir.sync().finally(() => dir.close());
    } catch {
      /* some file systems cannot fsync a directory */
    }
    for (const g of this.journals()) if (g < target) this.unlink(this.journalFile(g));
  }

  /** Writes the snapshot line by line, in chunks, durably (a temporary file renamed over the old one). */
  private writeSnapshot(now: number): void {
    this.base = this.generation;
    const header: SnapshotHeader = { format: 'threshold-window', version: 1, generation: this.generation, savedAt: now };
    let bytes = 0;
    writeDurably(this.file, (fd) => {
      let chunk: string[] = [JSON.stringify(header)];
      let size = 0;
      const put = (line: string) => {
        chunk.push(line);
        size += line.length;
        if (size > CHUNK) {
          bytes += writeSync(fd, `${chunk.join('\n')}\n`);
          chunk = [];
          size = 0;
        }
      };
      // Bans first: a failure not newer than its offender's last ban is not counted back.
      this.windows.forEachBan((key, r) => put(banLine(key, r)));
      this.windows.forEachOffender((key, times, lines, weights) => put(offenderLine(key, times, lines, weights)));
      if (chunk.length) bytes += writeSync(fd, `${chunk.join('\n')}\n`);
    });
    this.snapshotBytes = bytes;
  }

  private unlink(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }

  /** Writes what is pending and stops; with `remove`, deletes the files (the node was deleted). */
  close(remove = false): void {
    // A compaction under way is dropped: the snapshot and journals it started from are still there.
    this.cancelCompaction();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.fd !== null) {
      try {
        this.flush();
      } finally {
        closeSync(this.fd);
        this.fd = null;
      }
    }
    this.windows.journal = null;
    if (remove) {
      this.unlink(this.file);
      this.unlink(this.foldFile());
      for (const g of this.journals()) this.unlink(this.journalFile(g));
    }
  }
}

/** The file a node keeps its window state in. */
export function windowStateFile(dir: string, nodeId: string): string {
  return join(dir, `windows-${nodeId.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}
