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
import { findRotated, findUnread, hashHead, headOf, readHead, readRotated, type Known, type Rotated, type Wanted } from './rotated';

/** A new, still empty file at the path is taken up after the old one has been quiet this long (ms). */
export const QUIET_MS = 2000;
/** A deleted file, with nothing at its path, is closed after being quiet this long (ms). */
export const GONE_MS = 30000;
/**
 * Bytes read from a followed file per event-loop turn: about 280 lines of a typical log, which Node-RED
 * turns into messages at once (a 64 KiB read made 30 ms of work in one turn when a log grew by megabytes).
 */
export const READ_CHUNK = 32 * 1024;

export interface TailHost {
  readonly encoding: BufferEncoding;
  line(text: string, file: string): void;
  /** After every batch of lines: where to resume (undefined: nothing to keep). */
  position(file: string, pos: FilePosition | undefined): void;
  rotated(file: string, how: 'renamed' | 'truncated' | 'resumed' | 'missed'): void;
  error(err: Error, file: string): void;
  /**
   * True when another tail has this file open (device:inode) or has read a content with this first
   * line: a glob that also matches rotated names must not read them again.
   */
  known(id: string, head: string, asker: FileTail | null): boolean;
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

/**
 * Offset just past the last newline before `size` (where "start at the end" begins): the start of the
 * line being written. Looked for back to the file's start if need be: starting inside a long line would
 * hand out its tail, text an attacker chose, as a line of its own.
 */
async function lastLineStart(fh: fsp.FileHandle, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let end = size; end > 0; ) {
    const len = Math.min(end, buf.length);
    const { bytesRead } = await fh.read(buf, 0, len, end - len);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
    if (nl >= 0) return end - len + nl + 1;
    end -= len;
  }
  return 0;
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
  /**
   * First-line hashes of every content read at this path: a copy or a gzip of it is not read again.
   * (Inode numbers are no identity once a file is closed: a deleted file's inode is soon reused.)
   */
  readonly heads = new Set<string>();

  constructor(
    readonly path: string,
    private readonly host: TailHost,
    private readonly opts: { fromEnd: boolean; saved?: FilePosition },
  ) {}

  /** True while a file is open at this path (or its rotated predecessor is still being read). */
  get following(): boolean {
    return this.cur !== null;
  }

  /** device:inode of the file open now. */
  get openId(): string | null {
    return this.cur ? identity(this.cur.dev, this.cur.ino) : null;
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
    this.host.position(this.path, { dev: cur.dev, ino: cur.ino, head: cur.headHash, pos: cur.split.resumeAt });
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
      const fromEnd = offset === 'end' || (offset === 'new' && this.host.known(identity(fst.dev, fst.ino), hashHead(head), this));
      const pos = fromEnd ? await lastLineStart(fh, fst.size) : offset === 'new' ? 0 : (offset as number);
      this.cur = { fh, dev: fst.dev, ino: fst.ino, head, headHash: hashHead(head), split: new LineSplitter(this.host.encoding, pos), lastGrowth: Date.now() };
      if (head) this.heads.add(this.cur.headHash);
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
  private async recover(want: Wanted, at: { dev: number; ino: number }): Promise<Rotated | null> {
    // logrotate may rename the copy between the look and the read: then look again.
    for (let attempt = 0; attempt < 5 && !this.closed; attempt++) {
      const rotated = await findRotated(this.path, want);
      if (!rotated) return null;
      const read = await readRotated(rotated, want.pos, this.host.encoding, this.emitLine, (offset) => {
        this.host.position(this.path, { dev: at.dev, ino: at.ino, head: want.head, pos: offset });
      }, () => this.closed);
      if (read === null) continue;
      this.heads.add(want.head);
      return rotated;
    }
    return null;
  }

  /**
   * Reads, oldest first, whole rotations written after `after` (mtime) that were never read: logrotate
   * ran more than once while this tail was behind (a burst) or stopped. The live file must be open
   * already (its identity and first line known), so that a copy of it is not taken for unread content;
   * `before` is when it was opened: what was written later is newer than it, not older.
   */
  private async catchUp(finished: Known, after: number, before: number): Promise<void> {
    const live: Known | undefined = this.cur ? { id: identity(this.cur.dev, this.cur.ino), head: this.cur.headHash } : undefined;
    // For copytruncate the live content shares the inode of the old: only its first line tells it apart.
    if (live && finished.id === live.id) live.id = undefined;
    for (let moved = 0; moved < 20 && !this.closed; ) {
      const [next] = await findUnread(this.path, finished, live, { after, before }, this.heads);
      if (!next) return;
      const read = await readRotated(next, 0, this.host.encoding, this.emitLine, (offset) => {
        this.host.position(this.path, { dev: next.dev, ino: next.ino, head: next.head, pos: offset });
      }, () => this.closed);
      if (read === null) {
        moved++; // renamed meanwhile: look again
        continue;
      }
      this.heads.add(next.head);
      this.host.rotated(this.path, 'missed');
      finished = { id: identity(next.dev, next.ino), head: next.head };
      after = next.mtimeMs;
    }
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
        const opened = Date.now();
        const copy = await this.recover({ head: saved.head, pos: saved.pos, notIno: saved.ino }, saved);
        if (copy) await this.catchUp({ id: identity(copy.dev, copy.ino), head: saved.head }, copy.mtimeMs, opened);
        this.started = true;
        if (this.closed) return;
        this.save(cur);
        return;
      }
      // Renamed or deleted while we were away: finish it from its rotated name, then the new file.
      if (st) await this.openAt('new', false);
      const opened = Date.now();
      this.host.rotated(this.path, 'resumed');
      const old = await this.recover({ head: saved.head, pos: saved.pos, dev: saved.dev, ino: saved.ino, notIno: st?.ino }, saved);
      if (old) await this.catchUp({ id: identity(old.dev, old.ino), head: saved.head }, old.mtimeMs, opened);
      this.started = true;
      if (this.closed) return;
      if (this.cur) this.save(this.cur);
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
    return !(await this.sameHead(cur));
  }

