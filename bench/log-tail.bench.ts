/**
 * log-tail throughput and memory: lines per second from a file to a message leaving log-tail in a real
 * Node-RED runtime, and peak memory, for a 1,000,000-line file and for a steady 50,000 lines/s append by
 * a separate writer process. The follower alone (no Node-RED) is measured too, for comparison.
 */
import { spawn } from 'child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { createServer } from 'http';
import { tmpdir } from 'os';
import { monitorEventLoopDelay } from 'perf_hooks';
import { join } from 'path';
import { Follower } from '../lib/tail';
import { installPackage } from '../test/support/process';

const LINE = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user u${i} from 203.0.${(i >> 8) & 255}.${i & 255} port 40000 ssh2\n`;
const mb = (n: number) => `${Math.round(n / 1048576)} MB`;

function bigFile(path: string, n: number): void {
  writeFileSync(path, '');
  for (let i = 0; i < n; i += 10_000) {
    let chunk = '';
    for (let j = i; j < Math.min(n, i + 10_000); j++) chunk += LINE(j);
    appendFileSync(path, chunk);
  }
}

/** Samples memory every 50 ms; peak() gives the highest RSS and heap seen. */
function sampler() {
  const gc = (global as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const t = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 50);
  return {
    base,
    stop: () => {
      clearInterval(t);
      return { rss, heap };
    },
  };
}

async function followerAlone(file: string, n: number): Promise<void> {
  const mem = sampler();
  const start = process.hrtime.bigint();
  let got = 0;
  const f = new Follower({ paths: [file], start: 'beginning', encoding: 'utf8' });
  await new Promise<void>((resolve) => {
    f.on('line', () => {
      if (++got === n) resolve();
    });
    f.start();
  });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await f.stop();
  const peak = mem.stop();
  console.log(`follower alone, ${n.toLocaleString('en-US')}-line file: ${Math.round(n / s).toLocaleString('en-US')} lines/s (${s.toFixed(2)} s), peak RSS ${mb(peak.rss)} (from ${mb(mem.base.rss)}), peak heap ${mb(peak.heap)}`);
}

/**
 * A sink node type for the bench: counts the messages it receives in a global counter (Node-RED runs in
 * this process). node-red-node-test-helper is not used: it records every send() with a spy.
 */
const SINK_JS = `module.exports = function (RED) {
  function BenchSink(def) {
    RED.nodes.createNode(this, def);
    const name = def.counter;
    globalThis.__benchCounts[name] = 0;
    this.on('input', (msg, send, done) => { globalThis.__benchCounts[name]++; done(); });
  }
  RED.nodes.registerType('bench-sink', BenchSink);
};
`;
const SINK_HTML = `<script type="text/javascript">RED.nodes.registerType('bench-sink', { category: 'function', defaults: { counter: { value: '' } }, inputs: 1, outputs: 0 });</script>\n`;
const counts: Record<string, number> = ((globalThis as unknown as { __benchCounts: Record<string, number> }).__benchCounts = {});

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'f2b-bench-tail-'));
  try {
    const n = 1_000_000;
    const big = join(work, 'big.log');
    bigFile(big, n);
    await followerAlone(big, n);

    // A real Node-RED runtime in this process, our package loaded from node_modules, a sink node.
    const userDir = join(work, 'userdir');
    const sinkDir = join(work, 'sink');
    installPackage(userDir);
    mkdirSync(sinkDir);
    writeFileSync(join(sinkDir, 'bench-sink.js'), SINK_JS);
    writeFileSync(join(sinkDir, 'bench-sink.html'), SINK_HTML);
    const steady = join(work, 'steady.log');
    writeFileSync(steady, '');
    const flows = [
      { id: 'tab', type: 'tab', label: 'bench' },
      { id: 'tailBig', type: 'log-tail', z: 'tab', x: 100, y: 40, paths: join(work, 'big-copy.log'), start: 'beginning', resume: true, wires: [['sinkBig']] },
      { id: 'sinkBig', type: 'bench-sink', z: 'tab', x: 300, y: 40, counter: 'big', wires: [] },
      { id: 'tailSteady', type: 'log-tail', z: 'tab', x: 100, y: 80, paths: steady, start: 'end', resume: true, wires: [['sinkSteady']] },
      { id: 'sinkSteady', type: 'bench-sink', z: 'tab', x: 300, y: 80, counter: 'steady', wires: [] },
    ];
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const RED = require('node-red');
    const server = createServer();
    RED.init(server, {
      userDir,
      flowFile: 'flows.json',
      nodesDir: [sinkDir],
      httpAdminRoot: false,
      httpNodeRoot: false,
      credentialSecret: 'bench',
      logging: { console: { level: 'warn', metrics: false, audit: false } },
      telemetry: { enabled: false, updateNotification: false },
    });
    await RED.start();
    await until(() => counts.big !== undefined && counts.steady !== undefined, 10000);
    await new Promise((r) => setTimeout(r, 1000));

    // 1,000,000 lines: the file appears (a rename into place) and log-tail reads it from its start.
    const gc = (global as { gc?: () => void }).gc;
    gc?.();
    const mem = sampler();
    const { renameSync } = await import('fs');
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const start = process.hrtime.bigint();
    renameSync(big, join(work, 'big-copy.log'));
    await until(() => counts.big >= n, 300000);
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    delay.disable();
    const peak = mem.stop();
    console.log(`Node-RED, ${n.toLocaleString('en-US')}-line file to messages leaving log-tail: ${Math.round(counts.big / s).toLocaleString('en-US')} lines/s (${counts.big} in ${s.toFixed(2)} s), peak RSS ${mb(peak.rss)} (from ${mb(mem.base.rss)}), peak heap ${mb(peak.heap)}`);
    console.log(`  event loop delay while draining it: p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);

    // Steady 50,000 lines/s appended by another process for 10 s.
    gc?.();
    const seconds = 10;
    const rate = 50_000;
    const writer = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');const fd=fs.openSync(process.argv[1],'a');let i=0;const t0=Date.now();const end=${seconds * rate};
       const line=(i)=>${JSON.stringify(LINE(0)).replace('u0', "u'+i+'")};
       const tick=()=>{const due=Math.min(end,Math.floor((Date.now()-t0)*${rate}/1000));let s='';while(i<due){s+=line(i++);}if(s)fs.writeSync(fd,s);if(i<end)setTimeout(tick,5);};tick();`,
      steady,
    ]);
    const mem2 = sampler();
    const t0 = Date.now();
    const samples: string[] = [];
    let last = 0;
    const timer = setInterval(() => {
      samples.push(`${counts.steady - last}/s ${mb(process.memoryUsage().rss)}`);
      last = counts.steady;
    }, 1000);
    await new Promise((r) => writer.on('exit', r));
    const exited = Date.now();
    const total = seconds * rate;
    await until(() => counts.steady >= total, 60000);
    clearInterval(timer);
    const lag = Date.now() - exited;
    const peak2 = mem2.stop();
    console.log(`Node-RED, steady ${rate.toLocaleString('en-US')} lines/s for ${seconds} s: ${counts.steady.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} delivered in ${((exited - t0) / 1000).toFixed(1)} s, the last ${lag} ms after the writer exited; peak RSS ${mb(peak2.rss)} (from ${mb(mem2.base.rss)}), peak heap ${mb(peak2.heap)}`);
    console.log(`  each second (lines delivered, RSS): ${samples.join(', ')}`);
    await RED.stop();
    server.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
