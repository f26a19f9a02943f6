/** Follows the systemd journal through `journalctl -f -o json --all` (run with an argument list, no shell). */
import { spawn, type ChildProcess } from 'child_process';
import { EventEmitter } from 'events';
import { statSync } from 'fs';
import { MAX_LINE } from './lines';
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

/**
 * An entry's JSON text longer than this is dropped unread (memory stays bounded): a MESSAGE of MAX_LINE
 * bytes takes at most 4 times that in JSON (a binary message is an array of byte numbers, "255,"),
 * plus the other fields.
 */
const MAX_ENTRY_TEXT = 8 * MAX_LINE;

const MATCH = /^(?:[A-Za-z0-9_]+=\S*|\+)$/;

/** A journal field as journalctl -o json gives it: text, an array of bytes (binary or not UTF-8), null (too long), or an array of those (a field the entry holds several times). */
type FieldValue = unknown;

function isBytes(value: unknown[]): boolean {
  return value.every((b) => typeof b === 'number');
}

/** One value of a field as text (bytes read as UTF-8, as fail2ban decodes them); null when journalctl left it out. */
function valueText(value: FieldValue): string | null {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return null;
  if (Array.isArray(value) && isBytes(value)) return Buffer.from(value as number[]).toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** A field's values: one, several (the field repeated in the entry), or none. A value left out (null) is null. */
function fieldValues(value: FieldValue): Array<string | null> {
  if (value === undefined) return [];
  if (Array.isArray(value) && !isBytes(value)) return value.map(valueText);
  return [valueText(value)];
}

/** A field's first value as text, '' when it has none. */
function field(entry: Record<string, unknown>, name: string): string {
  return fieldValues(entry[name])[0] ?? '';
}

/** The pid in brackets: a number as a number ("0042" is [42]), anything else as it is written. */
function pidText(value: string): string {
  const t = value.trim();
  if (/^[+-]?\d+$/.test(t)) return `[${BigInt(t).toString()}]`;
  if (/^[+-]?0[xob][0-9a-f]+$/i.test(t)) {
    const neg = t.startsWith('-');
    const n = BigInt(t.replace(/^[+-]/, ''));
    return `[${neg ? -n : n}]`;
  }
  return `[${value}]`;
}

/** Microseconds (a journal timestamp field) as "%12.6f" seconds, computed on the integer so nothing is rounded. */
function secondsText(micros: string): string {
  const us = BigInt(micros);
  const s = us / 1000000n;
  const frac = (us % 1000000n).toString().padStart(6, '0');
  return `${s}.${frac}`.padStart(12);
}

/**
 * The log line fail2ban's systemd backend makes of a journal entry (journalctl -o json), and so the line
 * its filters with logtype=journal are written for:
 *   "<_HOSTNAME> <SYSLOG_IDENTIFIER or _COMM>[<SYSLOG_PID or _PID>]: <MESSAGE>"
 * Each part is left out when the entry has no value for it (the pid also when there is no identifier);
 * the kernel's lines get its monotonic time after "kernel:" ("kernel: [   12.345678] ..."), as in dmesg.
 * A MESSAGE held several times is its values joined by spaces; a newline anywhere becomes the two
 * characters \n, so the line is one line. Returns null when journalctl left the MESSAGE out (a field
 * over 4096 bytes, without --all): the line would not be the whole message.
 */
export function journalLine(entry: Record<string, unknown>): string | null {
  const parts: string[] = [];
  const host = field(entry, '_HOSTNAME');
  if (host) parts.push(host);
  const ident = field(entry, 'SYSLOG_IDENTIFIER') || field(entry, '_COMM');
  if (ident) {
    const pid = [field(entry, 'SYSLOG_PID'), field(entry, '_PID')].find((v) => v !== '' && !/^\s*[+-]?0+\s*$/.test(v));
    const tag = `${ident}${pid ? pidText(pid) : ''}:`;
    parts.push(tag);
    if (tag === 'kernel:') {
      const mono = [field(entry, '_SOURCE_MONOTONIC_TIMESTAMP'), field(entry, '__MONOTONIC_TIMESTAMP')].find((v) => /^\d+$/.test(v));
      if (mono) parts.push(`[${secondsText(mono)}]`);
    }
  }
  const message = fieldValues(entry.MESSAGE);
  if (message.some((m) => m === null)) return null;
  parts.push(message.join(' '));
  return parts.join(' ').replace(/\n/g, '\\n');
}

/**
 * The time of a journal entry (epoch ms): when its source wrote it (_SOURCE_REALTIME_TIMESTAMP), else
 * when the journal received it (__REALTIME_TIMESTAMP), as fail2ban takes it; undefined with neither.
 */
export function journalTime(entry: Record<string, unknown>): number | undefined {
  for (const name of ['_SOURCE_REALTIME_TIMESTAMP', '__REALTIME_TIMESTAMP']) {
    const v = field(entry, name);
    if (/^\d+$/.test(v)) return Math.floor(Number(v) / 1000);
  }
  return undefined;
}

/**
 * Journal entries, in the order journalctl gives them, made into log lines (journalLine), or dropped
 * whole: an entry whose line would not be whole, or is longer than MAX_LINE bytes. journald cuts a line
 * written to stdout at LineMax into several entries; all but the last say _LINE_BREAK=line-max, and every
 * piece of such a line is dropped, the last one included: it begins with the attacker's text.
 */
export class JournalLines {
  /** Streams (_STREAM_ID) whose last entry was a line journald cut at LineMax: their next entry is its rest. */
  private readonly cutStreams = new Set<string>();

  /** The entry's line, or null when it is dropped. */
  line(entry: Record<string, unknown>): string | null {
    const stream = typeof entry._STREAM_ID === 'string' ? entry._STREAM_ID : '';
    const cutHere = entry._LINE_BREAK === 'line-max';
    const continues = stream !== '' && this.cutStreams.has(stream);
    if (stream !== '') {
      if (cutHere) this.cutStreams.add(stream);
      else this.cutStreams.delete(stream);
      // A stream that never writes its line's end does not make this set grow for ever.
      if (this.cutStreams.size > 1000) this.cutStreams.delete(this.cutStreams.values().next().value as string);
    }
    const line = cutHere || continues ? null : journalLine(entry);
    return line === null || Buffer.byteLength(line) > MAX_LINE ? null : line;
  }
}

/** Emits 'line' (the line journalLine makes, epoch ms or undefined, the entry's fields) and 'error' (err, 'journal'). */
export class JournalFollower extends EventEmitter {
  private child: ChildProcess | null = null;
  private stopped = false;
  private restart: NodeJS.Timeout | null = null;
  private saveError = '';
  /** The last failure reported: the same one again (journalctl restarted every few seconds) is not. */
  private lastFailure = '';
  /** The last entry read: journalctl, started again, continues after it even without saved positions. */
  private cursor: string | undefined;
  private readonly entryLines = new JournalLines();
  /** Entries handed out as lines. */
  lines = 0;
  /** Entries dropped whole: a message journalctl left out or journald cut, or a line over MAX_LINE bytes. */
  dropped = 0;

  constructor(private readonly options: JournalOptions) {
    super();
    for (const m of options.matches) {
      if (!MATCH.test(m)) throw new Error(`journal match "${m}": write FIELD=value (e.g. _SYSTEMD_UNIT=sshd.service) or +`);
    }
  }

  /** journalctl's arguments for the next start: after the saved cursor if there is one. */
  args(): string[] {
    // --all: every field whole; without it, journalctl gives null for a field over 4096 bytes.
    const args = ['-f', '-o', 'json', '--all', '--no-pager'];
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
    let skipping = false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      let text = chunk;
      if (skipping) {
        // The rest of an entry too large to keep: dropped up to its end.
        const nl = text.indexOf('\n');
        if (nl < 0) return;
        skipping = false;
        text = text.slice(nl + 1);
      }
      text = rest + text;
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      let cursor: string | undefined;
      for (const l of lines) {
        const c = this.entry(l);
        if (c) cursor = c;
      }
      if (rest.length > MAX_ENTRY_TEXT) {
        // An entry this large (journalctl's JSON of every field) cannot make a line under MAX_LINE.
        rest = '';
        skipping = true;
        this.dropped++;
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

  /**
   * Hands out one JSON entry as its log line (see journalLine); returns its cursor. An entry whose line
   * would not be whole, or is longer than MAX_LINE bytes, is dropped whole (counted in `dropped`): its
   * message is the attacker's text, and a part of it, matched as if it were the line, could be forged.
   */
  private entry(text: string): string | undefined {
    if (text.trim() === '') return undefined;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
    this.lastFailure = '';
    const cursor = typeof entry.__CURSOR === 'string' ? entry.__CURSOR : undefined;
    const line = this.entryLines.line(entry);
    if (line === null) {
      this.dropped++;
      return cursor;
    }
    this.lines++;
    this.emit('line', line, journalTime(entry), entry);
    return cursor;
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
