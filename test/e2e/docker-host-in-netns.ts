/**
 * Runs inside the server namespace (see docker-host.test.ts) for one backend. The server stands for a
 * Docker host: a "container" namespace behind it serves ports 80 and 81, published as 8080 and 8081 the
 * way Docker publishes them (DNAT in nat PREROUTING, ip_forward on, a FORWARD chain with policy DROP
 * that accepts what goes to the container, and DOCKER-USER jumped to from the top of FORWARD). The
 * server's own service listens on 2222. The attacker and an allowed client sit on links of their own.
 * Exits 0 when every check holds.
 * Usage: node docker-host-in-netns.js BACKEND CONTAINER_NS CONTAINER4 ATTACKER_NS ATTACKER4 VIA_ATTACKER ALLOWED_NS VIA_ALLOWED
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BanManager, createBackend, type BackendOptions, type FirewallBackend } from '../../lib/firewall';
import { Ledger } from '../../lib/ledger';
import type { FirewallEvent } from '../../lib/messages';
import { connectsFrom } from '../support/netns';
import { waitFor } from '../support/process';

const [backendName, containerNs, container4, attackerNs, attacker4, viaAttacker, allowedNs, viaAllowed] = process.argv.slice(2);
const HOST_PORT = 2222;

const attackerReaches = (port: number) => connectsFrom(attackerNs, viaAttacker, port, 700);
const allowedReaches = (port: number) => connectsFrom(allowedNs, viaAllowed, port, 700);
const ipt = (...args: string[]) => execFileSync('iptables', ['-w', ...args], { stdio: 'pipe' });
const chainExists = (chain: string) => spawnSync('iptables', ['-w', '-S', chain]).status === 0;

/** Docker's rules for a container published with -p 8080:80 -p 8081:81, without DOCKER-USER. */
function publishLikeDocker(): void {
  for (const [published, port] of [['8080', '80'], ['8081', '81']]) {
    ipt('-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', published, '-j', 'DNAT', '--to-destination', `${container4}:${port}`);
    ipt('-A', 'FORWARD', '-d', container4, '-p', 'tcp', '--dport', port, '-j', 'ACCEPT');
  }
  ipt('-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
  ipt('-P', 'FORWARD', 'DROP');
}

/** What Docker does at start: DOCKER-USER, ending in RETURN, jumped to from the top of FORWARD (ip6tables too, Docker's default since 27). */
function makeDockerUser(): void {
  for (const tool of ['iptables', 'ip6tables']) {
    const run = (...args: string[]) => execFileSync(tool, ['-w', ...args], { stdio: 'pipe' });
    run('-N', 'DOCKER-USER');
    run('-A', 'DOCKER-USER', '-j', 'RETURN');
    run('-I', 'FORWARD', '1', '-j', 'DOCKER-USER');
  }
}

function start(options: Partial<BackendOptions>, ledger: Ledger): { backend: FirewallBackend; manager: BanManager; events: FirewallEvent[] } {
  const backend = createBackend(backendName, { setName: 'f2b-dk', table: 'fail2ban', ports: ['8080', String(HOST_PORT)], protocol: 'tcp', jail: 'dk', ...options });
  const manager = new BanManager({ backend, ledger, jail: 'dk', defaultBantime: 600, reconcile: 1 });
  const events: FirewallEvent[] = [];
  manager.on('event', (e: FirewallEvent) => events.push(e));
  return { backend, manager, events };
}

async function nftables(ledger: Ledger): Promise<void> {
  makeDockerUser();
  // forward alone: the container's published port is protected, the host's own service is left alone.
  let { backend, manager, events } = start({ hook: 'forward' }, ledger);
  await manager.start();
  assert.ok(attackerReaches(8080) && allowedReaches(8080), 'before the ban, both clients reach the container through 8080');
  await manager.ban({ ip: attacker4 });
  assert.deepEqual(await backend.list(), [attacker4], 'the set holds the ban');
  assert.ok(!attackerReaches(8080), 'banned with hook forward, the attacker cannot reach the container (published 8080, listening on 80)');
  assert.ok(allowedReaches(8080), 'the allowed client still reaches the container');
  assert.ok(attackerReaches(8081), 'a published port not in ports (8081) stays open to the attacker');
  assert.ok(attackerReaches(HOST_PORT), 'hook forward leaves the host\'s own service (2222) to other jails');
  const ruleset = execFileSync('nft', ['list', 'chain', 'inet', 'fail2ban', 'f2b-dk-fwd'], { encoding: 'utf8' });
  assert.match(ruleset, /hook forward priority filter - 1/, `the chain sits in the forward hook at priority -1:\n${ruleset}`);
  assert.equal(spawnSync('nft', ['list', 'chain', 'inet', 'fail2ban', 'f2b-dk']).status, 1, 'no input chain with hook forward');

  // A flush of the jail's chain behind the node's back is repaired by the reconciliation.
  execFileSync('nft', ['flush', 'chain', 'inet', 'fail2ban', 'f2b-dk-fwd']);
  assert.ok(attackerReaches(8080), 'the flush lifted the ban');
  await waitFor(() => !attackerReaches(8080), 'the reconciliation to put the rules back', 8000, 200);

  // Stopped without lifting bans, then started with input forward: the ledger's ban is restored in both hooks.
  await manager.stop(false);
  ({ backend, manager, events } = start({ hook: 'input forward' }, ledger));
  await manager.start();
  assert.equal(events.filter((e) => e.event === 'restore').length, 1, 'the ban is restored at start');
  assert.ok(!attackerReaches(8080), 'input forward: the container stays protected');
  assert.ok(!attackerReaches(HOST_PORT), 'input forward: the host\'s own service is protected too');
  assert.ok(allowedReaches(8080) && allowedReaches(HOST_PORT), 'the allowed client reaches both');
  // What nft lists can be loaded again (a ruleset saved with `nft list ruleset` and restored at boot).
  const saved = execFileSync('nft', ['list', 'table', 'inet', 'fail2ban'], { encoding: 'utf8' });
  const check = spawnSync('nft', ['-c', '-f', '-'], { input: saved, encoding: 'utf8' });
  assert.equal(check.status, 0, `nft -c reads back the listed table: ${check.stderr}\n${saved}`);

  await manager.unban(attacker4);
  assert.ok(attackerReaches(8080) && attackerReaches(HOST_PORT), 'unbanned, the attacker reaches both again');

  // Back to forward only: the input chain (ours) goes.
  await manager.ban({ ip: attacker4 });
  await manager.stop(false);
  ({ backend, manager, events } = start({ hook: 'forward' }, ledger));
  await manager.start();
  assert.equal(spawnSync('nft', ['list', 'chain', 'inet', 'fail2ban', 'f2b-dk']).status, 1, 'the input chain left with the input hook');
  assert.ok(!attackerReaches(8080) && attackerReaches(HOST_PORT), 'forward again: container protected, host service left alone');

  await manager.stop(true);
  const left = execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
  assert.ok(!left.includes('f2b-dk'), `stopped with unbanOnStop, the node removed its chains and sets:\n${left}`);
  assert.ok(chainExists('DOCKER-USER') && attackerReaches(8080), 'Docker\'s rules are left as they were and the attacker gets through');
}

async function iptables(ledger: Ledger): Promise<void> {
  // Docker has not started yet: DOCKER-USER is missing.
  const { backend, manager } = start({ chain: 'DOCKER-USER' }, ledger);
  await manager.start();
  assert.match(manager.lastError ?? '', /DOCKER-USER does not exist yet/, 'the status says DOCKER-USER is missing');
  assert.ok(!chainExists('DOCKER-USER'), 'the node does not create DOCKER-USER');
  await manager.ban({ ip: attacker4 });
  assert.deepEqual(await backend.list(), [attacker4], 'the ban is held in the jail\'s own chain or set meanwhile');
  assert.match(manager.lastError ?? '', /DOCKER-USER does not exist yet/, 'after the ban, the status still says so');

  makeDockerUser();
  await waitFor(() => manager.lastError === null, 'the node to find DOCKER-USER and clear the status', 15000, 200);
  const dockerUser = execFileSync('iptables', ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' });
  assert.match(dockerUser, /^-A DOCKER-USER -j f2b-dk\n-A DOCKER-USER -j RETURN/m, `the jump is at the top of DOCKER-USER:\n${dockerUser}`);
  assert.ok(!attackerReaches(8080), 'once DOCKER-USER exists the ban applies: the attacker cannot reach the container');
  assert.ok(allowedReaches(8080), 'the allowed client still reaches the container');
  assert.ok(attackerReaches(8081), 'a published port not in ports (8081) stays open to the attacker');
  assert.ok(attackerReaches(HOST_PORT), 'DOCKER-USER leaves the host\'s own service alone');
  assert.ok(spawnSync('iptables', ['-w', '-C', 'INPUT', '-j', 'f2b-dk']).status !== 0, 'no jump from INPUT');

  // The jump deleted behind the node's back is put back by the reconciliation.
  ipt('-D', 'DOCKER-USER', '-j', 'f2b-dk');
  assert.ok(attackerReaches(8080), 'without the jump the ban does not hold');
  await waitFor(() => !attackerReaches(8080), 'the reconciliation to put the jump back', 8000, 200);

  await manager.unban(attacker4);
  assert.ok(attackerReaches(8080), 'unbanned, the attacker reaches the container again');
  await manager.ban({ ip: attacker4 });
  assert.ok(!attackerReaches(8080), 'banned again');
  await manager.stop(true);
  assert.ok(chainExists('DOCKER-USER'), 'stopping leaves DOCKER-USER (Docker\'s) in place');
  assert.ok(!chainExists('f2b-dk'), 'stopping removes the jail\'s own chain');
  assert.equal(execFileSync('iptables', ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' }), '-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n', 'DOCKER-USER is as Docker made it');
  assert.ok(attackerReaches(8080), 'stopped with unbanOnStop, the attacker gets through');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-docker-'));
  // The container's service, on 80 and 81, inside the container namespace.
  const container = spawn('ip', ['netns', 'exec', containerNs, process.execPath, '-e', "for (const p of [80, 81]) require('net').createServer((s) => { s.on('error', () => {}); s.end('hi'); }).listen(p);"], { stdio: 'ignore' });
  const host = createServer((s) => {
    s.on('error', () => undefined);
    s.end('SSH-2.0-test\r\n');
  });
  await new Promise<void>((r) => host.listen(HOST_PORT, '0.0.0.0', () => r()));
  try {
    publishLikeDocker();
    await waitFor(() => connectsFrom(allowedNs, viaAllowed, 8081, 700), 'the container to listen', 8000, 100);
    const ledger = new Ledger(join(dir, 'bans.json'));
    if (backendName === 'nftables') await nftables(ledger);
    else await iptables(ledger);
    process.stdout.write(`${backendName} docker host: all checks passed\n`);
  } finally {
    container.kill('SIGKILL');
    host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
