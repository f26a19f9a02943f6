/**
 * The window store under SIGKILL: a child process counts failures as fast as it can, never giving the
 * event loop a turn, and is killed; what it had counted over a second before is all on disk.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FailureWindows, WindowStore } from '../../lib/window';

const policy = { maxretry: 1000, findtime: 3600, bantime: 600, maxEntries: 10_000_000 };

test('SIGKILL of a busy process loses no failure counted more than a second before', { timeout: 60000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-kill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'windows.json');
  const script = `
    const { writeSync } = require('fs');
    const { FailureWindows, WindowStore } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'window'))});
    const w = new FailureWindows(${JSON.stringify(policy)});
    new WindowStore(${JSON.stringify(file)}, w).open();
    let n = 0;
    for (;;) {
      const now = Date.now();
      for (const end = n + 2000; n < end; n++) w.add('offender-' + n, now, 'failure line ' + n, now);
      writeSync(1, n + ' ' + Date.now() + '\\n');
    }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Listened for from the start: the end of the child cannot slip past a listener added later.
  const closed = new Promise((r) => child.once('close', r));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const progress: Array<[number, number]> = [];
  let buffered = '';
  let start = 0;
  const killedAt = await new Promise<number>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the child exited (${code}): ${stderr}`)));
    child.stdout!.on('data', (d) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) {
        const [n, at] = l.split(' ').map(Number);
        progress.push([n, at]);
        if (!start) start = at;
        if (at - start >= 2000) {
          const now = Date.now();
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          resolve(now);
          return;
        }
      }
    });
  });
  await closed;
  assert.equal(child.signalCode, 'SIGKILL');

  const w = new FailureWindows(policy);
  const report = new WindowStore(file, w).open();
  const mustHave = Math.max(0, ...progress.filter(([, at]) => at <= killedAt - 1000).map(([n]) => n));
  const counted = progress[progress.length - 1][0];
  assert.ok(mustHave > 10_000, `the child counted enough before the deadline (${mustHave})`);
  assert.ok(w.size >= mustHave, `restored ${w.size} offenders; ${mustHave} were counted more than a second before the kill (${counted} in all)`);
  assert.ok(w.size <= counted + 2000, `no more than were counted (${w.size} > ${counted})`);
  assert.ok(report.skipped <= 1, `at most one line cut short (${report.skipped})`);
});
