/**
 * Follows one path through rotations, by file descriptor: the file open now is read to its end before
 * the follower moves to a new file at the same path, so no line is lost or repeated.
 *
 * - rename (logrotate `create`) and delete-then-recreate: the old file stays open and is read while the
 *   new one is empty (the writer has not moved yet); once the new one has content, or the old one has
 *   been quiet for a while, the old one is finished and the new one read from its start.
 * - truncation (`copytruncate`): what was not read yet of the old content is read from the rotated copy
 *   beside the file (same first line), then the file from its start.
 * - a saved position (resume) is found again by device, inode and first line, even when the file has
 *   been rotated while Node-RED was stopped.
 */
import { promises as fsp, type Stats } from 'fs';
import { LineSplitter } from './lines';
import type { FilePosition } from './positions';
import { findRotated, hashHead, readHead, readRotated, type Wanted } from './rotated';

/** A new, still empty file at the path is taken up after the old one has been quiet this long (ms). */
export const QUIET_MS = 2000;
/** A deleted file, with nothing at its path, is closed after being quiet this long (ms). */
export const GONE_MS = 30000;

export interface TailHost {
  readonly encoding: BufferEncoding;
  line(text: string, file: string): void;
  /** After every batch of lines: where to resume (undefined: nothing to keep). */
  position(file: string, pos: FilePosition | undefined): void;
  rotated(file: string, how: 'renamed' | 'truncated' | 'resumed'): void;
  error(err: Error, file: string): void;
  /** True when some tail has read the file with this identity (a glob also matching rotated names). */
  known(id: string): boolean;
}

interface Current {
  fh: fsp.FileHandle;
  dev: number;
  ino: number;
  head: Buffer | null;
  headHash: string;
  split: LineSplitter;
  lastGrowth: number;
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await fsp.stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/** Offset just past the last newline before `size` (where "start at the end" begins). */
async function lastLineStart(fh: fsp.FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  const len = Math.min(size, 64 * 1024);
  const buf = Buffer.allocUnsafe(len);
  const { bytesRead } = await fh.read(buf, 0, len, size - len);
  const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
  if (nl >= 0) return size - len + nl + 1;
  return len === size ? 0 : size;
}

/** An error a person can act on. */
function explain(err: NodeJS.ErrnoException, path: string): Error {
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return new Error(`cannot read ${path}: permission denied; let the user running Node-RED read it (on Debian, add it to the "adm" group)`);
    case 'EISDIR':
      return new Error(`${path} is a directory, not a log file: name the files in it, or a glob such as ${path.replace(/\/+$/, '')}/*.log`);
    default:
      return err;
  }
}

