/**
 * Hostile log lines against a real Node-RED process (spawned, listening on 127.0.0.1 only): a jail
 * log-tail -> failregex-match (the built-in sshd filter, and a careless pattern of a user's) ->
 * threshold-window -> firewall-ban (dry-run), with a Catch node. Node-RED's settings.js measures its
 * own event loop (monitorEventLoopDelay and a 10 ms interval's drift) and memory, and serves the
 * figures at /lab/loop; Catch and Status messages are recorded into /lab/record through a function node.
 *
 * - lines of 1 MB are dropped whole by log-tail, counted, and cost no stall; failures after them ban;
 * - lines that make a careless pattern backtrack for minutes are skipped after matchTimeout and reported
 *   at Catch; lines crafted against the sshd filter pass quickly; good lines after them still ban;
 * - 100,000 distinct addresses, written as fast as the disk takes them: no stall, memory within a bound,
 *   threshold-window keeps maxEntries offenders; 1,000 more offenders banned at once after it.
 * Each case asserts the longest event-loop stall is under 100 ms.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, installPackage, spawnNodeRed, stopAndWait, syslogDate } from '../support/process';

const MAX_STALL_MS = 100;
const MAX_ENTRIES = 20_000;

interface Loop {
  /** Longest event-loop delay since the last reset, ms (the larger of the two meters). */
  stall: number;
  histogramMax: number;
  driftMax: number;
  rss: number;
  heapUsed: number;
  peakRss: number;
  peakHeapUsed: number;
  /** Longest garbage-collection pause, ms, and its kind (perf_hooks gc entry). */
  gcMax: number;
  gcKind: number;
  /** Interval ticks late by more than 40 ms: [ms late, when (performance.now() in Node-RED)]. */
  stalls: Array<[number, number]>;
}
interface Record {
  caught: Array<{ source: string; message: string; topic: string | null; length: number | null }>;
  status: { [id: string]: string };
}

let red: ChildProcess | null = null;
let work = '';
let base = '';
let log = '';
let output = () => '';
const MB = 1024 * 1024;

const SETTINGS = (port: number) => `
// Event-loop and memory meters, inside the Node-RED process (see regex-dos.test.ts).
const { monitorEventLoopDelay, performance, PerformanceObserver } = require('perf_hooks');
let gcMax = 0;
let gcKind = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.duration > gcMax) { gcMax = e.duration; gcKind = e.detail ? e.detail.kind : 0; }
}).observe({ entryTypes: ['gc'] });
let stalls = [];
const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
let last = performance.now();
let driftMax = 0;
let peakRss = 0;
let peakHeapUsed = 0;
let ticks = 0;
setInterval(() => {
  const now = performance.now();
  if (now - last - 10 > 40) stalls.push([Math.round(now - last - 10), Math.round(now)]);
  driftMax = Math.max(driftMax, now - last - 10);
  last = now;
  if (++ticks % 5 === 0) {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeapUsed = Math.max(peakHeapUsed, m.heapUsed);
  }
}, 10);
const lab = { caught: [], status: {} };
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'test',
  logging: { console: { level: 'warn' } },
  functionGlobalContext: { lab },
  httpAdminMiddleware: (req, res, next) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/lab/loop') {
      if (url.searchParams.get('gc') === '1' && global.gc) { global.gc(); global.gc(); }
      const m = process.memoryUsage();
      const body = { gcMax, gcKind, stalls, stall: Math.max(histogram.max / 1e6, driftMax), histogramMax: histogram.max / 1e6, driftMax, rss: m.rss, heapUsed: m.heapUsed, peakRss: Math.max(peakRss, m.rss), peakHeapUsed: Math.max(peakHeapUsed, m.heapUsed) };
      if (url.searchParams.get('reset') === '1') {
        histogram.reset();
        driftMax = 0;
        last = performance.now();
        peakRss = 0;
        peakHeapUsed = 0;
        gcMax = 0;
        stalls = [];
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(body));
      return;
    }
    if (url.pathname === '/lab/record') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(lab));
      return;
    }
    next();
  },
};
`;

const RECORD_CAUGHT = `
const e = msg.error || {};
global.get('lab').caught.push({ source: e.source ? e.source.id : '', message: String(e.message), topic: msg.topic === undefined ? null : String(msg.topic), length: typeof msg.payload === 'string' ? msg.payload.length : null });
return null;`;
const RECORD_STATUS = `global.get('lab').status[msg.status.source.id] = String(msg.status.text || ''); return null;`;

/** The careless pattern: nested repeats, exponential on a long word that is not followed by "from". */
const CARELESS = String.raw`^ box app\[\d+\]: (\w+\s?)*from <HOST>$`;

