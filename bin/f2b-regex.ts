#!/usr/bin/env node
/** f2b-regex: fail2ban-regex's job. Tests a filter against a log file or a single line. */
import { isAscii } from 'buffer';
import { closeSync, existsSync, openSync, readSync, statSync } from 'fs';
import { setFlagsFromString } from 'v8';
// Types only: the journal code is loaded with --journal alone (loading lib/tail cost 7 ms of start-up).
import type { JournalLines } from '../lib/tail/journal';
import { inlineFilter, loadBuiltinFilter, loadFilterFile, Matcher, MAX_LINE_LENGTH, splitFilterSpec, builtinFilterNames, type FilterDefinition } from '../lib/filter';

const USAGE = `usage: f2b-regex [options] LOG FILTER [IGNOREREGEX]
  LOG     a log file, or one log line
  FILTER  a fail2ban filter .conf, a built-in filter name (sshd, sshd[mode=aggressive]),
          or a regex with <HOST>
options:
  --print-all-matched   print every matched line
  --print-all-missed    print every line that did not match
  --json                one JSON object per input line
  --now EPOCH           the current time (seconds) used for dates without a year
  --journal             LOG holds journal lines, as log-tail sends them from the journal and as
                        fail2ban's systemd backend builds them: "host sshd[811]: message". No date is
                        looked for: a line's time is --now (or now). A line that is an entry of
                        journalctl -o json --all is made into that line, with the entry's time (an
                        entry whose message is left out, cut or over 64 KiB is dropped, as log-tail
                        drops it). The filter reads the lines with logtype=journal, as fail2ban sets it
                        for backend=systemd, unless a logtype is given.
  --filter-option K=V   a filter option, as in filter = NAME[K=V] (repeatable)
  --max-line-length N   refuse lines longer than N characters unmatched (default ${MAX_LINE_LENGTH},
                        as failregex-match); a long line is never cut and matched
`;

/** Addresses listed in the summary, most failures first (all of them with --print-all-matched). */
const ADDRESSES_SHOWN = 20;

interface Args {
  log: string;
  filter: string;
  ignoreregex?: string;
  json: boolean;
  matched: boolean;
  missed: boolean;
  now?: number;
  journal: boolean;
  options: Map<string, string>;
  maxLineLength: number;
}

function parseArgs(argv: string[]): Args {
  const rest: string[] = [];
  const args: Args = { log: '', filter: '', json: false, matched: false, missed: false, journal: false, options: new Map(), maxLineLength: MAX_LINE_LENGTH };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--print-all-matched') args.matched = true;
    else if (a === '--print-all-missed') args.missed = true;
    else if (a === '--journal') args.journal = true;
    else if (a === '--now') args.now = Number(argv[++i]) * 1000;
    else if (a === '--max-line-length') {
      args.maxLineLength = Number(argv[++i]);
      if (!Number.isInteger(args.maxLineLength) || args.maxLineLength < 1) usage('--max-line-length wants a whole number of characters, at least 1');
    }
    else if (a === '--filter-option') {
      const kv = argv[++i] ?? '';
      const eq = kv.indexOf('=');
      if (eq < 1) usage(`--filter-option wants KEY=VALUE, got "${kv}"`);
      args.options.set(kv.slice(0, eq), kv.slice(eq + 1));
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length < 2 || rest.length > 3) usage('give LOG and FILTER');
  [args.log, args.filter, args.ignoreregex] = rest;
  if (args.now !== undefined && !Number.isFinite(args.now)) usage('--now wants epoch seconds');
  return args;
}

function usage(problem: string): never {
  process.stderr.write(`f2b-regex: ${problem}\n${USAGE}`);
  process.exit(2);
}

function loadFilter(spec: string, options: Map<string, string>, ignoreregex?: string): FilterDefinition {
  let def: FilterDefinition;
  if (spec.endsWith('.conf') || spec.endsWith('.local') || (existsSync(spec) && statSync(spec).isFile())) {
    def = loadFilterFile(spec, options);
  } else {
    const m = /^([\w.-]+)(\[.*\])?$/.exec(spec);
    if (m && builtinFilterNames().includes(m[1])) {
      const { name, options: own } = splitFilterSpec(spec);
      def = loadBuiltinFilter(name, new Map([...own, ...options]));
    } else {
      def = inlineFilter({ failregex: spec });
    }
  }
  if (ignoreregex) def.ignoreregex.push(ignoreregex);
  return def;
}

/**
 * A journalctl -o json entry as the line and time log-tail makes of it (`lines` keeps what the entries
 * before it said, as log-tail's does); null: dropped; undefined: not an entry.
 */
