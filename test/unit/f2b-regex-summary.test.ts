/** f2b-regex's summary: the addresses found and how often, a missing LOG path said as such, a closed pipe. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const cli = join(resolve(__dirname, '..', '..', '..'), 'dist', 'bin', 'f2b-regex.js');
const f2bRegex = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('the summary lists the addresses with failures, most first, and how many each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-summary-'));
  try {
    const log = join(dir, 'auth.log');
    const fail = (ip: string, user = 'root') => `Nov 24 10:00:01 box sshd[1]: Failed password for ${user} from ${ip} port 22 ssh2`;
    const lines = [fail('203.0.113.5'), fail('198.51.100.7'), fail('203.0.113.5', 'admin'), 'Nov 24 10:00:02 box sshd[2]: Accepted publickey for deploy from 192.0.2.1 port 1 ssh2', fail('203.0.113.5')];
    for (let i = 0; i < 25; i++) lines.push(fail(`192.0.2.${100 + i}`));
    writeFileSync(log, lines.join('\n') + '\n');
    const r = f2bRegex(log, 'sshd');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.split('\n');
    assert.equal(out[0], 'Lines: 30 lines, 0 ignored, 29 matched, 1 missed');
    assert.equal(out[1], 'Addresses: 27 with failures');
    assert.match(out[2], /^\|  203\.0\.113\.5 +3 failures$/);
    // Then the addresses with one failure each, in address order, cut at 20 rows.
    assert.match(out[3], /^\|  192\.0\.2\.100 +1 failure$/);
    assert.equal(out.filter((l) => /^\|  .* failures?$/.test(l)).length, 20);
    assert.ok(out.includes('|  ... 7 more (--print-all-matched lists them all)'), r.stdout);
    const all = f2bRegex('--print-all-matched', log, 'sshd');
    assert.equal(all.stdout.split('\n').filter((l) => /^\|  .* failures?$/.test(l)).length, 27);
    // Nothing matched: no address list.
    assert.doesNotMatch(f2bRegex(lines[3], 'sshd').stdout, /Addresses/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a LOG that is a path to no file is an error that says so, not a log line', () => {
  const r = f2bRegex('/var/log/no-such-auth.log', 'sshd');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\/var\/log\/no-such-auth\.log: no such file \(LOG is a log file, or one log line in quotes\)/);
  const dirAsLog = f2bRegex(tmpdir(), 'sshd');
  assert.match(dirAsLog.stderr, /not a file/);
  // A log line with slashes in it is still a line.
  const line = f2bRegex('2026/11/24 10:00:01 [error] 811#811: *5 user "alice": password mismatch, client: 203.0.113.5, server: x, request: "GET / HTTP/1.1", host: "x"', 'nginx-http-auth');
  assert.equal(line.status, 0, line.stderr);
  assert.match(line.stdout, /^Lines: 1 lines, 0 ignored, 1 matched, 0 missed$/m);
});

test('piped into a reader that stops early, it ends quietly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-summary-'));
  try {
    const log = join(dir, 'auth.log');
    writeFileSync(log, Array.from({ length: 20000 }, (_, i) => `Nov 24 10:00:01 box sshd[1]: Failed password for root from 10.${i >> 8 & 255}.${i & 255}.1 port 22 ssh2`).join('\n') + '\n');
    const r = spawnSync('sh', ['-c', '"$0" "$1" --print-all-matched "$2" sshd | head -n 2', process.execPath, cli, log], { encoding: 'utf8' });
    assert.equal(r.stdout.split('\n').length, 3);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
