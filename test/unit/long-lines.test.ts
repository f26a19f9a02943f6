/**
 * Issue 17, part 1: a line over the length limit is refused whole, never cut and matched. Cut, a line
 * ends in whatever the attacker wrote before the cut: an sshd user name of `x from 10.0.0.1 port 22 `
 * repeated for 70 KB, cut at 64 KiB, reads as a failure of 10.0.0.1, an innocent address.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { inlineFilter, loadBuiltinFilter, loadFilterFile, Matcher, MAX_LINE_LENGTH, type FilterDefinition } from '../../lib/filter';
import { testFilter } from '../../lib/filter-tester';
import { framingLines, INNOCENT, tables } from '../support/filter-samples';
import { FAIL2BAN_FILTERS, unpackFail2ban } from '../support/fail2ban-corpus';

const root = resolve(__dirname, '..', '..', '..');
const NOW = new Date(2026, 10, 24, 12, 0, 0).getTime();
const HEAD = 'Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user ';
/** The issue's line: the user name frames 10.0.0.1 for 70 KB, then sshd writes the real address. */
const FRAMING = `${HEAD}${'x from 10.0.0.1 port 22 '.repeat(Math.ceil(70_000 / 24))}from 198.51.100.50 port 4444 ssh2`;

function fail2banSshd(): FilterDefinition | null {
  unpackFail2ban();
  const file = join(FAIL2BAN_FILTERS, 'sshd.conf');
  return existsSync(file) ? loadFilterFile(file) : null;
}

const hostsOf = (m: Matcher, line: string) => m.match(line, undefined, NOW).failures.map((f) => f.host);

test("the issue's framing line: cut, it would name 10.0.0.1; whole, it is refused", (t) => {
  const filters: Array<[string, FilterDefinition]> = [
    ['sshd', loadBuiltinFilter('sshd')],
    ['sshd[mode=aggressive]', loadBuiltinFilter('sshd', new Map([['mode', 'aggressive']]))],
  ];
  const theirs = fail2banSshd();
  if (theirs) filters.push(["fail2ban's filter.d/sshd.conf", theirs]);
  for (const [name, def] of filters) {
    // The danger is real: the first 64 KiB alone are a failure of the innocent address.
    assert.deepEqual(hostsOf(new Matcher(def), FRAMING.slice(0, MAX_LINE_LENGTH)), [INNOCENT], `${name}: the cut text frames ${INNOCENT}`);
    const m = new Matcher(def);
    const r = m.match(FRAMING, undefined, NOW);
    assert.equal(r.tooLong, true, name);
    assert.deepEqual(r.failures, [], name);
    // The matcher goes on as before with the next line.
    assert.deepEqual(hostsOf(m, `${HEAD}bob from 203.0.113.7 port 22 ssh2`), ['203.0.113.7'], name);
  }
  if (!theirs) t.diagnostic(`fail2ban's sshd.conf is not here (${unpackFail2ban()}): only the built-in filter was tried`);
});

test('every built-in filter refuses over-long lines that frame an address, on every sample failure', () => {
  let cases = 0;
  let framing = 0;
  for (const t of tables) {
    const def = loadBuiltinFilter(t.filter, new Map(Object.entries(t.options ?? {})));
    for (const line of framingLines(t.match)) {
      cases++;
      if (hostsOf(new Matcher(def), line.slice(0, MAX_LINE_LENGTH)).includes(INNOCENT)) framing++;
      const r = new Matcher(def).match(line, undefined, NOW);
      assert.equal(r.tooLong, true, `${t.filter}: ${line.slice(0, 200)}`);
      assert.deepEqual(r.failures, [], `${t.filter}: ${line.slice(0, 200)}`);
    }
  }
  assert.ok(cases > 100, `${cases} crafted lines`);
  // Many of them would have framed the innocent address had they been cut and matched.
  assert.ok(framing > cases / 4, `${framing} of ${cases} cut lines frame ${INNOCENT}`);
});

test('f2b-regex skips the framing lines of every built-in filter and reports no address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-long-'));
  try {
    const cli = join(root, 'dist', 'bin', 'f2b-regex.js');
    for (const t of tables) {
      const lines = framingLines(t.match);
      const log = join(dir, `${t.filter}.log`);
      writeFileSync(log, lines.join('\n') + '\n');
      const spec = t.options ? `${t.filter}[${Object.entries(t.options).map(([k, v]) => `${k}="${v}"`).join(', ')}]` : t.filter;
      const r = spawnSync(process.execPath, [cli, '--json', '--now', String(NOW / 1000), log, spec], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(r.status, 0, `${spec}: ${r.stderr}`);
      const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string | null; tooLong?: boolean });
      assert.equal(rows.length, lines.length, spec);
      for (const row of rows) assert.deepEqual([row.host, row.tooLong], [null, true], spec);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a line at the limit is matched; one character more and it is refused', () => {
  const m = new Matcher(inlineFilter({ failregex: '^x from <HOST>' }), { maxLineLength: 40 });
  const line = 'x from 203.0.113.9 '.padEnd(40, 'y');
  assert.deepEqual(hostsOf(m, line), ['203.0.113.9']);
  const r = m.match(`${line}y`, undefined, NOW);
  assert.deepEqual([r.tooLong, r.failures.length], [true, 0]);
});

