/**
 * Our built-in filters are fail2ban filter files: fail2ban itself (its fail2ban-regex, from Debian's
 * package, unpacked) loads each one and finds, on every sample line, the same failure as we do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILTIN_FILTER_DIR, loadBuiltinFilter, Matcher } from '../../lib/filter';
import { parseAddress } from '../../lib/ip';
import { type Hit, type Session, type Table, type Upstream, tableLines, tables } from '../support/filter-samples';
import { CORPUS_DIR, FAIL2BAN_REGEX, unpackFail2ban } from '../support/fail2ban-corpus';

const corpus = CORPUS_DIR;
const NOW = new Date(2026, 10, 24, 12, 0, 0).getTime();

function fail2banAvailable(): string | false {
  if (spawnSync('python3', ['--version']).error) return 'python3 is not installed';
  const missing = unpackFail2ban();
  if (missing) return missing;
  return existsSync(FAIL2BAN_REGEX) ? false : `no fail2ban-regex in ${corpus}`;
}

const skip = fail2banAvailable();
if (skip) console.log(`# SKIPPED: fail2ban itself cannot be run on the built-in filters: ${skip}`);
const same = (a: string | null, b: string | null) => a === b || (a !== null && b !== null && parseAddress(a)?.text === parseAddress(b)?.text);

/** Runs fail2ban-regex on lines; the offender it names for each line it matched (of a failure over several lines, each). */
function fail2banRegex(dir: string, name: string, lines: string[], filter: string, config: string): Map<string, string> {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, lines.join('\n') + '\n');
  const r = spawnSync('python3', [join(corpus, 'usr/bin/fail2ban-regex'), '--raw', '-c', config, '-o', '<fid>\t<msg>', log, filter], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(corpus, 'usr/lib/python3/dist-packages') },
  });
  assert.equal(r.status, 0, `fail2ban-regex on ${filter}: ${r.stderr}`);
  const theirs = new Map<string, string>();
  for (const row of r.stdout.split('\n').filter(Boolean)) {
    const tab = row.indexOf('\t');
    theirs.set(row.slice(tab + 1), row.slice(0, tab));
  }
  return theirs;
}

const specOf = (filter: string, options?: Record<string, string>) => (options ? `${filter}[${Object.entries(options).map(([k, v]) => `${k}="${v}"`).join(', ')}]` : filter);

test('fail2ban loads every built-in filter and finds what we find on its sample lines', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-compat-'));
  try {
    for (const t of tables) {
      const lines = tableLines(t).filter((l) => !l.includes('\t'));
      const spec = specOf(t.filter, t.options);
      // With options, fail2ban wants NAME[...] and looks it up under <config>/filter.d.
      const cfg = join(dir, 'cfg');
      mkdirSync(join(cfg, 'filter.d'), { recursive: true });
      for (const f of [`${t.filter}.conf`, 'common.conf']) copyFileSync(join(BUILTIN_FILTER_DIR, f), join(cfg, 'filter.d', f));
      const theirs = fail2banRegex(dir, t.filter, lines, t.options ? spec : join(BUILTIN_FILTER_DIR, `${t.filter}.conf`), cfg);
      assert.ok(t.match.length === 0 || theirs.size > 0, `${spec}: fail2ban found none of the failures`);
      // Ours, the lines in the same order through one matcher: a failure names each of its lines.
      const matcher = new Matcher(loadBuiltinFilter(t.filter, new Map(Object.entries(t.options ?? {}))));
      const ours = new Map<string, string>();
      for (const line of lines) for (const f of matcher.match(line, undefined, NOW).failures) for (const l of f.lines) ours.set(l, f.host);
      for (const line of lines) {
        const host = ours.get(line) ?? null;
        // fail2ban turns a host name into addresses by DNS (usedns), which finds none here; we report the name.
        if (host !== null && !parseAddress(host) && !theirs.has(line)) continue;
        assert.ok(same(host, theirs.get(line) ?? null), `${spec}: fail2ban finds ${theirs.get(line) ?? 'nothing'}, we find ${host ?? 'nothing'}, in:\n${line}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fail2ban's own filter for the daemon finds the same offender on the sample failures", { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-upstream-'));
  try {
    let compared = 0;
    let run = 0;
    for (const t of tables.filter((tt) => tt.upstream)) {
      // the lines each of fail2ban's filters reads: the table's, or the one a line names
      const groups = new Map<string, { up: Upstream; hits: Hit[]; sessions: Session[] }>();
      const group = (up: Upstream) => {
        const spec = specOf(up.filter, up.options);
        if (!groups.has(spec)) groups.set(spec, { up, hits: [], sessions: [] });
        return groups.get(spec)!;
      };
      group(t.upstream!);
      for (const h of t.match) if (h.upstream !== false) group(h.upstream ?? t.upstream!).hits.push(h);
      for (const ss of t.sessions ?? []) if (ss.upstream !== false) group(t.upstream!).sessions.push(ss);
      for (const [spec, g] of groups) {
        const lines = [...g.hits.map((h) => h.line), ...g.sessions.flatMap((ss) => ss.lines)];
        if (!lines.length) continue;
        const theirs = fail2banRegex(dir, `upstream-${run++}`, lines, spec, join(corpus, 'etc/fail2ban'));
        for (const h of g.hits) {
          assert.ok(same(h.host, theirs.get(h.line) ?? null), `fail2ban's ${spec} finds ${theirs.get(h.line) ?? 'nothing'}, ours ${h.host}, in:\n${h.line}`);
          compared++;
        }
        for (const ss of g.sessions) {
          const last = ss.lines[ss.lines.length - 1];
          assert.ok(same(ss.host, theirs.get(last) ?? null), `fail2ban's ${spec} finds ${theirs.get(last) ?? 'nothing'}, ours ${ss.host ?? 'nothing'}, in:\n${ss.lines.join('\n')}`);
          compared++;
        }
      }
      // the lines marked as ours alone are indeed missed by fail2ban's filter (else the mark is stale)
      const ownLines = [...t.match.filter((h) => h.upstream === false).map((h) => h.line), ...(t.sessions ?? []).filter((ss) => ss.upstream === false).flatMap((ss) => ss.lines)];
      if (ownLines.length) {
        const spec = specOf(t.upstream!.filter, t.upstream!.options);
        const own = fail2banRegex(dir, `own-${run++}`, ownLines, spec, join(corpus, 'etc/fail2ban'));
        for (const line of ownLines) assert.ok(!own.has(line) || !same(own.get(line)!, ours(t, line)), `fail2ban's ${spec} does find ${own.get(line)} in a line marked upstream: false:\n${line}`);
      }
    }
    assert.ok(compared > 100, `only ${compared} failures compared with fail2ban's own filters`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The host a table expects on one of its failure lines. */
function ours(t: Table, line: string): string | null {
  return t.match.find((h) => h.line === line)?.host ?? t.sessions?.find((ss) => ss.lines.includes(line))?.host ?? null;
}
