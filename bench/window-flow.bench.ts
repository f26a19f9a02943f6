/**
 * threshold-window inside a real Node-RED runtime, embedded in this process (no test helper: it spies
 * on every call): failures per second through the deployed node, journal on disk included, and the
 * heap after 1,000,000 distinct offenders.
 */
import { startEmbeddedRed } from './embedded-red';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function main(): Promise<void> {
  const { RED, stop } = await startEmbeddedRed('flowbench');
  try {
    let completed = 0;
    let bans = 0;
    RED.hooks.add('onComplete.bench', (e) => {
      if (e.node?.id === 'window') completed++;
    });
    RED.hooks.add('postDeliver.bench', (e) => {
      if (e.source?.id === 'window') bans++;
    });
    await RED.runtime.flows.setFlows({
      flows: {
        flows: [
          { id: 'tab', type: 'tab', label: 'bench' },
          { id: 'window', type: 'threshold-window', z: 'tab', x: 100, y: 40, name: 'bench', maxretry: '5', findtime: '1h', bantime: '10m', ignoreip: '127.0.0.1/8 ::1', ignoreself: false, maxEntries: '1100000', wires: [['sink']] },
          { id: 'sink', type: 'junction', z: 'tab', x: 300, y: 40, wires: [] },
        ],
      },
      deploymentType: 'full',
    });
    await new Promise((r) => setTimeout(r, 500));
    const w = RED.nodes.getNode('window');
    if (!w) throw new Error('threshold-window did not start');
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const line = (a: string) => `Nov 25 00:11:52 box sshd[4242]: Failed password for invalid user admin from ${a} port 50000 ssh2`;

    const feed = async (label: string, n: number, make: (i: number) => unknown) => {
      const target = completed + n;
      const cpu0 = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i += 2000) {
        for (let j = i; j < Math.min(n, i + 2000); j++) w.receive(make(j));
        // Let the runtime deliver them before queueing more.
        while (completed < target - n + Math.min(n, i + 2000) - 1000) await new Promise((r) => setImmediate(r));
      }
      while (completed < target) await new Promise((r) => setImmediate(r));
      const s = Number(process.hrtime.bigint() - start) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      console.log(`${label}: ${Math.round(n / s).toLocaleString('en-US')} failures per second by wall clock, ${Math.round(n / cpuS).toLocaleString('en-US')} per CPU second (${n.toLocaleString('en-US')} in ${s.toFixed(2)} s)`);
    };
    await feed('Node-RED flow, 20,000 offenders x 5 failures with their lines (20,000 bans)', 100_000, (i) => {
      const a = ip(i % 20_000);
      return { payload: { host: a, line: line(a) } };
    });
    await new Promise((r) => setTimeout(r, 100));
    console.log(`  bans out: ${bans.toLocaleString('en-US')}`);
    gc();
    const before = process.memoryUsage().heapUsed;
    await feed('Node-RED flow, 1,000,000 distinct offenders, one failure each, no line', 1_000_000, (i) => ({ payload: { host: ip(i + 100_000) } }));
    await new Promise((r) => setTimeout(r, 1000));
    gc();
    const after = process.memoryUsage().heapUsed;
    console.log(`Node-RED flow: heap ${Math.round(after / 1048576)} MB after GC with 1,000,000 offenders watched (+${Math.round((after - before) / 1048576)} MB for them)`);
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
