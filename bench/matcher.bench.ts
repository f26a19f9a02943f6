/** Lines per second through the built-in sshd filter, and failures per second through the window. */
import { loadBuiltinFilter, Matcher } from '../lib/filter';
import { FailureWindows } from '../lib/window';

function rate(label: string, n: number, fn: (i: number) => void): void {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label}: ${Math.round(n / s).toLocaleString('en-US')} per second (${n} in ${s.toFixed(2)} s)`);
}

const matcher = new Matcher(loadBuiltinFilter('sshd'));
const now = Date.now();
const failure = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Failed password for invalid user u${i} from 203.0.${(i >> 8) & 255}.${i & 255} port 40000 ssh2`;
const noise = (i: number) => `Nov 24 10:00:01 box sshd[4242]: Accepted publickey for deploy from 198.51.100.${i & 255} port 40000 ssh2: ED25519 SHA256:abc`;
rate('sshd matcher, failure lines', 200_000, (i) => matcher.match(failure(i), undefined, now));
rate('sshd matcher, unrelated lines', 200_000, (i) => matcher.match(noise(i), undefined, now));

const windows = new FailureWindows({ maxretry: 5, findtime: 600, bantime: 600, maxEntries: 100_000 });
rate('threshold window, failures', 1_000_000, (i) => windows.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, now, undefined, now));
console.log(`heap used: ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB, offenders kept: ${windows.size}, evicted: ${windows.evicted}`);