/** lib/tail/journal, loaded on first use. */
function journal(): typeof import('../lib/tail/journal') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../lib/tail/journal') as typeof import('../lib/tail/journal');
}

function journalEntry(text: string, lines: JournalLines): { line: string; time?: number } | null | undefined {
  if (!text.startsWith('{')) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const fields = entry as Record<string, unknown>;
  if (!('MESSAGE' in fields) && !('__CURSOR' in fields)) return undefined;
  const line = lines.line(fields);
  return line === null ? null : { line, time: journal().journalTime(fields) };
}

/** line.trim() === '', without making the trimmed copy for a line that starts with a visible ASCII character. */
function isBlank(line: string): boolean {
  const c = line.charCodeAt(0);
  return !(c > 32 && c < 127) && line.trim() === '';
}

/** Calls `each` with every line of a text; a last line without a newline counts. */
function eachLineOf(text: string, ascii: boolean, each: (line: string, ascii: boolean) => void): void {
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const stop = nl < 0 ? text.length : nl;
    each(text.slice(pos, stop), ascii);
    pos = stop + 1;
  }
}

/** Bytes read at a time: a log is read in pieces, not whole (a whole 20 MB file cost 10 ms more in page faults alone). */
const READ_SIZE = 1 << 20;

/**
 * Calls `each` with every line of a file, in order, and whether the piece of the file it came from has
 * ASCII characters only (then its text is the same read as Latin-1, which decodes in a fraction of
 * UTF-8's time). A piece ends after its last newline byte, which is never part of a UTF-8 sequence, so
 * the text is what decoding the whole file would give. A last line without a newline counts.
 */
function forEachLine(path: string, each: (line: string, ascii: boolean) => void): void {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(READ_SIZE);
    let kept = 0;
    for (;;) {
      const got = readSync(fd, buf, kept, buf.length - kept, null);
      const length = kept + got;
      if (length === 0) return;
      let end = got === 0 ? length : buf.lastIndexOf(10, length - 1) + 1;
      if (end === 0) {
        // No newline in all of it: a line longer than the buffer; read on into a larger one.
        const larger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(larger, 0, 0, length);
        buf = larger;
        kept = length;
        continue;
      }
      const piece = buf.subarray(0, end);
      const ascii = typeof isAscii === 'function' && isAscii(piece);
      eachLineOf(piece.toString(ascii ? 'latin1' : 'utf8'), ascii, each);
      if (got === 0) return;
      buf.copy(buf, 0, end, length);
      kept = length - end;
    }
  } finally {
    closeSync(fd);
  }
}

