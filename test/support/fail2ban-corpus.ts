/**
 * fail2ban's Debian package, unpacked (never installed) for the tests and benches that compare with
 * fail2ban: its filter.d, its fail2ban-regex and its sample-log test corpus. And a replay of that
 * corpus: each sample log's annotated lines (`# failJSON: {...}` before a line, `# filterOptions:`,
 * `# fileOptions:`, `# addFILE:`) walked the way fail2ban's own sample test case walks them, so that
 * another matcher can be held to what fail2ban expects of every line.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseAddress } from '../../lib/ip';

const ROOT = resolve(__dirname, '..', '..', '..');

/** Where the package is unpacked: $F2B_CORPUS, else .cache/fail2ban-corpus in the checkout. */
export const CORPUS_DIR = process.env.F2B_CORPUS ?? join(ROOT, '.cache', 'fail2ban-corpus');

/** fail2ban's filter.d in the unpacked package. */
export const FAIL2BAN_FILTERS = join(CORPUS_DIR, 'etc', 'fail2ban', 'filter.d');
/** fail2ban's Python package (tests/ inside). */
export const FAIL2BAN_PYTHON = join(CORPUS_DIR, 'usr', 'lib', 'python3', 'dist-packages');
/** fail2ban's own fail2ban-regex. */
export const FAIL2BAN_REGEX = join(CORPUS_DIR, 'usr', 'bin', 'fail2ban-regex');

let unpacked: string | null | undefined;

/**
 * Unpacks Debian's fail2ban package into CORPUS_DIR unless it is there (apt-get download, dpkg -x; the
 * package lists are refreshed once if the download fails). Returns null when it is there, else why not.
 */
