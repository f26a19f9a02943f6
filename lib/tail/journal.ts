/** Follows the systemd journal through `journalctl -f -o json` (run with an argument list, no shell). */
import { spawn, type ChildProcess } from 'child_process';
import { EventEmitter } from 'events';
import { statSync } from 'fs';
import type { PositionStore } from './positions';

export interface JournalOptions {
  /** journalctl match expressions, e.g. _SYSTEMD_UNIT=sshd.service, or + between groups. */
  matches: string[];
  start: 'end' | 'beginning';
  /**
   * Read a journal file (journalctl --file; a glob is allowed) or a directory of them (--directory)
   * instead of the system journal: archives, containers, tests.
   */
  path?: string;
  /** Former name of `path` (a file). */
  file?: string;
  /** Where the cursor of the last entry read is kept (resume on). */
  positions?: PositionStore;
  journalctl?: string;
  /** Wait before journalctl is started again after it exits (ms). */
  restartMs?: number;
}

const MATCH = /^(?:[A-Za-z0-9_]+=\S*|\+)$/;

/** The MESSAGE field as text: journalctl gives an array of bytes for binary or non-UTF-8 messages. */
function messageText(value: unknown): string {
  if (Array.isArray(value)) return Buffer.from(value as number[]).toString('utf8');
  if (value === null || value === undefined) return '';
  return String(value);
}

/** Emits 'line' (message, epoch ms) and 'error' (err, 'journal'). */
export class JournalFollower extends EventEmitter {
  private child: ChildProcess | null = null;
  private stopped = false;
  private restart: NodeJS.Timeout | null = null;
  private saveError = '';
  /** The last failure reported: the same one again (journalctl restarted every few seconds) is not. */
  private lastFailure = '';
  /** The last entry read: journalctl, started again, continues after it even without saved positions. */
  private cursor: string | undefined;
  lines = 0;

  constructor(private readonly options: JournalOptions) {
    super();
    for (const m of options.matches) {
      if (!MATCH.test(m)) throw new Error(`journal match "${m}": write FIELD=value (e.g. _SYSTEMD_UNIT=sshd.service) or +`);
    }
  }

  /** journalctl's arguments for the next start: after the saved cursor if there is one. */
  args(): string[] {
    const args = ['-f', '-o', 'json', '--no-pager'];
    const cursor = this.cursor ?? this.options.positions?.cursor;
    if (cursor) args.push(`--after-cursor=${cursor}`);
    else args.push(...(this.options.start === 'end' ? ['-n', '0'] : ['-n', 'all']));
    const path = this.options.path ?? this.options.file;
    if (path) {
      let dir = false;
      try {
        dir = statSync(path).isDirectory();
      } catch {
        /* a file (or glob) journalctl will complain about */
      }
      args.push(dir ? `--directory=${path}` : `--file=${path}`);
    }
    // "--" so that no match is ever taken for an option.
    args.push('--', ...this.options.matches);
    return args;
  }

  start(): void {
    if (this.stopped) return;
    const child = spawn(this.options.journalctl ?? 'journalctl', this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let failed = false;
    child.on('error', (err: NodeJS.ErrnoException) => {
      failed = true;
      const text = err.code === 'ENOENT' ? 'journalctl not found: install systemd or use source "file"' : err.message;
      if (text !== this.lastFailure) this.emit('error', new Error(text), 'journal');
      this.lastFailure = text;
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    let rest = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const text = rest + chunk;
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      let cursor: string | undefined;
      for (const l of lines) {
        const c = this.entry(l);
        if (c) cursor = c;
      }
      if (cursor) {
        this.cursor = cursor;
        if (this.options.positions) this.saveCursor(cursor);
      }
    });
    child.on('close', (code, signal) => {
      if (this.child !== child || this.stopped) return;
      this.child = null;
      if (!failed) {
        const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit code ${code}`);
        const text = `journalctl stopped (${why}); starting it again`;
        if (text !== this.lastFailure) this.emit('error', new Error(text), 'journal');
        this.lastFailure = text;
      }
      // Start again, after the last entry read: nothing is lost while it was down.
      this.restart = setTimeout(() => this.start(), this.options.restartMs ?? 5000);
    });
  }

  /** Hands out one JSON entry; returns its cursor. */
  private entry(text: string): string | undefined {
    if (text.trim() === '') return undefined;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(text);
    } catch {
      return undefined;
    }
    const micros = Number(entry.__REALTIME_TIMESTAMP);
    this.lines++;
    this.lastFailure = '';
    this.emit('line', messageText(entry.MESSAGE), Number.isFinite(micros) ? Math.floor(micros / 1000) : undefined, entry);
    return typeof entry.__CURSOR === 'string' ? entry.__CURSOR : undefined;
  }

  private saveCursor(cursor: string): void {
    const store = this.options.positions!;
    store.cursor = cursor;
    try {
      store.save();
      this.saveError = '';
    } catch (err) {
      const text = `cannot save the journal cursor in ${store.file}: ${(err as Error).message}`;
      if (text !== this.saveError) this.emit('error', new Error(text), 'journal');
      this.saveError = text;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restart) clearTimeout(this.restart);
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.kill();
    });
  }
}