function main(): void {
  // Every pattern runs on every line of a file: V8's first step for a new pattern, compiling it for its
  // interpreter and running it there until it proves hot, is spent for nothing (10 to 20 ms a run).
  // Read when a pattern is first run, so it holds for all of ours.
  setFlagsFromString('--no-regexp-tier-up');
  // A line's garbage is a few short strings and arrays, collected young every few thousand lines: done
  // in this thread alone, each collection is cheaper than waking the helper threads for it (3% a run).
  setFlagsFromString('--no-parallel-scavenge');
  // Piped into head or less that quit: stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  const args = parseArgs(process.argv.slice(2));
  // As fail2ban gives a filter logtype=journal for the systemd backend, unless the filter spec or an option sets one.
  if (args.journal && !args.options.has('logtype') && !/\[(?:.*[\s,])?logtype\s*=/.test(args.filter)) args.options.set('logtype', 'journal');
  // The file is read at a few µs a line: a clock read every 1024 lines lags by milliseconds, and
  // Date.now() on every line cost 2% of the run (the sessions' ages are counted in minutes).
  let reads = 0;
  let wall = 0;
  const clock = () => ((reads++ & 1023) === 0 ? (wall = Date.now()) : wall);
  let matcher: Matcher;
  try {
    matcher = new Matcher(loadFilter(args.filter, args.options, args.ignoreregex), { checkAllRegex: true, undatedIsNow: false, maxLineLength: args.maxLineLength, clock, details: args.json });
  } catch (err) {
    process.stderr.write(`f2b-regex: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const isFile = existsSync(args.log) && statSync(args.log).isFile();
  // One word with a slash and no space is a path, not a log line: say it is missing rather than match it.
  if (!isFile && /\//.test(args.log) && !/\s/.test(args.log)) {
    process.stderr.write(`f2b-regex: ${args.log}: ${existsSync(args.log) ? 'not a file' : 'no such file'} (LOG is a log file, or one log line in quotes)\n`);
    process.exit(1);
  }
  const now = args.now ?? Date.now();
  let matched = 0;
  let ignored = 0;
  let tested = 0;
  let tooLong = 0;
  let dropped = 0;
  /**
   * Failures per address (or failure id), as fail2ban-regex counts hits; a counter object per address,
   * so that a failure costs one look-up of its (fresh, unhashed) address text, not two.
   */
  const hits = new Map<string, { n: number }>();
  const matchedLines: string[] = [];
  const missedLines: string[] = [];
  const out: string[] = [];
  const entryLines = args.journal ? new (journal().JournalLines)() : null;
  let index = 0;
  const each = (raw: string, asciiText: boolean): void => {
    index++;
    let line = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13 ? raw.replace(/[\r\n]+$/, '') : raw;
    let time = args.journal ? now : undefined;
    if (args.journal) {
      const entry = journalEntry(line, entryLines!);
      if (entry === null) {
        dropped++;
        return;
      }
      if (entry) {
        line = entry.line;
        time = entry.time ?? now;
      }
    }
    const r = matcher.match(line, time, now, asciiText && !args.journal);
    if (!args.json) {
      // Counted as fail2ban-regex counts: a no-failure match is "ignored", a pending one "matched".
      if (line.charCodeAt(0) === 35 /* # */ || isBlank(line)) return;
      tested++;
      if (r.tooLong) tooLong++;
      else if (r.ignored || r.nofail) {
        ignored++;
      } else if (r.failures.length + r.pending > 0) {
        matched++;
        for (const f of r.failures) {
          const count = hits.get(f.host);
          if (count === undefined) hits.set(f.host, { n: 1 });
          else count.n++;
        }
        if (args.matched) matchedLines.push(line);
      } else if (args.missed) missedLines.push(line);
      return;
    }
    const first = r.failures[0];
    out.push(
      JSON.stringify({
        line: index,
        match: !!first,
        count: r.failures.length,
        failregex: first ? first.failregex : null,
        host: first ? first.host : null,
        time: first && r.time !== null ? r.time / 1000 : null,
        attempts: first ? first.lines.length : 0,
        user: first?.user ?? null,
        ...(first?.users ? { users: first.users } : {}),
        fields: first ? first.fields : {},
        ignored: r.ignored,
        ...(r.tooLong ? { tooLong: true } : {}),
      }),
    );
  };
  if (isFile) forEachLine(args.log, each);
  else eachLineOf(args.log, false, each);
  if (args.json) {
    process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
    return;
  }
  const p = (s: string) => process.stdout.write(`${s}\n`);
  p(`Lines: ${tested} lines, ${ignored} ignored, ${matched} matched, ${tested - matched - ignored - tooLong} missed${tooLong ? `, ${tooLong} skipped` : ''}`);
  if (tooLong) {
    // Never cut and matched: the text left after a cut is whatever an attacker put there.
    p(`|- ${tooLong} line${tooLong === 1 ? '' : 's'} skipped unmatched: longer than ${args.maxLineLength} characters (--max-line-length)`);
  }
  if (dropped) p(`|- ${dropped} journal entr${dropped === 1 ? 'y' : 'ies'} dropped: message left out (journalctl without --all), cut by journald, or over 64 KiB`);
  if (hits.size) {
    // Most failures first; the same count in address order.
    const top = [...hits].map(([host, count]): [string, number] => [host, count.n]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const shown = args.matched ? top : top.slice(0, ADDRESSES_SHOWN);
    p(`Addresses: ${hits.size} with failures`);
    const width = Math.max(...shown.map(([h]) => h.length));
    for (const [host, n] of shown) p(`|  ${host.padEnd(width)}  ${n} failure${n === 1 ? '' : 's'}`);
    if (shown.length < top.length) p(`|  ... ${top.length - shown.length} more (--print-all-matched lists them all)`);
  }
  if (args.matched) {
    p(`|- Matched line(s):`);
    for (const l of matchedLines) p(`|  ${l}`);
  }
  if (args.missed) {
    p(`|- Missed line(s):`);
    for (const l of missedLines) p(`|  ${l}`);
  }
}

/**
 * Ends the process once stdout has taken all the output. Left to end by itself, Node.js first tears
 * down V8's heap and its own environment: 5 to 10 ms after a large log, a tenth of a short run, spent
 * for nothing. Where stdout writes in the background (a pipe on macOS) the last write is waited for;
 * the process would end by itself anyway once it is out.
 */
function exitWhenWritten(): void {
  if (process.stdout.writableLength === 0) process.exit();
  else process.stdout.once('drain', () => process.exit());
}

main();
exitWhenWritten();