export function unpackFail2ban(): string | null {
  if (unpacked !== undefined) return unpacked;
  if (existsSync(FAIL2BAN_FILTERS) && existsSync(join(FAIL2BAN_PYTHON, 'fail2ban', 'tests', 'files', 'logs'))) return (unpacked = null);
  const work = mkdtempSync(join(tmpdir(), 'f2b-deb-'));
  try {
    const download = () => spawnSync('apt-get', ['download', 'fail2ban'], { cwd: work, encoding: 'utf8' });
    let got = download();
    if (got.error) return (unpacked = `apt-get is not available (${got.error.message}): fail2ban's package cannot be unpacked`);
    if (got.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      got = download();
    }
    const deb = readdirSync(work).find((f) => /^fail2ban_.*\.deb$/.test(f));
    if (got.status !== 0 || !deb) return (unpacked = `apt-get download fail2ban failed: ${(got.stderr || got.stdout).trim().slice(0, 300)}`);
    mkdirSync(CORPUS_DIR, { recursive: true });
    const x = spawnSync('dpkg', ['-x', join(work, deb), CORPUS_DIR], { encoding: 'utf8' });
    if (x.status !== 0) return (unpacked = `dpkg -x failed: ${(x.stderr || String(x.error)).trim().slice(0, 300)}`);
    return (unpacked = existsSync(FAIL2BAN_FILTERS) ? null : `fail2ban's package has no ${FAIL2BAN_FILTERS}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** What fail2ban's test expects of one line (its failJSON); empty for a line with none (no match expected). */
export type Expected = Record<string, unknown>;

/** One line fed to a filter, as it was written in a sample log. */
export interface SampleLine {
  text: string;
  /** `file:line` in the corpus. */
  where: string;
  expected: Expected;
}

/** The lines one filter (one set of options) is fed, in order: one fail2ban Filter object of the test. */
export interface SampleStream {
  /** The filter test (a filter.d name, or a zzz- test filter). */
  test: string;
  /** The filter file to load. */
  filterFile: string;
  /** Its options, as `filter = NAME[...]` would give them. */
  options: Record<string, string>;
  /** Lines are journal messages (logtype=journal): no date is looked for. */
  journal: boolean;
  lines: SampleLine[];
}

/** fail2ban's fixed "now" for its sample tests: 2005-08-14 12:00:00 CEST. */
export const SAMPLE_NOW_S = 1124013600;

const ANNOTATION = /^#+ ?(failJSON|fileOptions|filterOptions|addFILE):([^\n]+)$/;
/** Python's str.isspace() characters: a line of only these is blank to fail2ban. */
const BLANK = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/**
 * The expressions fail2ban's samples use as conditions ("opts.get('mode') == 'aggressive'", "name ==
 * 'sshd'", with and/or/not), evaluated without eval: a small recursive reader of that grammar.
 */
function condition(expr: string, name: string, opts: Record<string, unknown>): boolean {
  const tokens = expr.match(/opts\.get\(\s*(['"])(?:[^'"\\]|\\.)*?\1\s*(?:,\s*(['"])(?:[^'"\\]|\\.)*?\2\s*)?\)|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|==|!=|\(|\)|\bnot\b|\band\b|\bor\b|\bname\b|\bNone\b|\bTrue\b|\bFalse\b|\S/g) ?? [];
  let at = 0;
  const value = (t: string): unknown => {
    if (t === 'name') return name;
    if (t === 'None') return null;
    if (t === 'True') return true;
    if (t === 'False') return false;
    const get = /^opts\.get\(\s*(['"])(.*?)\1\s*(?:,\s*(['"])(.*?)\3\s*)?\)$/.exec(t);
    if (get) return Object.prototype.hasOwnProperty.call(opts, get[2]) ? opts[get[2]] : get[4] ?? null;
    if (/^['"]/.test(t)) return t.slice(1, -1);
    throw new Error(`condition ${JSON.stringify(expr)}: cannot read ${t}`);
  };
  const primary = (): unknown => {
    const t = tokens[at++];
    if (t === 'not') return !truthy(comparison());
    if (t === '(') {
      const v = or();
      if (tokens[at++] !== ')') throw new Error(`condition ${JSON.stringify(expr)}: ) expected`);
      return v;
    }
    return value(t);
  };
  const truthy = (v: unknown) => v !== null && v !== false && v !== '' && v !== undefined;
  const comparison = (): unknown => {
    const left = primary();
    const op = tokens[at];
    if (op !== '==' && op !== '!=') return left;
    at++;
    const right = primary();
    return op === '==' ? left === right : left !== right;
  };
  const and = (): unknown => {
    let v = comparison();
    while (tokens[at] === 'and') {
      at++;
      const r = comparison();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const or = (): unknown => {
    let v = and();
    while (tokens[at] === 'or') {
      at++;
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const result = or();
  if (at !== tokens.length) throw new Error(`condition ${JSON.stringify(expr)}: unexpected ${tokens[at]}`);
  return truthy(result);
}

/** An option's value as `filter = NAME[k=v]` gives it: text as it is, anything else as Python writes it. */
function optionText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** The stream key fail2ban gives a set of options: the test name, then the options as a Python dict. */
function streamKey(test: string, opts: Record<string, unknown>): string {
  const named = opts['test.filter-name'];
  if (typeof named === 'string' && named) return test + named;
  const shown = Object.entries(opts).filter(([k]) => !k.startsWith('test.'));
  return test + (shown.length ? `{${shown.map(([k, v]) => `${k}=${optionText(v)}`).join(', ')}}` : '');
}

/**
 * The filter tests of the corpus (filter.d/*.conf but common.conf, and the test suite's zzz-* filters,
 * staged under `stage` so that their relative include of common.conf resolves), each walked into its
 * streams. Throws with the file and line when an annotation cannot be read.
 */
export function sampleStreams(stage: string): SampleStream[] {
  const logs = join(FAIL2BAN_PYTHON, 'fail2ban', 'tests', 'files', 'logs');
  const tests: Array<{ name: string; file: string }> = [];
  for (const f of readdirSync(FAIL2BAN_FILTERS).sort()) {
    if (f.endsWith('.conf') && !f.endsWith('common.conf') && !f.startsWith('.')) tests.push({ name: f.slice(0, -5), file: join(FAIL2BAN_FILTERS, f) });
  }
  const testFilters = join(FAIL2BAN_PYTHON, 'fail2ban', 'tests', 'config', 'filter.d');
  if (existsSync(testFilters)) {
    for (const f of readdirSync(testFilters).sort()) {
      if (f.startsWith('zzz-') && f.endsWith('.conf')) tests.push({ name: f.slice(0, -5), file: stageTestFilter(join(testFilters, f), stage) });
    }
  }
  const streams: SampleStream[] = [];
  for (const t of tests) {
    if (!existsSync(join(logs, t.name))) continue;
    streams.push(...walk(t.name, t.file, logs));
  }
  return streams;
}

/** A zzz- test filter includes common.conf by a path that holds only in fail2ban's source tree: copy both where it holds. */
function stageTestFilter(file: string, stage: string): string {
  const text = readFileSync(file, 'utf8');
  const include = /^\s*before\s*=\s*((?:\.\.\/)+)(\S+)\s*$/m.exec(text);
  const depth = include ? include[1].length / 3 : 1;
  const dir = join(stage, ...Array.from({ length: depth - 1 }, (_, i) => `level${i + 1}`), 'filter.d');
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, basename(file));
  copyFileSync(file, copy);
  if (include) {
    const target = join(stage, include[2]);
    const stock = join(FAIL2BAN_FILTERS, basename(include[2]));
    if (!existsSync(target) && existsSync(stock)) {
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(stock, target);
    }
  }
  return copy;
}

/** One filter test's sample log(s), as the streams of lines each set of filter options is fed. */
function walk(test: string, filterFile: string, logs: string): SampleStream[] {
  const streams = new Map<string, SampleStream>();
  const files = [test];
  let fileOptions: Record<string, unknown> = {};
  let targets: Array<{ stream: SampleStream; opts: Record<string, unknown> }> | null = null;
  for (let f = 0; f < files.length; f++) {
    const text = readFileSync(join(logs, files[f])).toString('utf8');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    let skipBlock = false;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i].replace(/[\r\n]+$/, '');
      let where = `${files[f]}:${i + 1}`;
      let expected: Expected = {};
      const note = ANNOTATION.exec(line);
      if (note) {
        let data: unknown;
        try {
          data = JSON.parse(note[2]);
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}`);
        }
        if (note[1] === 'fileOptions') {
          fileOptions = data as Record<string, unknown>;
          continue;
        }
        if (note[1] === 'addFILE') {
          files.push(String(data));
          continue;
        }
        if (note[1] === 'filterOptions') {
          targets = [];
          skipBlock = false;
          for (const one of Array.isArray(data) ? data : [data]) {
            const opts = { ...fileOptions, ...(one as Record<string, unknown>) };
            if (typeof opts['test.condition'] === 'string') skipBlock = !condition(opts['test.condition'], test, opts);
            if (skipBlock) continue;
            const key = streamKey(test, opts);
            let stream = streams.get(key);
            if (!stream) {
              const options = Object.fromEntries(Object.entries(opts).filter(([k]) => !k.startsWith('test.')).map(([k, v]) => [k, optionText(v)]));
              stream = { test, filterFile, options, journal: options.logtype === 'journal', lines: [] };
              streams.set(key, stream);
            }
            targets.push({ stream, opts });
          }
          continue;
        }
        // failJSON: the line after it is the one under test, whatever it holds.
        expected = data as Expected;
        if (++i >= lines.length) break;
        line = lines[i].replace(/[\r\n]+$/, '');
        where = `${files[f]}:${i + 1}`;
      } else if (skipBlock || line.startsWith('#') || BLANK.test(line)) {
        continue;
      }
      if (skipBlock) continue;
      if (!targets || targets.length === 0) {
        let stream = streams.get(test);
        if (!stream) streams.set(test, (stream = { test, filterFile, options: {}, journal: false, lines: [] }));
        targets = [{ stream, opts: {} }];
      }
      for (const target of targets) {
        if (typeof expected.constraint === 'string' && !condition(expected.constraint, test, target.opts)) continue;
        // fail2ban's test puts a prefix before journal lines where the options ask for one, and keeps it
        // for the options after (its loop writes the prefixed line back).
        if (target.opts.logtype === 'journal' && typeof target.opts['test.prefix-line'] === 'string') line = target.opts['test.prefix-line'] + line;
        target.stream.lines.push({ text: line, where, expected });
      }
    }
  }
  return [...streams.values()];
}

