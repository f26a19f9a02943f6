/**
 * The ban ledger on disk: what one more ban costs (written and flushed before the firewall is touched)
 * with 100, 1,000, 10,000 and 50,000 bans held, median and worst over 200 bans, and a restart's read.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { Ledger, type BanRecord } from '../lib/ledger';

const rec = (i: number): BanRecord => ({ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, jail: 'sshd', start: Date.now(), until: Date.now() + 3600_000, bantime: 3600, failures: 3, matches: [`Nov 25 03:00:00 host sshd[1234]: Failed password for root from 10.0.0.${i & 255} port 22 ssh2`] });

const dir = mkdtempSync(join(tmpdir(), 'f2b-ledger-bench-'));
try {
  for (const held of [100, 1000, 10_000, 50_000]) {
    const file = join(dir, `bans-${held}.json`);
    const l = new Ledger(file);
    l.put(Array.from({ length: held }, (_, i) => rec(i)));
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      l.put([rec(held + i)]);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const t0 = performance.now();
    const back = new Ledger(file);
    back.load();
    const read = performance.now() - t0;
    console.log(`ledger, ${String(held).padStart(6)} held: one more ban median ${times[100].toFixed(2)} ms, worst of 200 ${times[199].toFixed(1)} ms; restart reads ${back.size} bans in ${read.toFixed(0)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
