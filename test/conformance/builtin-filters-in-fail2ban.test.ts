/**
 * Our built-in filters are fail2ban filter files: fail2ban itself (its fail2ban-regex, from Debian's
 * package, unpacked) loads each one and finds, on every sample line, the same failure as we do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BUILTIN_FILTER_DIR, loadBuiltinFilter, Matcher } from '../../lib/filter';
import { parseAddress } from '../../lib/ip';
import { tables } from '../support/filter-samples';

const root = resolve(__dirname, '..', '..', '..');
const shared = resolve(root, '..', 'shared', 'conformance');
const corpus = process.env.F2B_CORPUS ?? join(root, '.cache', 'fail2ban-corpus');
const NOW = new Date(2026, 10, 24, 12, 0, 0).getTime();

function fail2banAvailable(): string | false {
  if (spawnSync('python3', ['--version']).error) return 'python3 is not installed';
  if (!existsSync(join(corpus, 'usr/bin/fail2ban-regex'))) {
    if (!existsSync(join(shared, 'get-corpus.sh'))) return `no fail2ban package at ${corpus}`;
    const get = spawnSync('sh', [join(shared, 'get-corpus.sh'), corpus], { encoding: 'utf8' });
    if (get.status !== 0) return `could not unpack Debian's fail2ban package: ${get.stderr}`;
  }
  return false;
}

const skip = fail2banAvailable();
const same = (a: string | null, b: string | null) => a === b || (a !== null && b !== null && parseAddress(a)?.text === parseAddress(b)?.text);

test('fail2ban loads every built-in filter and finds what we find on its sample lines', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-compat-'));
  try {
    for (const t of tables) {
      const lines = [...t.match.map((h) => h.line), ...t.miss, ...t.injected.map((i) => i.line)].filter((l) => !l.includes('\t'));
      const log = join(dir, `${t.filter}.log`);
      writeFileSync(log, lines.join('\n') + '\n');
      const spec = t.options ? `${t.filter}[${Object.entries(t.options).map(([k, v]) => `${k}="${v}"`).join(', ')}]` : t.filter;
      // With options, fail2ban wants NAME[...] and looks it up under <config>/filter.d.
      const cfg = join(dir, 'cfg');
      mkdirSync(join(cfg, 'filter.d'), { recursive: true });
      for (const f of [`${t.filter}.conf`, 'common.conf']) copyFileSync(join(BUILTIN_FILTER_DIR, f), join(cfg, 'filter.d', f));
      const r = spawnSync('python3', [join(corpus, 'usr/bin/fail2ban-regex'), '-c', cfg, '-o', '<fid>\t<msg>', log, t.options ? spec : join(BUILTIN_FILTER_DIR, `${t.filter}.conf`)], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: join(corpus, 'usr/lib/python3/dist-packages') },
      });
      assert.equal(r.status, 0, `fail2ban-regex on ${spec}: ${r.stderr}`);
      const theirs = new Map<string, string>();
      for (const row of r.stdout.split('\n').filter(Boolean)) {
        const tab = row.indexOf('\t');
        theirs.set(row.slice(tab + 1), row.slice(0, tab));
      }
      assert.ok(t.match.length === 0 || theirs.size > 0, `${spec}: fail2ban found none of the failures`);
      const matcher = new Matcher(loadBuiltinFilter(t.filter, new Map(Object.entries(t.options ?? {}))));
      for (const line of lines) {
        const ours = matcher.match(line, undefined, NOW).failures[0]?.host ?? null;
        // fail2ban turns a host name into addresses by DNS (usedns), which finds none here; we report the name.
        if (ours !== null && !parseAddress(ours) && !theirs.has(line)) continue;
        assert.ok(same(ours, theirs.get(line) ?? null), `${spec}: fail2ban finds ${theirs.get(line) ?? 'nothing'}, we find ${ours ?? 'nothing'}, in:\n${line}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
