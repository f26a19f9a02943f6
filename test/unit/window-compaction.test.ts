/**
 * threshold-window's store folds a grown journal into a new snapshot a slice per event-loop turn: no
 * stall with many offenders, the same state after a restart, and nothing lost when it is cut short.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { FailureWindows, WindowStore } from '../../lib/window';

const policy = { maxretry: 5, findtime: 600, bantime: 600, maxEntries: 100_000 };
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const line = (i: number) => `Nov 25 02:45:01 box sshd[77]: Failed password for invalid user u${i} from ${ip(i)} port 40000 ssh2`;

test('a journal of 60,000 offenders is folded without a stall; a restart reads the same state', { timeout: 60000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-fold-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w.json');
  const now = Date.now();
  const w = new FailureWindows(policy);
  const s = new WindowStore(file, w, { compactBytes: 4 * 1024 * 1024, flushMs: 1e9 });
  s.open(now);
  const n = 60_000;
  for (let i = 0; i < n; i++) w.add(ip(i), now, line(i), now);
  const started = performance.now();
  s.flush(now); // writes the journal (8 MB here, at once), which is past 4 MB now: the fold starts
  const flushMs = performance.now() - started;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  // More failures while it runs, as in a flood.
  for (let k = 0; k < 20; k++) {
    for (let i = n + k * 100; i < n + (k + 1) * 100; i++) w.add(ip(i), now, line(i), now);
    s.flush(now);
    await new Promise((r) => setImmediate(r));
  }
  await s.settled();
  const foldMs = performance.now() - started;
  delay.disable();
  const stall = delay.max / 1e6;
  console.log(`window store fold of ${n} offenders: flush ${flushMs.toFixed(1)} ms, fold ${foldMs.toFixed(0)} ms in all, longest event-loop delay ${stall.toFixed(1)} ms`);
  assert.ok(stall < 100, `the event loop stalled ${stall} ms`);
  const journals = readdirSync(dir).filter((f) => f.endsWith('.journal'));
  assert.equal(journals.length, 1, `the journals before the new snapshot are deleted: ${journals}`);
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.compacting') || f.endsWith('.tmp')), 'no temporary file is left');
  // For comparison: the same snapshot written at once, as compact() does.
  const once = performance.now();
  s.compact(now);
  console.log(`window store: the same snapshot written at once (compact()) takes ${(performance.now() - once).toFixed(0)} ms`);
  s.close();
  const again = new FailureWindows(policy);
  new WindowStore(file, again).open(now);
  assert.equal(again.size, n + 2000);
  assert.deepEqual(again.state(), w.state());
});

test('a fold cut short by close() loses nothing: the old snapshot and every journal are still read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-fold-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w.json');
  const now = Date.now();
  const w = new FailureWindows(policy);
  const s = new WindowStore(file, w, { compactBytes: 1024 * 1024, flushMs: 1e9 });
  s.open(now);
  for (let i = 0; i < 20_000; i++) w.add(ip(i), now, line(i), now);
  s.flush(now); // starts a fold
  for (let i = 20_000; i < 20_100; i++) w.add(ip(i), now, line(i), now);
  await new Promise((r) => setImmediate(r));
  s.close(); // cuts it short; the new journal holds the last 100
  await s.settled();
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.compacting')), 'the unfinished snapshot is removed');
  const again = new FailureWindows(policy);
  const report = new WindowStore(file, again).open(now);
  assert.equal(report.offenders, 20_100);
  assert.deepEqual(again.state(), w.state());
});
