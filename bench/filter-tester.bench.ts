/** The live tester's answer time: a request in a fresh worker thread (what the editor waits for), and in-thread. */
import { MAX_TEST_LINES, runFilterTest, testFilter } from '../lib/filter-tester';

const lines = Array.from({ length: MAX_TEST_LINES }, (_, i) =>
  i % 2 ? `Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user u${i} from 203.0.113.${i & 255} port 40000 ssh2` : `Nov 24 10:00:01 box sshd[4242]: Accepted publickey for deploy from 198.51.100.${i & 255} port 40000 ssh2: ED25519 SHA256:abc`,
);

async function main(): Promise<void> {
  for (const [label, n, sample] of [['1 line', 20, lines.slice(0, 2)], [`${MAX_TEST_LINES} lines`, 10, lines]] as const) {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = process.hrtime.bigint();
      await runFilterTest({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: [...sample] });
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`tester in a worker, sshd, ${label}: median ${times[n >> 1].toFixed(1)} ms, worst ${times[n - 1].toFixed(1)} ms (${n} requests)`);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines });
  console.log(`tester in-thread, sshd, ${MAX_TEST_LINES} lines: ${(Number(process.hrtime.bigint() - start) / 1e6 / 20).toFixed(1)} ms a request`);
}

void main();