/** The device and inode of a file, as one string. */
export function identity(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

export class FileTail {
  private cur: Current | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private started = false;
  private lastError = '';
  /** Lines dropped for being longer than MAX_LINE. */
  dropped = 0;
  /** Identities (see identity()) of every file read at this path: rotated names of them are not new logs. */
  readonly seen = new Set<string>();

  constructor(
    readonly path: string,
    private readonly host: TailHost,
    private readonly opts: { fromEnd: boolean; saved?: FilePosition },
  ) {}

  /** True while a file is open at this path (or its rotated predecessor is still being read). */
  get following(): boolean {
    return this.cur !== null;
  }

  /** Looks for new lines and rotations now (coalesced: at most one pass at a time, then one more). */
  check(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
          this.lastError = '';
        } catch (err) {
          const explained = explain(err as NodeJS.ErrnoException, this.path);
          if (explained.message !== this.lastError && !this.closed) this.host.error(explained, this.path);
          this.lastError = explained.message;
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
  }

  /** Stops; the unfinished last line stays unread, to be read whole after a restart. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    const cur = this.cur;
    this.cur = null;
    if (cur) await cur.fh.close().catch(() => undefined);
  }

  private emitLine = (text: string): void => this.host.line(text, this.path);

  private save(cur: Current): void {
    this.host.position(this.path, { dev: cur.dev, ino: cur.ino, head: cur.headHash, pos: cur.split.offset });
  }

  /**
   * Opens the path, reading from `offset`; 'new' is a file that appeared or replaced the old one: read
   * from its start, unless another tail has read it already (then only what is written from now on).
   */
  private async openAt(offset: number | 'end' | 'new', save = true): Promise<void> {
    const fh = await fsp.open(this.path, 'r');
    try {
      const fst = await fh.stat();
      const head = await readHead(fh);
      const fromEnd = offset === 'end' || (offset === 'new' && this.host.known(identity(fst.dev, fst.ino)));
      const pos = fromEnd ? await lastLineStart(fh, fst.size) : offset === 'new' ? 0 : (offset as number);
      this.cur = { fh, dev: fst.dev, ino: fst.ino, head, headHash: hashHead(head), split: new LineSplitter(this.host.encoding, pos), lastGrowth: Date.now() };
      this.seen.add(identity(fst.dev, fst.ino));
      if (save) this.save(this.cur);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Reads, from a rotated copy, what was not read yet of content `want`. Meanwhile the position is saved
   * as `{...at, head: want.head, pos}`: a restart finds the same content again and goes on from there.
   */
  private async recover(want: Wanted, at: { dev: number; ino: number }): Promise<boolean> {
    const rotated = await findRotated(this.path, want);
    if (!rotated) return false;
    await readRotated(rotated, want.pos, this.host.encoding, this.emitLine, (offset) => {
      this.host.position(this.path, { dev: at.dev, ino: at.ino, head: want.head, pos: offset });
    }, () => this.closed);
    return true;
  }

  /** The first open: a saved position if it still holds, else the start option. */
  private async first(): Promise<void> {
    const saved = this.opts.saved;
    const st = await statOrNull(this.path);
    if (saved) {
      if (st && st.dev === saved.dev && st.ino === saved.ino) {
        await this.openAt(saved.pos, false);
        const cur = this.cur!;
        if ((saved.head === '' || cur.headHash === saved.head) && (await cur.fh.stat()).size >= saved.pos) {
          this.started = true;
          return;
        }
        cur.split.reset(0);
        // Truncated (copytruncate) while we were away: the rest of the old content is in the copy.
        this.host.rotated(this.path, 'truncated');
        await this.recover({ head: saved.head, pos: saved.pos, notIno: saved.ino }, saved);
        this.started = true;
        if (this.closed) return;
        this.save(cur);
        return;
      }
      // Renamed or deleted while we were away: finish it from its rotated name, then the new file.
      this.host.rotated(this.path, 'resumed');
      await this.recover({ head: saved.head, pos: saved.pos, dev: saved.dev, ino: saved.ino, notIno: st?.ino }, saved);
      this.started = true;
      if (this.closed) return;
      if (st) await this.openAt('new');
      else this.host.position(this.path, undefined);
      return;
    }
    this.started = true;
    if (st) await this.openAt(this.opts.fromEnd ? 'end' : 'new');
  }

  /** True when the open file was truncated or rewritten from its start. */
  private async changedInPlace(cur: Current): Promise<boolean> {
    const st = await cur.fh.stat();
    if (st.size < cur.split.end) return true;
    if (!cur.head) return false;
    const buf = Buffer.allocUnsafe(cur.head.length);
    const { bytesRead } = await cur.fh.read(buf, 0, buf.length, 0);
    return bytesRead < buf.length || !buf.equals(cur.head);
  }

  private async drain(cur: Current): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const space = cur.split.space();
      const { bytesRead } = await cur.fh.read(cur.split.buf, cur.split.have, space, cur.split.end);
      if (bytesRead === 0) break;
      cur.lastGrowth = Date.now();
      const before = cur.split.dropped;
      cur.split.took(bytesRead, this.emitLine);
      this.dropped += cur.split.dropped - before;
      if (!cur.head) {
        cur.head = await readHead(cur.fh);
        cur.headHash = hashHead(cur.head);
      }
      this.save(cur);
    }
  }

  private async pass(): Promise<void> {
    if (!this.started) await this.first();
    if (this.closed) return;
    if (!this.cur) {
      const st = await statOrNull(this.path);
      if (!st || this.closed) return;
      await this.openAt('new');
    }
    let cur = this.cur!;
    if (await this.changedInPlace(cur)) {
      this.host.rotated(this.path, 'truncated');
      if (cur.head) await this.recover({ head: cur.headHash, pos: cur.split.offset, notIno: cur.ino }, cur);
      if (this.closed) return;
      cur.split.reset(0);
      cur.head = await readHead(cur.fh);
      cur.headHash = hashHead(cur.head);
      this.save(cur);
    }
    await this.drain(cur);
    const st = await statOrNull(this.path);
    if (!st && Date.now() - cur.lastGrowth > GONE_MS && (await cur.fh.stat()).nlink === 0) {
      // Deleted, nothing new at the path, and quiet: let its disk space go. A new file is read from its start.
      cur.split.flush(this.emitLine);
      this.cur = null;
      await cur.fh.close().catch(() => undefined);
      this.host.position(this.path, undefined);
      return;
    }
    if (st && (st.ino !== cur.ino || st.dev !== cur.dev) && (st.size > 0 || Date.now() - cur.lastGrowth > QUIET_MS)) {
      // Another file has taken the path: finish this one, then move.
      await this.drain(cur);
      if (this.closed) return;
      cur.split.flush(this.emitLine);
      this.cur = null;
      await cur.fh.close().catch(() => undefined);
      this.host.rotated(this.path, 'renamed');
      await this.openAt('new');
      cur = this.cur!;
      await this.drain(cur);
    }
  }
}
