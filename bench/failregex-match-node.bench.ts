/**
 * failregex-match inside a real Node-RED runtime, embedded in this process: lines per second through the
 * deployed node, the main thread's busy share (event-loop utilisation), the CPU of the whole process per
 * line (the matching threads included), and the longest event-loop delay. Rows:
 * - Node-RED's own floor: a core change node with no rules, fed the same way (what any node costs);
 * - the built-in sshd filter, half the lines failures;
 * - fail2ban's own filter.d/sshd.conf on the 200,000-line log of bench/f2b-regex (fail2ban's sshd sample
 *   log repeated), when Debian's fail2ban package is unpacked in .cache/fail2ban-corpus;
 * - a careless pattern that one line in 1,000 makes backtrack for minutes.
 * Completions and failures are counted by wrapping the nodes' own done and send, not with Node-RED's
 * hooks: a registered hook puts every message of the runtime through the hook machinery, which a
 * deployed jail does not pay.
 * F2B_PACKAGE=/path/to/another/checkout measures another build of the package (e.g. before a change).
 */
import { existsSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import { CORPUS_DIR, FAIL2BAN_FILTERS, FAIL2BAN_PYTHON, unpackFail2ban } from '../test/support/fail2ban-corpus';
import { startEmbeddedRed } from './embedded-red';

const root = resolve(process.env.F2B_PACKAGE || join(__dirname, '..', '..'));
const corpus = CORPUS_DIR;
unpackFail2ban();
const theirFilter = join(FAIL2BAN_FILTERS, 'sshd.conf');
const theirSamples = join(FAIL2BAN_PYTHON, 'fail2ban/tests/files/logs/sshd');

/** What the bench sees of a deployed node: its completions and its sends, counted. */
interface Watched {
  receive(msg: unknown): void;
  _complete(msg: unknown, err?: unknown): void;
  send(msgs: unknown): void;
}

async function main(): Promise<void> {
  const { RED, stop } = await startEmbeddedRed('matchbench', root);
  try {
    const ids = ['floor', 'sshd', 'theirs', 'careless'];
    const completed: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
    const sent: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
    // Resolved once completed[id] reaches at least `count`.
    let waiter: { id: string; count: number; resolve: () => void } | null = null;
    const reach = (id: string, count: number) =>
      completed[id] >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { id, count, resolve }));
    const flows: object[] = [
      { id: 'tab', type: 'tab', label: 'bench' },
      { id: 'floor', type: 'change', z: 'tab', x: 100, y: 20, rules: [], wires: [['sink']] },
      { id: 'sshd', type: 'failregex-match', z: 'tab', x: 100, y: 40, filterSource: 'builtin', filterName: 'sshd', wires: [['sink']] },
      { id: 'careless', type: 'failregex-match', z: 'tab', x: 100, y: 80, filterSource: 'inline', failregex: String.raw`^(\w+\s?)*from <HOST>$`, wires: [['sink']] },
      { id: 'sink', type: 'junction', z: 'tab', x: 300, y: 40, wires: [] },
    ];
    const haveTheirs = existsSync(theirFilter) && existsSync(theirSamples);
    if (haveTheirs) flows.push({ id: 'theirs', type: 'failregex-match', z: 'tab', x: 100, y: 60, filterSource: 'file', filterFile: theirFilter, wires: [['sink']] });
    await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
    await new Promise((r) => setTimeout(r, 500));
    const nodes: Record<string, Watched> = {};
    for (const id of ids) {
      const node = RED.nodes.getNode(id) as unknown as Watched | null;
      if (!node) continue;
      nodes[id] = node;
      const complete = node._complete.bind(node);
      node._complete = (msg, err) => {
        complete(msg, err);
        completed[id]++;
        if (waiter && waiter.id === id && completed[id] >= waiter.count) {
          const w = waiter;
          waiter = null;
          w.resolve();
        }
      };
      const send = node.send.bind(node);
      node.send = (msgs) => {
        sent[id]++;
        send(msgs);
      };
    }
    const failure = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user u${i} from 203.0.${(i >> 8) & 255}.${i & 255} port 40000 ssh2`;
    const noise = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Accepted publickey for deploy from 198.51.100.${i & 255} port 40000 ssh2: ED25519 SHA256:abc`;

    /** Feeds n lines to a node, 1,000 per event-loop turn (as log-tail gives a 64 KiB read), and waits for all. */
    const feed = async (label: string, id: string, n: number, make: (i: number) => string) => {
      const node = nodes[id];
      if (!node) throw new Error(`${id} did not start`);
      const target = completed[id] + n;
      const sent0 = sent[id];
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
        `${label}: ${Math.round(n / s).toLocaleString('en-US')} lines per second (${n.toLocaleString('en-US')} in ${s.toFixed(2)} s, ${sent[id] - sent0} sent), ` +
          `main thread busy ${(elu.utilization * 100).toFixed(0)}% (${((elu.active * 1000) / n).toFixed(1)} µs per line), process CPU ${((cpuS / n) * 1e6).toFixed(1)} µs per line, longest event-loop delay ${(delay.max / 1e6).toFixed(0)} ms`,
      );
    };
    const half = (i: number) => (i % 2 ? failure(i) : noise(i));
    await feed('warm-up', 'sshd', 50_000, half);
    await feed('warm-up', 'floor', 50_000, half);
    await feed("Node-RED's floor: a change node with no rules", 'floor', 200_000, half);
    await feed('failregex-match sshd, half failures', 'sshd', 200_000, half);
    if (haveTheirs) {
      const sample = readFileSync(theirSamples, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      await feed('warm-up', 'theirs', 50_000, (i) => sample[i % sample.length]);
      await feed("failregex-match with fail2ban's sshd.conf, bench/f2b-regex's 200,000-line log", 'theirs', 200_000, (i) => sample[i % sample.length]);
    } else console.log(`(no fail2ban package at ${corpus}: the row with fail2ban's sshd.conf is left out)`);
    // One line in 1,000 backtracks for minutes against the careless pattern: each costs the matchTimeout
    // (or, matched in Node-RED's own thread, stops everything).
    if (!process.env.F2B_PACKAGE) {
      await feed('failregex-match careless pattern, 1 line in 1,000 hangs it', 'careless', 5_000, (i) => (i % 1000 === 999 ? `${'a'.repeat(40)}! from x` : `user u${i} from 203.0.113.${i & 255}`));
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
