/**
 * log-tail in a real Node-RED flow against Debian's logrotate, run with configurations written here,
 * while a separate writer process appends numbered lines at a steady rate and in 100,000-line bursts.
 * Every line that comes out of the flow is counted.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, startRuntime, waitFor, type Runtime } from '../support/red';

/**
 * The writer: keeps the log open for appending (like a syslog daemon), reopens it on SIGHUP, and takes
 * commands on stdin: "steady COUNT PER_SECOND" or "burst COUNT"; answers "done N" (last line number).
 */
const WRITER = `
const fs = require('fs');
const file = process.argv[1];
let fd = fs.openSync(file, 'a');
let n = 0;
process.on('SIGHUP', () => { const old = fd; fd = fs.openSync(file, 'a'); fs.closeSync(old); });
process.stdout.write('ready\\n');
const pad = 'x'.repeat(60);
function write(k) { let s = ''; for (let i = 0; i < k; i++) s += 'line ' + (++n) + ' ' + pad + '\\n'; fs.writeSync(fd, s); }
let queue = Promise.resolve();
require('readline').createInterface({ input: process.stdin }).on('line', (cmd) => {
  const [what, a, b] = cmd.split(' ');
  queue = queue.then(() => new Promise((resolve) => {
    let left = Number(a);
    if (what === 'burst') {
      const step = () => { const k = Math.min(left, 2000); write(k); left -= k; if (left > 0) setImmediate(step); else resolve(); };
      step();
    } else {
      const perTick = Math.max(1, Math.round(Number(b) / 100));
      const t = setInterval(() => { const k = Math.min(left, perTick); write(k); left -= k; if (left <= 0) { clearInterval(t); resolve(); } }, 10);
    }
  })).then(() => process.stdout.write('done ' + n + '\\n'));
});
`;

interface Writer {
  child: ChildProcess;
  /** Resolves once the writer handles SIGHUP (before that, logrotate's kill -HUP would end it). */
  ready: Promise<void>;
  run(cmd: string): Promise<number>;
}