test('with maxlines, a refused line keeps the lines around it apart', () => {
  const def = inlineFilter({ failregex: String.raw`^login as <F-USER>\S+</F-USER>\n.*failed from <HOST>$`, maxlines: 2 });
  // Adjacent, the two lines make a failure of 10.0.0.1 ...
  const joined = new Matcher(def);
  joined.match('login as eve', undefined, NOW);
  assert.deepEqual(hostsOf(joined, 'auth failed from 10.0.0.1'), [INNOCENT]);
  // ... but with a refused line between them they are not adjacent, in fail2ban's buffer or ours.
  const m = new Matcher(def, { maxLineLength: 100 });
  m.match('login as eve', undefined, NOW);
  assert.equal(m.match('y'.repeat(101), undefined, NOW).tooLong, true);
  assert.deepEqual(hostsOf(m, 'auth failed from 10.0.0.1'), []);
});

test('the live tester refuses over-long lines as the node does, and shows them cut', () => {
  const report = testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: [FRAMING, `${HEAD}bob from 203.0.113.7 port 22 ssh2`], now: NOW });
  assert.deepEqual(report.summary, { lines: 2, matched: 1, ignored: 0, missed: 0, tooLong: 1 });
  assert.equal(report.lines[0].tooLong, true);
  assert.deepEqual(report.lines[0].failures, []);
  assert.equal(report.lines[0].length, FRAMING.length);
  assert.ok(report.lines[0].line.length < FRAMING.length);
  assert.deepEqual(report.lines[1].failures.map((f) => f.host), ['203.0.113.7']);
  // The node's own limit is honoured.
  const low = testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd', maxLineLength: '50' }, lines: [`${HEAD}bob from 203.0.113.7 port 22 ssh2`], now: NOW });
  assert.equal(low.summary.tooLong, 1);
  assert.throws(() => testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd', maxLineLength: 'lots' }, lines: ['x'] }), /maxLineLength must be a whole number/);
});

test('f2b-regex skips over-long lines, says how many, and never reports the framed address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-long-'));
  try {
    const log = join(dir, 'auth.log');
    writeFileSync(log, [FRAMING, `${HEAD}bob from 203.0.113.7 port 22 ssh2`, 'Nov 24 10:00:03 box sshd[4243]: Accepted publickey for deploy from 198.51.100.9 port 1 ssh2', FRAMING].join('\n') + '\n');
    const cli = join(root, 'dist', 'bin', 'f2b-regex.js');
    const filters = ['sshd', 'sshd[mode=aggressive]'];
    const theirs = join(FAIL2BAN_FILTERS, 'sshd.conf');
    if (existsSync(theirs)) filters.push(theirs);
    for (const filter of filters) {
      const summary = spawnSync(process.execPath, [cli, '--print-all-matched', log, filter], { encoding: 'utf8', maxBuffer: 16 << 20 });
      assert.equal(summary.status, 0, summary.stderr);
      assert.match(summary.stdout, /^Lines: 4 lines, [01] ignored, 1 matched, [01] missed, 2 skipped$/m, filter);
      assert.match(summary.stdout, /\|- 2 lines skipped unmatched: longer than 65536 characters/, filter);
      assert.doesNotMatch(summary.stdout, /10\.0\.0\.1/);
      const json = spawnSync(process.execPath, [cli, '--json', log, filter], { encoding: 'utf8', maxBuffer: 16 << 20 });
      const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string | null; tooLong?: boolean });
      assert.deepEqual(rows.map((r) => [r.host, r.tooLong ?? false]), [[null, true], ['203.0.113.7', false], [null, false], [null, true]], filter);
      // With a limit above the line's length it is matched whole: the real address, as fail2ban finds.
      const whole = spawnSync(process.execPath, [cli, '--json', '--max-line-length', '100000', log, filter], { encoding: 'utf8', maxBuffer: 16 << 20 });
      assert.equal(JSON.parse(whole.stdout.split('\n')[0]).host, '198.51.100.50', filter);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
