/** Follows the systemd journal through `journalctl -f -o json`. */
import { spawn, type ChildProcess } from 'child_process';
import { EventEmitter } from 'events';
import { createInterface } from 'readline';

export interface JournalOptions {
  /** journalctl match expressions, e.g. _SYSTEMD_UNIT=sshd.service. */
  matches: string[];
  start: 'end' | 'beginning';
  /** Read a journal file instead of the system journal (tests, archives). */
  file?: string;
  journalctl?: string;
}

const MATCH = /^(?:[A-Z0-9_]+=[^\s]*|\+)$/;

/** Emits 'line' (message, epoch ms) and 'error' (err, 'journal'). */
export class JournalFollower extends EventEmitter {
  private child: ChildProcess | null = null;
  lines = 0;

  constructor(private readonly options: JournalOptions) {
    super();
    for (const m of options.matches) {
      if (!MATCH.test(m)) throw new Error(`journal match "${m}": write FIELD=value (e.g. _SYSTEMD_UNIT=sshd.service) or +`);
    }
  }

  start(): void {
    const args = ['-f', '-o', 'json', '--no-pager', ...(this.options.start === 'end' ? ['-n', '0'] : ['--no-tail'])];
    if (this.options.file) args.push('--file', this.options.file);
    args.push(...this.options.matches);
    const child = spawn(this.options.journalctl ?? 'journalctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.on('error', (err: NodeJS.ErrnoException) => {
      const text = err.code === 'ENOENT' ? 'journalctl not found: install systemd or use source "file"' : err.message;
      this.emit('error', new Error(text), 'journal');
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('exit', (code) => {
      if (this.child === child && code) this.emit('error', new Error(`journalctl exited with ${code}: ${stderr.trim()}`), 'journal');
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(text);
      } catch {
        return;
      }
      const message = Array.isArray(entry.MESSAGE) ? Buffer.from(entry.MESSAGE as number[]).toString('utf8') : String(entry.MESSAGE ?? '');
      const micros = Number(entry.__REALTIME_TIMESTAMP);
      this.lines++;
      this.emit('line', message, Number.isFinite(micros) ? Math.floor(micros / 1000) : undefined);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    child?.kill();
  }
}
