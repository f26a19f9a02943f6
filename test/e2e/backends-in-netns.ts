/**
 * Runs inside the server namespace (see backends.test.ts) for one backend: a TCP listener on the
 * server's IPv4 and IPv6 addresses, a client in the client namespace that tries to connect, and the
 * real backend driven by the ban manager with a ledger on disk. Exits 0 when every check holds.
 * Usage: node backends-in-netns.js BACKEND SERVER4 SERVER6 CLIENT_NS CLIENT4 CLIENT6
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BanManager, createBackend, killConnections, parsePorts, ProtectedAddressError } from '../../lib/firewall';
import { Ledger } from '../../lib/ledger';
import type { FirewallEvent } from '../../lib/messages';
import { connectsFrom } from '../support/netns';
import { waitFor } from '../support/process';

const [backendName, server4, server6, clientNs, client4, client6] = process.argv.slice(2);
const PORT = 2222;

/** Can the client namespace open a TCP connection to `address`? */
const clientConnects = (address: string) => connectsFrom(clientNs, address, PORT, 700);

/** Empties the namespace's firewall behind the manager's back, as a reload or `iptables -F` would. */
function flushFirewall(): void {
  if (backendName === 'command') {
    execFileSync('nft', ['flush', 'set', 'inet', 'f2bcmd', 'v-inet4']);
    execFileSync('nft', ['flush', 'set', 'inet', 'f2bcmd', 'v-inet6']);
    return;
  }
  if (backendName === 'route') {
    execFileSync('ip', ['route', 'flush', 'proto', '242']);
    execFileSync('ip', ['-6', 'route', 'flush', 'proto', '242']);
    return;
  }
  execFileSync('nft', ['flush', 'ruleset']); // iptables-nft keeps its tables in the nft ruleset
  for (const ipt of ['iptables-legacy', 'ip6tables-legacy']) {
    spawnSync(ipt, ['-F']);
    spawnSync(ipt, ['-X']);
  }
  if (backendName === 'iptables-ipset') execFileSync('ipset', ['destroy']);
}

/** The command backend's own firewall, which its commands fill: made here, as an administrator would. */
function commandFirewall(): void {
  const script = ['inet4 ipv4_addr ip', 'inet6 ipv6_addr ip6'].flatMap((f) => {
    const [family, type, l3] = f.split(' ');
    return [`add set inet f2bcmd v-${family} { type ${type}; flags interval; }`, `add rule inet f2bcmd input ${l3} saddr @v-${family} tcp dport ${PORT} drop`];
  });
  execFileSync('nft', ['-f', '-'], { input: ['add table inet f2bcmd', 'add chain inet f2bcmd input { type filter hook input priority -1; }', ...script, ''].join('\n') });
}

async function main(): Promise<void> {
  const open: Socket[] = [];
  const listener = createServer((s) => {
    open.push(s);
    s.on('error', () => undefined);
    s.write('SSH-2.0-test\r\n');
  });
  await new Promise<void>((r) => listener.listen(PORT, '::', () => r()));
  const dir = mkdtempSync(join(tmpdir(), 'f2b-backend-'));
  if (backendName === 'command') commandFirewall();
  // Backend options of the test (command templates, action file) come in F2B_BACKEND_OPTIONS.
  const extra = JSON.parse(process.env.F2B_BACKEND_OPTIONS || '{}') as Record<string, string>;
  const backend = createBackend(backendName, { setName: 'f2b-lab', table: 'fail2ban', ports: parsePorts(String(PORT)), protocol: 'tcp', jail: 'lab', ...extra });
  const ledger = new Ledger(join(dir, 'bans.json'));
  const manager = new BanManager({ backend, ledger, jail: 'lab', defaultBantime: 600, reconcile: 1, killConnections: (ips) => killConnections(ips) });
  const events: FirewallEvent[] = [];
  manager.on('event', (e: FirewallEvent) => events.push(e));
  const count = (name: string) => events.filter((e) => e.event === name).length;
  try {
    await manager.start();
    assert.ok(clientConnects(server4) && clientConnects(server6), 'before any ban, the client connects over IPv4 and IPv6');

    // A connection open before the ban is reset by killConnections.
    const before = open.length;
    const held = spawnSyncAsync(['-e', `const s=require('net').connect(${PORT},'${server4}');s.on('error',()=>{});s.on('data',()=>{});setTimeout(()=>process.exit(0),4000);`]);
    await waitFor(() => open.length > before, 'the long connection', 8000);
    const longOne = open[open.length - 1];

    await manager.ban({ ip: client4, bantime: 600 });
    await manager.ban({ ip: client6, bantime: 600 });
    assert.deepEqual((await backend.list()).sort(), [client4, client6].sort(), 'the firewall holds both bans');
    assert.ok(!clientConnects(server4), 'banned over IPv4, the client cannot connect');
    assert.ok(!clientConnects(server6), 'banned over IPv6, the client cannot connect');
    await waitFor(() => longOne.destroyed, 'killConnections to close the connection opened before the ban', 3000);
    await held;

    await manager.unban(client4);
    await manager.unban(client6);
    assert.deepEqual(await backend.list(), [], 'unbanned, nothing is left in the firewall');
    assert.ok(clientConnects(server4) && clientConnects(server6), 'unbanned, the client connects again');

    await manager.ban({ ip: client4, bantime: 2 });
    assert.ok(!clientConnects(server4), 'a short ban blocks');
    await waitFor(() => count('unban') === 3, 'the end of the short ban', 8000);
    assert.deepEqual(await backend.list(), [], 'the ended ban left the firewall');
    assert.ok(clientConnects(server4), 'after the ban time, the client connects again');

    // A prefix that holds the client (and not the server) blocks it; one that holds the server is refused.
    await manager.ban({ ip: `${client4}/31`, bantime: 600 });
    assert.ok(!clientConnects(server4), 'a prefix ban blocks the client');
    await manager.unban(`${client4}/31`);
    await assert.rejects(manager.ban({ ip: `${server4}/24` }), ProtectedAddressError, 'a prefix holding this machine is refused');
    await assert.rejects(manager.ban({ ip: '127.0.0.1' }), ProtectedAddressError, 'loopback is refused');

    // The firewall flushed behind our back: the next reconciliation puts the bans back.
    await manager.ban({ ip: client4, bantime: 600 });
    await manager.ban({ ip: client6, bantime: 600 });
    flushFirewall();
    assert.ok(clientConnects(server4), 'the flush lifted the ban');
    await waitFor(() => count('repair') >= 2, 'the repairs after the flush', 8000);
    assert.deepEqual((await backend.list()).sort(), [client4, client6].sort(), 'the bans are back');
    assert.ok(!clientConnects(server4) && !clientConnects(server6), 'and block again');

    await manager.stop(true);
    assert.ok(clientConnects(server4) && clientConnects(server6), 'stopped with unbanOnStop, the client connects');
    if (backendName !== 'route') {
      const left = execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
      assert.ok(!left.includes('f2b-lab'), `the backend removed its chain:\n${left}`);
    }
    process.stdout.write(`${backendName} lab: all checks passed\n`);
  } finally {
    await manager.stop(true).catch(() => undefined);
    for (const s of open) s.destroy();
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A node script in the client namespace, resolving with its exit status. */
function spawnSyncAsync(args: string[]): Promise<number | null> {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', clientNs, process.execPath, ...args], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
