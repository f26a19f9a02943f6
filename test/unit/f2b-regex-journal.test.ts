/** f2b-regex --journal: journal lines (and journalctl -o json entries) read with logtype=journal. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const CLI = resolve(__dirname, '..', '..', 'bin', 'f2b-regex.js');

test('f2b-regex --journal: journal lines and journalctl -o json entries; an entry whose message is missing is dropped, not matched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-regex-journal-'));
  try {
    const log = join(dir, 'journal.txt');
    const entry = (fields: Record<string, unknown>) => JSON.stringify({ __CURSOR: 'c', _HOSTNAME: 'gw', SYSLOG_IDENTIFIER: 'sshd', ...fields });
    writeFileSync(
      log,
      [
        entry({ SYSLOG_PID: '12', __REALTIME_TIMESTAMP: '1767322800000000', MESSAGE: 'Failed password for root from 203.0.113.4 port 1 ssh2' }),
        entry({ MESSAGE: null }),
        'gw sshd[13]: Invalid user x from 203.0.113.5 port 2',
        // Another program's line is not sshd's.
        'gw logger[14]: Invalid user x from 203.0.113.6 port 2',
      ].join('\n') + '\n',
    );
    const run = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const json = run('--journal', '--json', '--now', '1767322900', log, 'sshd')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; host: string | null; time: number | null });
    assert.deepEqual(json.map((r) => [r.line, r.host, r.time]), [
      [1, '203.0.113.4', 1767322800],
      [3, '203.0.113.5', 1767322900],
      [4, null, null],
    ]);
    assert.match(run('--journal', log, 'sshd'), /^Lines: 3 lines, 0 ignored, 2 matched, 1 missed\n\|- 1 journal entry dropped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('f2b-regex --journal drops every piece of a line journald cut, as log-tail does: the rest begins with the attacker\'s text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-regex-journal-'));
  try {
    const log = join(dir, 'journal.txt');
    const entry = (fields: Record<string, unknown>) => JSON.stringify({ __CURSOR: 'c', _HOSTNAME: 'gw', SYSLOG_IDENTIFIER: 'sshd', SYSLOG_PID: '12', _STREAM_ID: 's1', ...fields });
    writeFileSync(
      log,
      [
        entry({ _LINE_BREAK: 'line-max', MESSAGE: `Failed password for invalid user ${'x'.repeat(100)}` }),
        // The rest of the cut line: written by the attacker to read as a failure of 10.0.0.1.
        entry({ MESSAGE: 'Failed password for root from 10.0.0.1 port 22 ssh2' }),
        entry({ MESSAGE: 'Failed password for root from 203.0.113.4 port 1 ssh2' }),
      ].join('\n') + '\n',
    );
    const out = execFileSync(process.execPath, [CLI, '--journal', '--json', log, 'sshd'], { encoding: 'utf8' });
    assert.deepEqual(out.trim().split('\n').map((l) => (JSON.parse(l) as { host: string | null }).host), ['203.0.113.4']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