function startWriter(file: string): Writer {
  const child = spawn(process.execPath, ['-e', WRITER, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: Array<(n: number) => void> = [];
  let isReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (isReady = r));
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const m = /^done (\d+)/.exec(buf.slice(0, i));
      if (buf.slice(0, i) === 'ready') isReady();
      buf = buf.slice(i + 1);
      if (m) waiting.shift()?.(Number(m[1]));
    }
  });
  return {
    child,
    ready,
    run(cmd) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${cmd}\n`);
      });
    },
  };
}

function logrotate(conf: string, state: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('logrotate', ['-f', '-s', state, conf], (err, _stdout, stderr) => (err ? reject(new Error(`logrotate: ${stderr || err.message}`)) : resolve()));
  });
}

let rt: Runtime;
const cleanups: Array<() => void> = [];
before(async () => {
  rt = await startRuntime();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) c();
  await helper.unload();
});
after(() => rt.close());

/** Deploys log-tail on `log` and collects the line numbers that leave it. */
async function deploy(log: string): Promise<number[]> {
  await helper.load(NODES, onTab([
    { id: 'tail', type: 'log-tail', paths: log, start: 'beginning', resume: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]));
  const got: number[] = [];
  helper.getNode('out').on('input', (m: NodeMessage) => {
    const match = /^line (\d+) /.exec(String(m.payload));
    got.push(match ? Number(match[1]) : -1);
  });
  await new Promise((r) => setTimeout(r, 300));
  return got;
}

/** The line numbers found in every file of `dir` (gzip ones uncompressed). */
function onDisk(dir: string): Set<number> {
  const seen = new Set<number>();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('app.log')) continue;
    let data = readFileSync(join(dir, name));
    if (name.endsWith('.gz')) data = gunzipSync(data);
    for (const m of data.toString().matchAll(/^line (\d+) /gm)) seen.add(Number(m[1]));
  }
  return seen;
}

function inOrderOnce(got: number[]): void {
  for (let i = 1; i < got.length; i++) {
    if (got[i] <= got[i - 1]) assert.fail(`line ${got[i]} came after line ${got[i - 1]} (position ${i} of ${got.length})`);
  }
}

async function scenario(mode: string, options: string[], postrotate: boolean) {
  const dir = mkdtempSync(join(rt.userDir, `rot-${mode}-`));
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const writer = startWriter(log);
  cleanups.push(() => writer.child.kill());
  const conf = join(dir, 'logrotate.conf');
  const lines = [`${log} {`, '  rotate 20', ...options.map((o) => `  ${o}`)];
  if (postrotate) lines.push('  postrotate', `    kill -HUP ${writer.child.pid}`, '  endscript');
  writeFileSync(conf, `${lines.join('\n')}\n}\n`, { mode: 0o644 });
  const state = join(dir, 'logrotate.status');
  await writer.ready;
  const got = await deploy(log);

  // Steady appends with two rotations during them, then a burst with a rotation in its middle.
  const steady = writer.run('steady 6000 4000');
  await new Promise((r) => setTimeout(r, 400));
  await logrotate(conf, state);
  await new Promise((r) => setTimeout(r, 500));
  await logrotate(conf, state);
  await steady;
  const burst = writer.run('burst 100000');
  await new Promise((r) => setTimeout(r, 30));
  await logrotate(conf, state);
  const last = await burst;
  await logrotate(conf, state);
  const total = await writer.run('steady 500 5000');
  assert.ok(total > last);
  return { dir, got, total };
}

test('logrotate create (rename + HUP): every line once, in order', { timeout: 60000 }, async () => {
  const { got, total } = await scenario('create', ['create'], true);
  await waitFor(() => got.length >= total, `${total} lines (got ${got.length})`, 20000).catch((e) => assert.fail(`${e.message}; got ${got.length} lines`));
  await new Promise((r) => setTimeout(r, 300));
  inOrderOnce(got);
  assert.equal(got.length, total);
  assert.equal(got[0], 1);
  assert.equal(got.at(-1), total);
});

test('logrotate compress + delaycompress (create): every line once, in order', { timeout: 60000 }, async () => {
  const { dir, got, total } = await scenario('compress', ['create', 'compress', 'delaycompress'], true);
  await waitFor(() => got.length >= total, `${total} lines`, 20000).catch((e) => assert.fail(`${e.message}; got ${got.length} lines`));
  await new Promise((r) => setTimeout(r, 300));
  inOrderOnce(got);
  assert.equal(got.length, total);
  assert.ok(readdirSync(dir).some((n) => n.endsWith('.gz')), 'logrotate compressed older rotations');
});

test('logrotate copytruncate: in order, none twice, every line still on disk delivered', { timeout: 60000 }, async () => {
  const { dir, got, total } = await scenario('copytruncate', ['copytruncate'], false);
  const disk = onDisk(dir);
  await waitFor(() => got.at(-1) === total, `line ${total}`, 20000).catch((e) => assert.fail(`${e.message}; got ${got.length} lines`));
  const delivered = new Set(got);
  const missing = [...disk].filter((n) => !delivered.has(n));
  assert.equal(missing.length, 0, `${missing.length} lines on disk never delivered, first ${missing.slice(0, 5).join(', ')}`);
  await new Promise((r) => setTimeout(r, 300));
  inOrderOnce(got);
  // Only lines written between logrotate's copy and its truncate may be missing: they are on no disk,
  // so no follower can read them. How many depends on the writer's speed and logrotate's timing, not on
  // log-tail (every line still on disk was delivered, above): a figure to print, not a bound to assert.
  const lost = total - got.length;
  console.log(`# copytruncate: ${got.length} of ${total} lines delivered, ${lost} written between copy and truncate lost`);
});
