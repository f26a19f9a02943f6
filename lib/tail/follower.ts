/**
 * Follows several files (paths and globs) and reports each new line with its file.
 * Files are read by descriptor (see FileTail); fs.watch on their directories says when to look, and a
 * poll every `pollMs` catches what watching misses (network filesystems, watch limits, rotations).
 */
import { EventEmitter } from 'events';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, watch, type FSWatcher } from 'fs';
import { basename, dirname, join, resolve } from 'path';
import { FileTail, identity, type TailHost } from './file-tail';
import { expandPath, hasWildcard, matchesGlob } from './glob';
import { HEAD_MAX, hashHead, headOf } from './rotated';
import type { FilePosition, PositionStore } from './positions';

export interface FollowerOptions {
  paths: string[];
  /** Where a file seen at the start, with no saved position, is read from. */
  start: 'end' | 'beginning';
  encoding: BufferEncoding;
  /** Saved read positions: with it, reading resumes where it stopped (resume on). */
  positions?: PositionStore;
  /** How often every file is looked at, and globs expanded again, without a watch event (ms). */
  pollMs?: number;
  /** Former name of pollMs. */
  rescanMs?: number;
}

const COMPRESSED = /\.(?:gz|bz2|xz|zst|lz4|lzma|z|zip)$/i;

interface Pattern {
  text: string;
  abs: string;
  glob: boolean;
  dir: string;
}

/**
 * Emits 'line' (line, file), 'follow' (file), 'rotate' (file, how) and 'error' (err, file);
 * never throws after start().
 */
export class Follower extends EventEmitter {
  private readonly tails = new Map<string, FileTail>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly patterns: Pattern[];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private saveError = '';
  /** Rotated names a glob matched and that were skipped (path -> device:inode:mtime). */
  private readonly skipped = new Map<string, string>();
  /** Lines delivered, rotations seen. */
  lines = 0;
  rotations = 0;

  constructor(private readonly options: FollowerOptions) {
    super();
    if (options.paths.length === 0) throw new Error('no paths to follow: give at least one file or glob, one per line');
    this.patterns = options.paths.map((text) => {
      const abs = resolve(text);
      const glob = hasWildcard(abs);
      if (glob && hasWildcard(dirname(abs))) throw new Error(`path "${text}": wildcards are allowed in the file name only, not in directories`);
      return { text, abs, glob, dir: dirname(abs) };
    });
  }

  /** Files being followed (or waited for) now. */
  get files(): string[] {
    return [...this.tails.keys()];
  }

  /** Files waited for: named paths that do not exist (yet). */
  get missing(): string[] {
    return [...this.tails.values()].filter((t) => !t.following).map((t) => t.path);
  }

  /** Globs that match no file now. */
  get unmatched(): string[] {
    return this.patterns.filter((p) => p.glob && ![...this.tails.keys()].some((f) => dirname(f) === p.dir && matchesGlob(p.abs, f))).map((p) => p.text);
  }

  /** Lines dropped for being too long. */
  get dropped(): number {
    let n = 0;
    for (const t of this.tails.values()) n += t.dropped;
    return n;
  }

  private readonly host: TailHost = {
    encoding: this.options.encoding,
    line: (text, file) => {
      this.lines++;
      this.emit('line', text, file);
    },
    position: (file, pos) => this.savePosition(file, pos),
    rotated: (file, how) => {
      this.rotations++;
      this.emit('rotate', file, how);
    },
    error: (err, file) => this.emit('error', err, file),
    known: (id, head, asker) => [...this.tails.values()].some((t) => t !== asker && (t.openId === id || (head !== '' && t.heads.has(head)))),
  };

  private savePosition(file: string, pos: FilePosition | undefined): void {
    const store = this.options.positions;
    if (!store) return;
    store.set(file, pos);
    try {
      store.save();
      this.saveError = '';
    } catch (err) {
      const text = `cannot save read positions in ${store.file}: ${(err as Error).message}`;
      if (text !== this.saveError) this.emit('error', new Error(text), file);
      this.saveError = text;
    }
  }

  start(): void {
    this.scan(true);
    this.options.positions?.retain((p) => this.tails.has(p));
    this.watchDirs();
    this.timer = setInterval(() => this.tick(), this.options.pollMs ?? this.options.rescanMs ?? 500);
    this.timer.unref?.();
  }

  private tick(): void {
    if (this.stopped) return;
    this.scan(false);
    this.watchDirs();
    for (const t of this.tails.values()) t.check();
  }

  /** Follows files that match now; a file found after the start is read from its beginning. */
  private scan(initial: boolean): void {
    for (const p of this.patterns) {
      let files: string[];
      try {
        files = expandPath(p.abs);
      } catch (err) {
        this.emit('error', err as Error, p.text);
        continue;
      }
      for (const file of files) {
        if (this.tails.has(file) || this.stopped) continue;
        // A glob such as auth.log* also matches compressed rotations: those are not logs to follow.
        if (p.glob && COMPRESSED.test(file) && !COMPRESSED.test(p.abs)) continue;
        // Nor is a rotated name of a file already read (auth.log.1 after auth.log was renamed).
        if (p.glob && !initial && this.rotatedName(file)) continue;
        const tail = new FileTail(file, this.host, { fromEnd: initial && this.options.start === 'end', saved: this.options.positions?.get(file) });
        this.tails.set(file, tail);
        tail.check();
        this.emit('follow', file);
      }
    }
  }

  /** True when `file` is a rotated name of a file some tail has open or has read (by first line). */
  private rotatedName(file: string): boolean {
    let fd: number | null = null;
    try {
      fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const st = fstatSync(fd);
      // Judged once per version of the file, not at every scan.
      const version = `${st.dev}:${st.ino}:${st.mtimeMs}`;
      if (this.skipped.get(file) === version) return true;
      const buf = Buffer.allocUnsafe(HEAD_MAX);
      const n = readSync(fd, buf, 0, HEAD_MAX, 0);
      const rotated = this.host.known(identity(st.dev, st.ino), hashHead(headOf(buf, n)), null);
      if (rotated) this.skipped.set(file, version);
      else this.skipped.delete(file);
      return rotated;
    } catch {
      return true;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** One watcher per directory holding a followed file or a glob; retried when it fails. */
  private watchDirs(): void {
    const dirs = new Set(this.patterns.map((p) => p.dir));
    for (const f of this.tails.keys()) dirs.add(dirname(f));
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (event, name) => this.changed(dir, event, name ? String(name) : null));
        w.on('error', () => {
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        /* missing directory or no watches left: the poll covers it, and watching is tried again */
      }
    }
  }

  private changed(dir: string, event: string, name: string | null): void {
    if (this.stopped) return;
    for (const t of this.tails.values()) {
      // The file itself, or its rotated name (old.log.1 still being written after a rename).
      if (dirname(t.path) === dir && (name === null || name.startsWith(basename(t.path)))) t.check();
    }
    if (event === 'rename' && name !== null && this.patterns.some((p) => p.glob && p.dir === dir && matchesGlob(p.abs, join(dir, name)))) this.scan(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    const tails = [...this.tails.values()];
    await Promise.all(tails.map((t) => t.close().catch(() => undefined)));
    try {
      this.options.positions?.save();
    } catch {
      /* reported when it first failed */
    }
  }
}
