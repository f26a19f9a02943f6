/**
 * threshold-window: failures per second straight into lib/window, with and without the journal, and
 * heap after 1,000,000 distinct offenders. Run with --expose-gc (npm run bench does).
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { FailureWindows, WindowStore } from '../lib/window';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const MB = (n: number) => `${Math.round(n / 1048576)} MB`;
const T = Date.now();

/** Prints the rate by wall-clock time and by this process's CPU time (less skewed on a shared machine). */
function rate(label: string, n: number, fn: (i: number) => void): void {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`${label}: ${fmt(n / s)} failures per second by wall clock, ${fmt(n / cpuS)} per CPU second (${n.toLocaleString('en-US')} in ${s.toFixed(2)} s, CPU ${cpuS.toFixed(2)} s)`);
}

const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const line = (ip: string) => `Nov 25 00:11:52 box sshd[4242]: Failed password for invalid user admin from ${ip} port 50000 ssh2`;

// Heap first, in a fresh heap: 1,000,000 distinct offenders kept (maxEntries raised), one failure each.
function heap(label: string, withLines: boolean): void {
  gc();
  const before = process.memoryUsage().heapUsed;
  const w = new FailureWindows({ maxretry: 5, findtime: 3600, bantime: 600, maxEntries: 1_100_000 });
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) {
    const ip = v4(i);
    // A flat copy, as a line read from a file is (a template result would share its constant parts).
    w.add(ip, T + i, withLines ? (JSON.parse(JSON.stringify(line(ip))) as string) : undefined, T + i);
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`${label}: heap ${MB(after)} after GC (${MB(after - before)} for the offenders and their lines), ${w.size.toLocaleString('en-US')} kept, ${(1 / s).toFixed(2)}M failures/s incl. making the text`);
  if (w.size !== 1_000_000) throw new Error('offenders were dropped');
}
heap('1,000,000 distinct offenders, no lines', false);
heap('1,000,000 distinct offenders, each with its own 100-character log line', true);


// 1. Rate: 1,000,000 failures over 50,000 offenders (each fails every 50 s: maxretry 5 bans it), keys made beforehand.
{
  const keys = Array.from({ length: 50_000 }, (_, i) => v4(i));
  const w = new FailureWindows({ maxretry: 5, findtime: 600, bantime: 600, maxEntries: 100_000 });
  rate('module, 50k offenders failing in turn (bans), no lines', 1_000_000, (i) => w.add(keys[i % 50_000], T + i, undefined, T + i));
  console.log(`  kept ${w.size.toLocaleString('en-US')}, evicted ${w.evicted.toLocaleString('en-US')}, ban records ${w.banRecords.toLocaleString('en-US')}`);
  const w2 = new FailureWindows({ maxretry: 5, findtime: 600, bantime: 600, maxEntries: 100_000, increment: { factor: 1, multipliers: [], maxtime: null, rndtime: null } });
  const lines = keys.map(line);
  rate('module, same with lines and bantime.increment', 1_000_000, (i) => w2.add(keys[i % 50_000], T + i, lines[i % 50_000], T + i));
  const flood = Array.from({ length: 1_000_000 }, (_, i) => v4(i + 300_000));
  rate('module, 1,000,000 distinct offenders, maxEntries 100k (flood, evicting)', 1_000_000, (i) => w.add(flood[i], T + 2_000_000 + i, undefined, T + 2_000_000 + i));
  console.log(`  kept ${w.size.toLocaleString('en-US')}, evicted ${w.evicted.toLocaleString('en-US')}, ban records ${w.banRecords.toLocaleString('en-US')}`);
}

// 2. Journal: the same 1,000,000 failures with the store attached (flushes every 250 ms, compacts as it grows).
{
  const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-'));
  try {
    const keys = Array.from({ length: 50_000 }, (_, i) => v4(i));
    const lines = keys.map(line);
    const w = new FailureWindows({ maxretry: 5, findtime: 600, bantime: 600, maxEntries: 100_000 });
    const store = new WindowStore(join(dir, 'w.json'), w);
    store.open(T);
    rate('module + journal, 50k offenders failing in turn, with lines', 1_000_000, (i) => {
      w.add(keys[i % 50_000], T + i, lines[i % 50_000], T + i);
      if ((i & 16383) === 0) store.flush(T + i);
    });
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