function flow(): Array<{ [k: string]: unknown }> {
  const at = (i: number) => ({ z: 'tab', x: 150 + 200 * (i % 4), y: 60 + 80 * Math.floor(i / 4) });
  return [
    { id: 'tab', type: 'tab', label: 'regex-dos' },
    { id: 'tail', type: 'log-tail', ...at(0), paths: log, start: 'end', wires: [['sshd', 'app']] },
    { id: 'sshd', type: 'failregex-match', ...at(1), filterSource: 'builtin', filterName: 'sshd', wires: [['window']] },
    { id: 'app', type: 'failregex-match', ...at(5), filterSource: 'inline', failregex: CARELESS, matchTimeout: '250', wires: [['window']] },
    { id: 'window', type: 'threshold-window', ...at(2), name: 'dos', maxretry: '3', findtime: '10m', bantime: '10m', maxEntries: String(MAX_ENTRIES), ignoreip: '127.0.0.1/8 ::1', ignoreself: true, wires: [['ban']] },
    { id: 'ban', type: 'firewall-ban', ...at(3), name: 'dos', backend: 'dry-run', bantime: '10m', reconcile: '30', wires: [[]] },
    { id: 'catch', type: 'catch', ...at(8), scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'function', ...at(9), func: RECORD_CAUGHT, outputs: 1, wires: [[]] },
    { id: 'status', type: 'status', ...at(10), scope: null, wires: [['statuses']] },
    { id: 'statuses', type: 'function', ...at(11), func: RECORD_STATUS, outputs: 1, wires: [[]] },
  ];
}

async function get<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}; Node-RED ${red?.exitCode === null ? 'runs' : `exited (${red?.exitCode ?? red?.signalCode})`}:\n${output().slice(-3000)}`);
  }
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const loop = (query = '') => get<Loop>(`/lab/loop${query}`);
const record = () => get<Record>('/lab/record');
const bans = async () => new Set((await get<Array<{ ip: string }>>('/firewall-ban/ban/bans')).map((b) => b.ip));

async function waitUntil(pred: () => Promise<boolean>, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (red?.exitCode !== null) throw new Error(`Node-RED exited (${red?.exitCode}) waiting for ${what}:\n${output().slice(-3000)}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify((await record()).status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sshdFailure = (ip: string, user = 'admin', date = syslogDate()) => `${date} box sshd[77]: Failed password for invalid user ${user} from ${ip} port 40000 ssh2\n`;
const appFailure = (ip: string) => `${syslogDate()} box app[7]: login failed for admin from ${ip}\n`;
const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`;

/** Reports the case's figures and checks the stall. */
async function measured(name: string): Promise<Loop> {
  const l = await loop();
  console.log(`regex-dos, ${name}: max event-loop stall ${l.stall.toFixed(1)} ms (histogram ${l.histogramMax.toFixed(1)} ms, interval drift ${l.driftMax.toFixed(1)} ms), rss ${mb(l.rss)} (peak ${mb(l.peakRss)}), heap used ${mb(l.heapUsed)} (peak ${mb(l.peakHeapUsed)}), longest GC pause ${l.gcMax.toFixed(1)} ms (kind ${l.gcKind}), ticks over 40 ms late: ${JSON.stringify(l.stalls)}`);
  assert.ok(l.stall < MAX_STALL_MS, `${name}: Node-RED's event loop stalled ${l.stall.toFixed(1)} ms`);
  return l;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'f2b-dos-'));
  const userDir = join(work, 'userdir');
  installPackage(userDir);
  log = join(work, 'auth.log');
  writeFileSync(log, '');
  const port = await freePort();
  writeFileSync(join(userDir, 'settings.js'), SETTINGS(port));
  base = `http://127.0.0.1:${port}`;
  const started = await spawnNodeRed(userDir, base, { nodeArgs: ['--expose-gc'] });
  red = started.child;
  output = started.output;
  const deploy = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow()) });
  assert.ok(deploy.ok, `deploy answered ${deploy.status}: ${await deploy.text()}`);
  await waitUntil(async () => /1 file/.test((await record()).status.tail ?? ''), 'log-tail to follow the log');
});

