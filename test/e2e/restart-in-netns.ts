/**
 * Runs inside the server namespace (see restart.test.ts): a real Node-RED process with a firewall-ban
 * node on BACKEND, killed with SIGKILL while bans are active, the firewall flushed while it is down, then
 * started again: the bans are back from the ledger with their remaining time, the one that ended meanwhile
 * is gone. Deleting the node from the flows lifts its bans and deletes its ledger.
 * Usage: node restart-in-netns.js BACKEND SERVER4 CLIENT_NS CLIENT4 CLIENT6
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elementsOf } from '../../lib/firewall';
import { membersOf } from '../../lib/firewall/ipset';
import { routesOf } from '../../lib/firewall/route';
import { Ledger } from '../../lib/ledger';
import { connectsFrom } from '../support/netns';
import { freePort, installPackage, spawnNodeRed, waitFor, writeSettings } from '../support/process';

const [backend, server4, clientNs, client4, client6] = process.argv.slice(2);
const PORT = 2222;

const clientConnects = () => connectsFrom(clientNs, server4, PORT);

/** What the firewall holds for the jail now. */
function held(): string[] {
  if (backend === 'nftables') {
    return ['f2b-lab', 'f2b-lab-v6'].flatMap((set) => {
      const r = spawnSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', set], { encoding: 'utf8' });
      return r.status === 0 ? elementsOf(r.stdout) : [];
    });
  }
  if (backend === 'iptables-ipset') {
    return ['f2b-lab', 'f2b-lab-v6'].flatMap((set) => {
      const r = spawnSync('ipset', ['save', set], { encoding: 'utf8' });
      return r.status === 0 ? membersOf(r.stdout, set) : [];
    });
  }
  if (backend === 'route') {
    return ['-4', '-6'].flatMap((f) => routesOf(execFileSync('ip', ['-j', f, 'route', 'show', 'type', 'blackhole', 'proto', '242'], { encoding: 'utf8' })));
  }
  return ['iptables', 'ip6tables'].flatMap((ipt) => {
    const r = spawnSync(ipt, ['-S', 'f2b-lab'], { encoding: 'utf8' });
    return r.status === 0 ? [...r.stdout.matchAll(/-s (\S+?)(?:\/(?:32|128))? /g)].map((m) => m[1]) : [];
  });
}