/** One line's result as `f2b-regex --json` writes it. */
export interface CliResult {
  match: boolean;
  count: number;
  failregex: number | null;
  host: string | null;
  time: number | null;
  attempts: number;
  user: string | null;
  users?: string[];
  fields: Record<string, string>;
}

/** A failJSON local time (the test suite's zone, which Europe/Zurich matches for every corpus date) in epoch seconds. */
function expectedTime(text: string): number {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw new Error(`failJSON time ${JSON.stringify(text)} is not %Y-%m-%dT%H:%M:%S`);
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Zurich', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // The offset at that instant, found by reading the zone's wall clock back (two tries cover a change of offset).
  let t = wall;
  for (let k = 0; k < 2; k++) {
    const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    const seen = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    t -= seen - wall;
  }
  return t / 1000 + (m[7] ? Number(`0.${m[7]}`) : 0);
}

/** Two failure ids the same: the same text, or the same address (IPv4-mapped IPv6 is IPv4, as fail2ban's IPAddr has it). */
const sameHost = (got: string, want: string) => {
  if (got === want) return true;
  const a = parseAddress(got);
  return a !== null && a.text === parseAddress(want)?.text;
};

/** What is wrong with a line's result against fail2ban's expectation: [] when nothing. */
export function disagreements(expected: Expected, got: CliResult | undefined): string[] {
  if (!got) return ['no result for this line'];
  const should = !!expected.match;
  const did = got.match && got.count > 0;
  if (!did) return should ? ['not matched; fail2ban matches it'] : [];
  if (!should) return [`matched (failregex ${got.failregex}, host ${JSON.stringify(got.host)}); fail2ban does not match it`];
  const out: string[] = [];
  if (got.count !== 1) out.push(`${got.count} failregex matched it; fail2ban's test wants exactly one`);
  for (const [key, want] of Object.entries(expected)) {
    if (key === 'match' || key === 'time' || key === 'desc' || key === 'constraint') continue;
    const value = got.fields?.[key] ?? (key === 'host' ? got.host : key === 'attempts' ? got.attempts : key === 'user' ? got.user : key === 'users' ? got.users : undefined) ?? null;
    if (want !== null && typeof want === 'object') {
      const a = Array.isArray(value) ? value.map(String).sort() : null;
      const b = (Array.isArray(want) ? want : Object.keys(want as object)).map(String).sort();
      if (!a || a.join('\u0000') !== b.join('\u0000')) out.push(`${key}: ${JSON.stringify(value)}, fail2ban's test wants ${JSON.stringify(want)}`);
    } else if (key === 'host' && value !== null && want !== null) {
      if (!sameHost(String(value), String(want))) out.push(`host: ${JSON.stringify(value)}, fail2ban's test wants ${JSON.stringify(want)}`);
    } else if (value !== want) out.push(`${key}: ${JSON.stringify(value)}, fail2ban's test wants ${JSON.stringify(want)}`);
  }
  if (typeof expected.time === 'string') {
    const want = expectedTime(expected.time);
    if (typeof got.time !== 'number' || Math.abs(got.time - want) > 1e-5) out.push(`time: ${got.time}, fail2ban's test wants ${expected.time} (${want})`);
  }
  return out;
}