after(async () => {
  if (red) await stopAndWait(red);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('lines of 1 MB are dropped whole and counted without a stall; failures after them still ban', { timeout: 30000 }, async () => {
  await loop('?reset=1');
  // Each hides a failure at its end: dropped whole, it must not count.
  const huge = (i: number) => `${syslogDate()} box sshd[77]: ${'x'.repeat(MB)} Failed password for root from 203.0.113.${i} port 22 ssh2\n`;
  for (let i = 1; i <= 5; i++) appendFileSync(log, huge(i));
  appendFileSync(log, sshdFailure('198.51.100.1').repeat(3));
  await waitUntil(async () => (await bans()).has('198.51.100.1'), 'the ban of 198.51.100.1');
  await waitUntil(async () => /5 over 64 KiB dropped/.test((await record()).status.tail ?? ''), 'log-tail counting 5 dropped lines', 5000);
  const held = await bans();
  for (let i = 1; i <= 5; i++) assert.ok(!held.has(`203.0.113.${i}`), 'a failure inside a dropped line counts for nothing');
  await measured('five 1 MB lines');
});

test('lines that make a careless pattern backtrack are skipped and reported at Catch; sshd-crafted lines pass; good lines after them ban', { timeout: 40000 }, async () => {
  await loop('?reset=1');
  const hostile = `${syslogDate()} box app[7]: ${'a'.repeat(40)}! from x\n`;
  // Long runs of what the sshd filter looks for, under log-tail's 64 KiB limit.
  const sshdHostile = [
    `${syslogDate()} box sshd[77]: ${'Failed password for invalid user '.repeat(1900)}x\n`,
    `${syslogDate()} box sshd[77]: Failed password for ${' '.repeat(60000)}x from\n`,
    `${syslogDate()} box sshd[77]: ${'Invalid user x from 1.2.3.4 port '.repeat(1900)}\n`,
  ];
  appendFileSync(log, hostile + sshdHostile.join('') + hostile + hostile);
  appendFileSync(log, appFailure('198.51.100.2').repeat(3) + sshdFailure('198.51.100.3').repeat(3));
  await waitUntil(async () => {
    const held = await bans();
    return held.has('198.51.100.2') && held.has('198.51.100.3');
  }, 'the bans of 198.51.100.2 (careless pattern) and 198.51.100.3 (sshd)');
  await waitUntil(async () => /3 lines skipped: over 250 ms to match/.test((await record()).status.app ?? ''), 'the careless matcher counting 3 skipped lines', 5000);
  const { caught, status } = await record();
  const timeouts = caught.filter((c) => c.source === 'app');
  // Reported at Catch at most once a minute: the first skipped line, carried by its own message.
  assert.equal(timeouts.length, 1, JSON.stringify(caught));
  assert.match(timeouts[0].message, /a line of \d+ characters took over 250 ms to match and was skipped \(1 skipped since the last report, 1 in all\)/);
  assert.equal(timeouts[0].length, hostile.length - 1, 'the Catch message carries the hostile line');
  assert.ok(!/skipped/.test(status.sshd ?? ''), `the sshd filter skipped none of its crafted lines: ${status.sshd}`);
  await measured('backtracking lines');
});

test('a flood of 100,000 distinct addresses: no stall, bounded memory, maxEntries offenders kept; 1,000 bans at once after it', { timeout: 60000 }, async () => {
  const linesOf = (id: string, text: string | undefined) => Number(new RegExp(`${id}: (?:.*; )?(\\d+) lines`).exec(text ?? '')?.[1] ?? 0);
  const sshdBefore = linesOf('sshd', (await record()).status.sshd);
  const baseline = await loop('?gc=1&reset=1');
  const N = 100_000;
  const started = Date.now();
  const date = syslogDate(); // (formatting a date for each line would slow the writing down)
  for (let i = 0; i < N; i += 10_000) {
    let chunk = '';
    for (let j = i; j < i + 10_000; j++) chunk += sshdFailure(`10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`, `u${j}`, date);
    appendFileSync(log, chunk);
  }
  const written = Date.now() - started;
  // Every line read and matched (none dropped: the matcher kept up), then the window's status.
  await waitUntil(async () => linesOf('sshd', (await record()).status.sshd) >= sshdBefore + N, `${N} more lines through the sshd matcher`, 45000);
  const took = Date.now() - started;
  await waitUntil(async () => new RegExp(`^${MAX_ENTRIES} watched`).test((await record()).status.window ?? ''), `threshold-window at ${MAX_ENTRIES} watched`, 5000);
  const flood = await measured(`flood of ${N} addresses (written in ${written} ms, matched in ${took} ms)`);
  const { status } = await record();
  assert.match(status.window, /\d+ dropped \(maxEntries\)/);
  assert.ok(!/dropped \(queue full\)/.test(status.sshd), `no line dropped by the matcher: ${status.sshd}`);
  const settled = await loop('?gc=1');
  console.log(`regex-dos, flood: baseline rss ${mb(baseline.rss)}, heap ${mb(baseline.heapUsed)}; peak rss +${mb(flood.peakRss - baseline.rss)}, peak heap +${mb(flood.peakHeapUsed - baseline.heapUsed)}; heap after GC +${mb(settled.heapUsed - baseline.heapUsed)}`);
  // Bounds: what is kept is 20,000 offenders with their line (~0.5 KB each, 10 MB) and at most 10,000
  // lines waiting per matcher (a few MB); the peak adds V8's young generation and what one read of
  // the log turns into messages. Measured about half of these.
  assert.ok(settled.heapUsed - baseline.heapUsed < 40 * MB, `heap after GC grew ${mb(settled.heapUsed - baseline.heapUsed)}`);
  assert.ok(flood.peakRss - baseline.rss < 250 * MB, `rss peaked ${mb(flood.peakRss - baseline.rss)} above the baseline`);

  // Many bans at once through firewall-ban (dry-run): 1,000 offenders, 3 failures each.
  await loop('?reset=1');
  let burst = '';
  const now = syslogDate();
  for (let j = 0; j < 1000; j++) burst += sshdFailure(`172.16.${j >> 8}.${j & 255}`, 'admin', now).repeat(3);
  const before = (await bans()).size;
  appendFileSync(log, burst);
  await waitUntil(async () => (await bans()).size >= before + 1000, '1,000 more bans', 30000);
  await measured('1,000 bans at once');
});