/** Seconds the kernel still holds client4's ban (nftables timeouts). */
function nftExpires(): number {
  const doc = JSON.parse(execFileSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', 'f2b-lab'], { encoding: 'utf8' }));
  const elem = doc.nftables.find((i: { set?: unknown }) => i.set).set.elem.find((e: { elem?: { val: string } }) => e.elem?.val === client4);
  return elem.elem.expires;
}

/** The host rebooted, or someone flushed the firewall while Node-RED was down. */
function flushFirewall(): void {
  if (backend === 'route') {
    execFileSync('ip', ['route', 'flush', 'proto', '242']);
    execFileSync('ip', ['-6', 'route', 'flush', 'proto', '242']);
    return;
  }
  execFileSync('nft', ['flush', 'ruleset']); // nftables, and the tables of iptables-nft
  if (backend === 'iptables-ipset') execFileSync('ipset', ['destroy']);
}

/** The backend has made what it owns (so bans can go in). */
function ready(): boolean {
  if (backend === 'nftables') return spawnSync('nft', ['list', 'set', 'inet', 'fail2ban', 'f2b-lab']).status === 0;
  if (backend === 'route') return true;
  if (backend === 'iptables-ipset' && spawnSync('ipset', ['list', 'f2b-lab']).status !== 0) return false;
  return spawnSync('iptables', ['-S', 'f2b-lab']).status === 0;
}

async function main(): Promise<void> {
  const listener = createServer((s) => s.end('SSH-2.0-test\r\n'));
  await new Promise<void>((r) => listener.listen(PORT, '::', () => r()));
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-restart-'));
  installPackage(userDir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  writeSettings(userDir, port);
  let red: ChildProcess | null = null;
  let output = () => '';
  const startRed = async () => {
    const started = await spawnNodeRed(userDir, base);
    red = started.child;
    output = started.output;
  };
  const bans = async () => (await (await fetch(`${base}/firewall-ban/fw/bans`)).json()) as Array<{ ip: string; until: number | null }>;
  const inject = async (id: string) => assert.ok((await fetch(`${base}/inject/${id}`, { method: 'POST' })).ok, `inject ${id}`);
  const decision = (ip: string, bantime: number) => JSON.stringify({ action: 'ban', ip, bantime, jail: 'lab' });
  const injectNode = (id: string, payload: string, y: number) => ({ id, type: 'inject', z: 'tab', x: 100, y, props: [{ p: 'payload' }], payload, payloadType: 'json', repeat: '', once: false, wires: [['fw']] });
  const fw = { id: 'fw', type: 'firewall-ban', z: 'tab', x: 300, y: 100, name: 'lab', backend, setName: 'f2b-lab', table: 'fail2ban', ports: String(PORT), protocol: 'tcp', bantime: '10m', reconcile: '1', persist: true, unbanOnStop: false, wires: [[]] };
  const flow = [{ id: 'tab', type: 'tab', label: 'lab' }, injectNode('ban4', decision(client4, 600), 60), injectNode('ban6', decision(client6, 600), 120), injectNode('short', decision('192.0.2.9', 2), 180), fw];
  const deploy = async (nodes: unknown[]) => {
    const res = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(nodes) });
    assert.ok(res.ok, `deploy answered ${res.status}: ${await res.text()}`);
  };
  const ledgerFile = join(userDir, 'fail2ban', 'bans-fw.json');
  try {
    await startRed();
    await deploy(flow);
    await waitFor(async () => (await fetch(`${base}/firewall-ban/fw/bans`)).ok, 'the node to be deployed', 15000);
    await new Promise((r) => setTimeout(r, 300));
    await waitFor(() => ready() && held().length === 0, 'the backend to start', 15000);
    await inject('ban4');
    await inject('ban6');
    await inject('short');
    await waitFor(() => held().length === 3, 'three bans in the firewall', 15000);
    const before = await bans();
    const until4 = before.find((b) => b.ip === client4)!.until!;
    assert.ok(!clientConnects(), 'banned, the client cannot connect');

    red!.kill('SIGKILL');
    await new Promise((r) => red!.once('exit', r));
    flushFirewall();
    assert.ok(clientConnects(), 'with the firewall flushed, the client connects');
    await new Promise((r) => setTimeout(r, 2500)); // the 2 s ban ends while Node-RED is down

    await startRed();
    await waitFor(() => held().sort().join() === [client4, client6].sort().join(), `the bans restored (firewall holds ${held()})`, 15000);
    const after = await bans();
    assert.deepEqual(after.map((b) => b.ip).sort(), [client4, client6].sort(), 'the ban that ended while Node-RED was down is gone');
    assert.equal(after.find((b) => b.ip === client4)!.until, until4, 'a restored ban keeps its end');
    if (backend === 'nftables') {
      const left = nftExpires();
      assert.ok(left <= 600 && left >= 590, `the kernel holds the remaining time, not a fresh bantime (expires ${left}s)`);
    }
    assert.ok(!clientConnects(), 'restored, the ban blocks again');

    // The node deleted from the flows: its bans are lifted and its ledger deleted.
    assert.ok(existsSync(ledgerFile), 'the ledger lives in fail2ban/ under the user directory');
    const onDisk = new Ledger(ledgerFile);
    onDisk.load();
    assert.equal(onDisk.size, 2, 'the ledger on disk holds the two bans');
    await deploy(flow.filter((n) => n.type === 'tab'));
    await waitFor(() => !existsSync(ledgerFile) && !existsSync(`${ledgerFile}.journal`), 'the ledger of the deleted node to go', 15000);
    assert.deepEqual(held(), [], 'the deleted node lifted its bans');
    assert.ok(clientConnects(), 'and the client connects');
    assert.ok(!/TypeError|ReferenceError|Uncaught/.test(output()), output());
    process.stdout.write(`${backend} restart: all checks passed\n`);
  } finally {
    const r = red as ChildProcess | null;
    if (r && r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
    listener.close();
    rmSync(userDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
