/**
 * What matching in a worker thread costs: the sshd filter over 200,000 lines (half failures), once in
 * this thread (Matcher) and once through IsolatedMatcher, with the time this thread is busy per line
 * (event-loop utilisation) and the CPU of the whole process (both threads) per line.
 */
import { performance } from 'perf_hooks';
import { loadBuiltinFilter, Matcher } from '../lib/filter';
import { IsolatedMatcher } from '../lib/filter/isolated-matcher';

const N = 200_000;
const failure = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user u${i} from 203.0.${(i >> 8) & 255}.${i & 255} port 40000 ssh2`;
const noise = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Accepted publickey for deploy from 198.51.100.${i & 255} port 40000 ssh2: ED25519 SHA256:abc`;
const lines = Array.from({ length: N }, (_, i) => (i % 2 ? failure(i) : noise(i)));
const us = (ms: number) => `${((ms * 1000) / N).toFixed(2)} µs`;

async function main(): Promise<void> {
  for (let round = 1; round <= 2; round++) {
    const m = new Matcher(loadBuiltinFilter('sshd'));
    let cpu0 = process.cpuUsage();
    let t0 = performance.now();
    let failures = 0;
    for (const l of lines) failures += m.match(l).failures.length;
    let cpu = process.cpuUsage(cpu0);
    console.log(`round ${round}, Matcher in this thread: ${us(performance.now() - t0)} per line, all of it in this thread (${failures} failures)`);

    const im = new IsolatedMatcher(loadBuiltinFilter('sshd'), { maxLineLength: 65536 });
    await new Promise((r) => setTimeout(r, 300)); // the thread starts
    const elu0 = performance.eventLoopUtilization();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    failures = 0;
    await new Promise<void>((resolve) => {
      let i = 0;
      let back = 0;
      // 1,000 lines per event-loop turn (a 64 KiB read of a log), at most 4,000 waiting.
      const feed = () => {
        if (im.waiting > 4000) {
          setTimeout(feed, 1);
          return;
        }
        for (const end = Math.min(N, i + 1000); i < end; i++) {
          im.match(lines[i], undefined, (o) => {
            if (o.kind === 'matched') failures += o.failures.length;
            if (++back === N) resolve();
          });
        }
        if (i < N) setImmediate(feed);
      };
      feed();
    });
    const elu = performance.eventLoopUtilization(elu0);
    cpu = process.cpuUsage(cpu0);
    console.log(
      `round ${round}, IsolatedMatcher: ${us(performance.now() - t0)} per line by wall clock, this thread busy ${us(elu.active)} per line, ` +
        `both threads ${us((cpu.user + cpu.system) / 1000)} CPU per line (${failures} failures)`,
    );
    await im.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
