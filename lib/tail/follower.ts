/** Follows several files (paths and globs) and reports each new line with its file. */
import { EventEmitter } from 'events';
import { existsSync } from 'fs';
import Tail from 'tail-file';
import { expandPath, hasWildcard } from './glob';

export interface FollowerOptions {
  paths: string[];
  start: 'end' | 'beginning';
  encoding: BufferEncoding;
  /** How often globs are expanded again to pick up new files (ms). */
  rescanMs?: number;
}

export interface FollowerEvents {
  line: (line: string, file: string) => void;
  error: (err: Error, file: string) => void;
  follow: (file: string) => void;
}

/** Emits 'line' (line, file), 'follow' (file) and 'error' (err, file); never throws after start(). */
export class Follower extends EventEmitter {
  private readonly tails = new Map<string, Tail>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  lines = 0;

  constructor(private readonly options: FollowerOptions) {
    super();
    if (options.paths.length === 0) throw new Error('no paths to follow: give at least one file or glob, one per line');
  }

  /** Files being followed now. */
  get files(): string[] {
    return [...this.tails.keys()];
  }

  /** Files that do not exist (yet). */
  get missing(): string[] {
    return this.files.filter((f) => !existsSync(f));
  }

  start(): void {
    this.scan(this.options.start === 'beginning' ? 'start' : 'end');
    if (this.options.paths.some(hasWildcard)) {
      this.timer = setInterval(() => this.scan('start'), this.options.rescanMs ?? 5000);
      this.timer.unref();
    }
  }

  /** Follows files that match now; a file found after the start is read from its beginning. */
  private scan(startPos: 'start' | 'end'): void {
    for (const pattern of this.options.paths) {
      let files: string[];
      try {
        files = expandPath(pattern);
      } catch (err) {
        this.emit('error', err as Error, pattern);
        continue;
      }
      for (const file of files) {
        if (this.tails.has(file) || this.stopped) continue;
        const tail = new Tail(file, { startPos, force: true, encoding: this.options.encoding });
        tail.on('line', (line: string) => {
          this.lines++;
          this.emit('line', line.replace(/\r+$/, ''), file);
        });
        tail.on('error', (err: NodeJS.ErrnoException) => {
          // A missing file (not created yet, or between rotation steps) is waited for, not an error.
          if (err.code === 'ENOENT') return;
          this.emit('error', err, file);
        });
        this.tails.set(file, tail);
        tail.start();
        this.emit('follow', file);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const tails = [...this.tails.values()];
    this.tails.clear();
    await Promise.all(tails.map((t) => t.stop().catch(() => undefined)));
  }
}
