/**
 * nftables at scale, inside network namespaces (root only): the time to ban 10,000 distinct addresses
 * (the backend's one transaction, and through the ban manager with its ledger), one more ban with
 * 10,000 held, and what 10,000 banned addresses cost an allowed connection (TCP connects from the client namespace, in rounds that alternate
 * between no rules and the rules over the full set).
 */
import { execFile, spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { BanManager, NftablesBackend } from '../lib/firewall';
import { parseAddress } from '../lib/ip';
import { Ledger } from '../lib/ledger';
import { createLab, labUnavailable } from '../test/support/netns';

const N = 10_000;
const PORT = 2222;
const CONNECTS = 500;
const ROUNDS = 6;

/** 10,000 distinct addresses from the benchmarking range 198.18.0.0/15. */
function addresses(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => `198.18.${((i + offset) >> 8) & 255}.${(i + offset) & 255}`).map((a, i) => (i + offset >= 65536 ? a.replace('198.18.', '198.19.') : a));
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Connect latencies from the client namespace, in microseconds, one per connect. */
async function connectLatency(clientNs: string, server: string): Promise<number[]> {
  const script = `
    const net=require('net');const t=[];let i=0;
    const one=()=>{const s0=process.hrtime.bigint();const s=net.connect(${PORT},'${server}',()=>{t.push(Number(process.hrtime.bigint()-s0)/1000);s.destroy();if(++i<${CONNECTS})one();else done();});s.on('error',e=>{console.error(e.message);process.exit(1);});};
    const done=()=>console.log(JSON.stringify(t));
    one();`;
  // Not spawnSync: the listener runs in this process and must keep accepting.
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('ip', ['netns', 'exec', clientNs, process.execPath, '-e', script], { timeout: 120000 }, (err, out, errOut) => (err ? reject(new Error(`connect loop failed: ${errOut || err.message}`)) : resolve(out))),
  );
  return JSON.parse(stdout);
}

async function inside(server: string, clientNs: string): Promise<void> {
  const net = await import('net');
  const listener = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => listener.listen(PORT, server, () => r()));
  const stats = (samples: number[]) => {
    const t = [...samples].sort((x, y) => x - y);
    return { median: t[t.length >> 1], p99: t[Math.floor(t.length * 0.99)], mean: t.reduce((x, y) => x + y, 0) / t.length };
  };
  const fmt = (l: number[]) => {
    const s = stats(l);
    return `median ${s.median.toFixed(0)} us, p99 ${s.p99.toFixed(0)} us, mean ${s.mean.toFixed(0)} us (${l.length} connects)`;
  };
  await connectLatency(clientNs, server); // warm up

  const backend = new NftablesBackend({ setName: 'f2b-bench', table: 'fail2ban', ports: [], protocol: 'tcp' });
  await backend.start();
  let t = process.hrtime.bigint();
  await backend.ban(addresses(N).map((a) => ({ ip: parseAddress(a)!, seconds: 600 })));
  console.log(`nftables backend: ${N} bans in one transaction: ${seconds(t).toFixed(3)} s`);
  const held = await backend.list();
  if (held.length !== N) throw new Error(`the set holds ${held.length}, not ${N}`);
  // What a single ban costs once the set is large (the latency of one more offender).
  const one: number[] = [];
  for (const a of addresses(50, 60000)) {
    const s = process.hrtime.bigint();
    await backend.ban([{ ip: parseAddress(a)!, seconds: 600 }]);
    one.push(seconds(s) * 1000);
  }
  one.sort((x, y) => x - y);
  console.log(`nftables backend: one more ban with ${N} held: median ${one[25].toFixed(1)} ms, max ${one[49].toFixed(1)} ms (50 bans, one at a time)`);
  await backend.unban(addresses(50, 60000).map((a) => parseAddress(a)!));

  // Rounds that alternate between no rules and the rules over the full set, so that the load of a
  // shared machine falls on both alike.
  const without: number[] = [];
  const withBans: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    spawnSync('nft', ['flush', 'chain', 'inet', 'fail2ban', 'f2b-bench']);
    without.push(...(await connectLatency(clientNs, server)));
    await backend.start(); // the rules again; the set keeps its elements
    withBans.push(...(await connectLatency(clientNs, server)));
  }
  console.log(`allowed connect, no rules:                 ${fmt(without)}`);
  console.log(`allowed connect, ${N} addresses banned: ${fmt(withBans)}`);
  const d = stats(withBans).median - stats(without).median;
  console.log(`difference in median: ${d.toFixed(0)} us (${((d / stats(without).median) * 100).toFixed(1)}%)`);

  t = process.hrtime.bigint();
  await backend.unban(addresses(N).map((a) => parseAddress(a)!));
  console.log(`nftables backend: ${N} unbans in one transaction: ${seconds(t).toFixed(3)} s`);

  // Through the manager: ledger written (fsync) first, then one batch to nft.
  const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-'));
  const manager = new BanManager({ backend, ledger: new Ledger(join(dir, 'bans.json')), jail: 'bench', defaultBantime: 600, reconcile: 0 });
  await manager.start();
  t = process.hrtime.bigint();
  await Promise.all(addresses(N, 20000).map((ip) => manager.ban({ ip, bantime: 600 })));
  console.log(`ban manager: ${N} ban messages (ledger + nftables): ${seconds(t).toFixed(3)} s`);
  t = process.hrtime.bigint();
  await manager.reconcile();
  console.log(`ban manager: one reconciliation over ${N} bans: ${seconds(t).toFixed(3)} s`);
  await manager.stop(true);
  rmSync(dir, { recursive: true, force: true });
  listener.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--inside') return inside(process.argv[3], process.argv[4]);
  const why = labUnavailable();
  if (why || spawnSync('nft', ['--version']).status !== 0) {
    console.log(`nftables bench skipped: ${why ?? 'nft is not installed'}`);
    return;
  }
  const lab = createLab('bnf');
  try {
    const r = spawnSync('ip', ['netns', 'exec', lab.server.ns, process.execPath, __filename, '--inside', lab.server.address, lab.client.ns], { stdio: 'inherit', timeout: 300000 });
    if (r.status !== 0) process.exitCode = 1;
  } finally {
    lab.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