  /** True while the file still starts with the first line it had (not truncated or rewritten). */
  private async sameHead(cur: Current): Promise<boolean> {
    if (!cur.head) return true;
    const buf = Buffer.allocUnsafe(cur.head.length);
    const { bytesRead } = await cur.fh.read(buf, 0, buf.length, 0);
    return bytesRead === buf.length && buf.equals(cur.head);
  }

  /**
   * Reads to the end of the file. Returns false, with the last chunk left unread, when the file turned
   * out to be truncated and written again meanwhile (the chunk may hold the new content, at the old offset).
   */
  private async drain(cur: Current): Promise<boolean> {
    for (;;) {
      if (this.closed) return true;
      // At most READ_CHUNK at a time: every line read becomes a Node-RED message in this same turn.
      const space = Math.min(cur.split.space(), READ_CHUNK);
      const { bytesRead } = await cur.fh.read(cur.split.buf, cur.split.have, space, cur.split.end);
      if (bytesRead === 0) return true;
      // Checked after the read: a truncation before it shows in the first line now.
      if (!(await this.sameHead(cur))) return false;
      cur.lastGrowth = Date.now();
      if (!cur.head && cur.split.offset === 0) {
        cur.head = headOf(cur.split.buf, cur.split.have + bytesRead);
        cur.headHash = hashHead(cur.head);
        if (cur.head) this.heads.add(cur.headHash);
      }
      const before = cur.split.dropped;
      cur.split.took(bytesRead, this.emitLine);
      this.dropped += cur.split.dropped - before;
      if (!cur.head) {
        cur.head = await readHead(cur.fh);
        cur.headHash = hashHead(cur.head);
        if (cur.head) this.heads.add(cur.headHash);
      }
      this.save(cur);
    }
  }

  /** The file was truncated (copytruncate): the rest of the old content from the copy, then from 0. */
  private async truncated(cur: Current): Promise<void> {
    this.host.rotated(this.path, 'truncated');
    const old = { head: cur.head, hash: cur.headHash, pos: cur.split.resumeAt };
    // The content there now is read next, from its start; its first line tells it apart should it be
    // copied away and truncated too before it is read.
    cur.split.reset(0);
    cur.head = await readHead(cur.fh);
    cur.headHash = hashHead(cur.head);
    if (cur.head) this.heads.add(cur.headHash);
    const opened = Date.now();
    const copy = old.head ? await this.recover({ head: old.hash, pos: old.pos, notIno: cur.ino }, cur) : null;
    if (copy) await this.catchUp({ id: identity(copy.dev, copy.ino), head: old.hash }, copy.mtimeMs, opened);
    if (this.closed) return;
    this.save(cur);
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
    if (await this.changedInPlace(cur)) await this.truncated(cur);
    while (!(await this.drain(cur))) await this.truncated(cur);
    if (this.closed) return;
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
      while (!(await this.drain(cur))) await this.truncated(cur);
      if (this.closed) return;
      cur.split.flush(this.emitLine);
      const finished = { id: identity(cur.dev, cur.ino), head: cur.headHash, mtime: (await cur.fh.stat()).mtimeMs };
      const old = cur.fh;
      this.cur = null;
      this.host.rotated(this.path, 'renamed');
      try {
        // The new file is opened first: rotations between the two are read before it, and if it is
        // rotated away meanwhile, the descriptor still reads it. The old one stays open meanwhile, so
        // that its inode number is not given to another file.
        await this.openAt('new', false);
        cur = this.cur!;
        await this.catchUp(finished, finished.mtime, Date.now());
      } finally {
        await old.close().catch(() => undefined);
      }
      if (this.closed) return;
      this.save(cur);
      while (!(await this.drain(cur))) await this.truncated(cur);
    }
  }
}
