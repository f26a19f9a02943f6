/**
 * fail2ban's own filter test corpus (Debian's fail2ban package: its filter.d and sample logs), replayed
 * through f2b-regex --json by the shared conformance harness: every one of its checks must pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(__dirname, '..', '..', '..');
const shared = resolve(root, '..', 'shared', 'conformance');
const corpus = process.env.F2B_CORPUS ?? join(root, '.cache', 'fail2ban-corpus');

test('f2b-regex finds exactly what fail2ban finds in its own sample logs', { timeout: 600_000, skip: existsSync(join(shared, 'conformance.mjs')) ? false : `no conformance harness at ${shared}` }, () => {
  const get = spawnSync('sh', [join(shared, 'get-corpus.sh'), corpus], { encoding: 'utf8' });
  assert.equal(get.status, 0, `could not unpack Debian's fail2ban package: ${get.stderr}`);
  const cli = `${process.execPath} ${join(root, 'dist', 'bin', 'f2b-regex.js')}`;
  const run = spawnSync(process.execPath, [join(shared, 'conformance.mjs'), '--cli', cli, '--tree', corpus, '--quiet'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const summary = run.stdout.trim().split('\n').pop() ?? '';
  const failing = run.stdout.split('\n').filter((l) => /\bFAIL\b|\bERROR\b/.test(l));
  assert.match(summary, /^\d+ passed, 0 failed$/, `${summary}\n${failing.join('\n')}\n${run.stderr}`);
  assert.equal(run.status, 0);
  const passed = Number(/^(\d+) passed/.exec(summary)?.[1]);
  assert.ok(passed >= 1627, `the corpus has 1627 checks; ${passed} ran`);
});
