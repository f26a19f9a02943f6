/**
 * failregex-match inside a real Node-RED runtime, embedded in this process: lines per second through the
 * deployed node (sshd filter, half failures), the main thread's busy share (event-loop utilisation),
 * the CPU of the whole process per line (the matching thread included), and the longest event-loop
 * delay; then the same with lines that make a careless pattern backtrack mixed in.
 * F2B_PACKAGE=/path/to/another/checkout measures another build of the package (e.g. before a change).
 */
import { join, resolve } from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import { startEmbeddedRed } from './embedded-red';

const root = resolve(process.env.F2B_PACKAGE || join(__dirname, '..', '..'));

async function main(): Promise<void> {
  const { RED, stop } = await startEmbeddedRed('matchbench', root);
  try {
    const completed: Record<string, number> = { sshd: 0, careless: 0 };
    let failures = 0;
    // Resolved once completed[id] reaches at least `count`.
    let waiter: { id: string; count: number; resolve: () => void } | null = null;
    const reach = (id: string, count: number) =>
      completed[id] >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { id, count, resolve }));
    RED.hooks.add('onComplete.bench', (e) => {
      if (!e.node || !(e.node.id in completed)) return;
      completed[e.node.id]++;
      if (waiter && waiter.id === e.node.id && completed[e.node.id] >= waiter.count) {
        const w = waiter;
        waiter = null;
        w.resolve();
      }
    });
    RED.hooks.add('postDeliver.bench', (e) => {
      if (e.source && e.source.id in completed) failures++;
    });
    await RED.runtime.flows.setFlows({
      flows: {
        flows: [
          { id: 'tab', type: 'tab', label: 'bench' },
          { id: 'sshd', type: 'failregex-match', z: 'tab', x: 100, y: 40, filterSource: 'builtin', filterName: 'sshd', wires: [['sink']] },
          { id: 'careless', type: 'failregex-match', z: 'tab', x: 100, y: 80, filterSource: 'inline', failregex: String.raw`^(\w+\s?)*from <HOST>$`, wires: [['sink']] },
          { id: 'sink', type: 'junction', z: 'tab', x: 300, y: 40, wires: [] },
        ],
      },
      deploymentType: 'full',
    });
    await new Promise((r) => setTimeout(r, 500));
    const failure = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user u${i} from 203.0.${(i >> 8) & 255}.${i & 255} port 40000 ssh2`;
    const noise = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Accepted publickey for deploy from 198.51.100.${i & 255} port 40000 ssh2: ED25519 SHA256:abc`;

    /** Feeds n lines to a node, 1,000 per event-loop turn (as log-tail gives a 64 KiB read), and waits for all. */
    const feed = async (label: string, id: string, n: number, make: (i: number) => string) => {
      const node = RED.nodes.getNode(id);
      if (!node) throw new Error(`${id} did not start`);
      const target = completed[id] + n;
      const failed0 = failures;
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i += 1000) {
        for (let j = i; j < Math.min(n, i + 1000); j++) node.receive({ payload: make(j) });
        // No more than 5,000 lines ahead of the node (a log read no faster than it is matched).
        await reach(id, target - n + i - 4000);
        await new Promise((r) => setImmediate(r));
      }
      await reach(id, target);
      const s = Number(process.hrtime.bigint() - start) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      delay.disable();
      const cpuS = (cpu.user + cpu.system) / 1e6;
      console.log(
        `${label}: ${Math.round(n / s).toLocaleString('en-US')} lines per second (${n.toLocaleString('en-US')} in ${s.toFixed(2)} s, ${failures - failed0} failures), ` +
          `main thread busy ${(elu.utilization * 100).toFixed(0)}% (${((elu.active * 1000) / n).toFixed(1)} µs per line), process CPU ${((cpuS / n) * 1e6).toFixed(1)} µs per line, longest event-loop delay ${(delay.max / 1e6).toFixed(0)} ms`,
      );
    };
    await feed('warm-up', 'sshd', 50_000, (i) => (i % 2 ? failure(i) : noise(i)));
    await feed('failregex-match sshd, half failures', 'sshd', 200_000, (i) => (i % 2 ? failure(i) : noise(i)));
    // One line in 1,000 backtracks for minutes against the careless pattern: each costs the matchTimeout
    // (or, matched in Node-RED's own thread, stops everything).
    if (!process.env.F2B_PACKAGE) {
      await feed('failregex-match careless pattern, 1 line in 1,000 hangs it', 'careless', 5_000, (i) => (i % 1000 === 999 ? `${'a'.repeat(40)}!` : `user u${i} from 203.0.113.${i & 255}`));
    }
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
