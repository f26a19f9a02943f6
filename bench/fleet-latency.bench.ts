/**
 * Fleet latency (issue 19): the time from the failed logins of an address being written to host A's log
 * until that address is in host B's nftables set, through A's sshd jail, ban-share, mosquitto, B's
 * ban-share and firewall-ban. The fleet of test/support/fleet.ts: mosquitto and three Node-RED processes,
 * each in a network namespace of its own (root only). Two phases: a quiet fleet, and one with 1,000
 * bans already shared. Prints median, p90, p99 and max per phase (target: p99 under 100 ms).
 *
 * B's set is watched with `nft -j monitor new elements` inside B's namespace (the agent timestamps each
 * element as the kernel reports it); both times are wall-clock (performance.timeOrigin + now()).
 * Usage: node dist/bench/fleet-latency.bench.js [samples per phase, default 150]
 */
import { loadavg } from 'os';
import { performance } from 'perf_hooks';
import { Arrivals } from '../test/support/arrivals';
import { createFleet, fleetUnavailable, SET, type FleetHost } from '../test/support/fleet';
import { waitFor } from '../test/support/process';

const SAMPLES = Math.max(100, Number(process.argv[2]) || 150);
const WARMUP = 10;
const SHARED = 1000;
const SPACING_MS = 50;
const MISS_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

function stats(samples: number[]): { n: number; median: number; p90: number; p99: number; max: number } {
  const t = [...samples].sort((a, b) => a - b);
  const at = (q: number) => t[Math.min(t.length - 1, Math.max(0, Math.ceil(q * t.length) - 1))];
  return { n: t.length, median: at(0.5), p90: at(0.9), p99: at(0.99), max: t[t.length - 1] };
}

async function phase(name: string, A: FleetHost, arrivals: Arrivals, ips: string[]): Promise<void> {
  const samples: number[] = [];
  let missed = 0;
  for (let i = 0; i < ips.length; i++) {
    const written = now();
    A.fail(ips[i]);
    const at = await arrivals.when(ips[i]);
    if (at === null) missed++;
    else if (i >= WARMUP) samples.push(at - written);
    await sleep(SPACING_MS);
  }
  const s = stats(samples);
  const f = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`${name}: ${s.n} bans, median ${f(s.median)}, p90 ${f(s.p90)}, p99 ${f(s.p99)}, max ${f(s.max)}${missed ? `, ${missed} missed (over ${MISS_MS} ms)` : ''}; load average ${loadavg()[0].toFixed(2)}`);
  if (s.p99 >= 100) console.log(`  p99 over the 100 ms target`);
}

async function main(): Promise<void> {
  const why = fleetUnavailable();
  if (why) {
    console.log(`fleet-latency bench skipped: ${why}`);
    return;
  }
  const fleet = await createFleet('flb', { maxPerMinute: 1_000_000 });
  const stop = () => void fleet.remove().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const [A, B] = fleet.hosts;
    await B.ask('watch', { set: SET });
    const arrivals = new Arrivals(MISS_MS);
    B.onElement = (ip, at) => void arrivals.arrived(ip, at);
    await sleep(300);
    const fresh = (base: number, n: number) => Array.from({ length: n }, (_, i) => `198.${18 + ((base + i) >> 16)}.${((base + i) >> 8) & 255}.${(base + i) & 255}`);
    await phase('quiet fleet', A, arrivals, fresh(1, SAMPLES + WARMUP));
    // 1,000 bans shared by A (in batches, as an attack would), all in B's set before the next phase.
    const bulk = fresh(20_000, SHARED);
    for (let i = 0; i < bulk.length; i += 50) {
      for (const ip of bulk.slice(i, i + 50)) A.fail(ip);
      await sleep(100);
    }
    await waitFor(() => arrivals.count >= SAMPLES + WARMUP + SHARED, `${SHARED} bans shared to B`, 120000, 500);
    const onB = (await B.elements()).length;
    console.log(`B holds ${onB} bans`);
    await phase(`with ${SHARED} bans already shared`, A, arrivals, fresh(40_000, SAMPLES + WARMUP));
  } finally {
    await fleet.remove();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
