import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BanManager, createBackend, DryRunBackend, FirewallError, InvalidAddressError, NftablesBackend, parsePorts } from '../../lib/firewall';
import { Ledger } from '../../lib/ledger';
import type { FirewallEvent } from '../../lib/messages';

const dir = mkdtempSync(join(tmpdir(), 'f2b-manager-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function manager(file: string | null, backend = new DryRunBackend(), reconcile = 0) {
  const ledger = new Ledger(file);
  ledger.load();
  const m = new BanManager({ backend, ledger, jail: 'sshd', defaultBantime: 600, reconcile });
  const events: FirewallEvent[] = [];
  m.on('event', (e: FirewallEvent) => events.push(e));
  return { m, ledger, backend, events };
}

test('a ban is written to the ledger and applied; it is lifted when its time is up', async () => {
  const file = join(dir, 'a.json');
  const { m, backend, events } = manager(file);
  await m.start();
  const e = await m.ban({ ip: '192.0.2.1', bantime: 1, failures: 3, matches: ['l1', 'l2', 'l3'] });
  assert.equal(e.event, 'ban');
  assert.equal(e.backend, 'dry-run');
  assert.ok(e.until! > Date.now());
  assert.deepEqual(await backend.list(), ['192.0.2.1']);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).bans.map((b: { ip: string }) => b.ip), ['192.0.2.1']);
  await new Promise((r) => setTimeout(r, 2300));
  assert.deepEqual(events.map((x) => x.event), ['ban', 'unban']);
  assert.deepEqual(backend.history.map((h) => h.op), ['ban', 'unban']);
  assert.equal(m.list().length, 0);
  await m.stop(false);
});

test('heldUntil: the end of the active ban on an address, from the ledger as loaded (before start too)', async () => {
  const file = join(dir, 'held.json');
  const first = manager(file);
  await first.m.start();
  const e = await first.m.ban({ ip: '2001:db8::1', bantime: 600 });
  await first.m.ban({ ip: '198.51.100.0/24', bantime: -1 });
  await first.m.stop(false);
  const { m } = manager(file);
  assert.equal(m.heldUntil('2001:DB8:0::1'), e.until, 'asked in any spelling');
  assert.equal(m.heldUntil('198.51.100.0/24'), null, 'for ever');
  assert.equal(m.heldUntil('192.0.2.9'), undefined);
  assert.equal(m.heldUntil('not an address'), undefined);
});

test('bans that arrive together go out in one batch', async () => {
  const backend = new DryRunBackend();
  let calls = 0;
  const orig = backend.ban.bind(backend);
  backend.ban = async (r) => {
    calls++;
    return orig(r);
  };
  const { m } = manager(null, backend);
  await m.start();
  await Promise.all(Array.from({ length: 50 }, (_, i) => m.ban({ ip: `198.51.100.${i}` })));
  assert.equal(calls, 1);
  assert.equal(m.list().length, 50);
  await m.stop(true);
});

test('unexpired bans come back after a restart, with their remaining time', async () => {
  const file = join(dir, 'restart.json');
  const first = manager(file);
  await first.m.start();
  await first.m.ban({ ip: '203.0.113.9', bantime: 3600 });
  await first.m.ban({ ip: '203.0.113.10', bantime: -1 });
  await first.m.stop(false);
  const second = manager(file);
  await second.m.start();
  assert.deepEqual(second.events.map((e) => `${e.event} ${e.ip}`).sort(), ['restore 203.0.113.10', 'restore 203.0.113.9']);
  assert.deepEqual((await second.backend.list()).sort(), ['203.0.113.10', '203.0.113.9']);
  const forever = second.events.find((e) => e.ip === '203.0.113.10')!;
  assert.equal(forever.until, null);
  await second.m.stop(false);
});

test('reconciliation puts back what the firewall lost', async () => {
  const { m, backend, events } = manager(null);
  await m.start();
  await m.ban({ ip: '192.0.2.77', bantime: 3600 });
  await backend.stop(true); // as if someone flushed the firewall
  assert.deepEqual(await backend.list(), []);
  assert.equal(await m.reconcile(), 1);
  assert.deepEqual(await backend.list(), ['192.0.2.77']);
  assert.equal(events.at(-1)?.event, 'repair');
  await m.stop(true);
});

test('anything that is not an address is refused before it reaches a backend', async () => {
  const { m, backend } = manager(null);
  await m.start();
  for (const bad of ['1.2.3.4; touch /tmp/pwned', '$(reboot)', '-h', 'x'.repeat(10240), '', null, 42]) {
    await assert.rejects(m.ban({ ip: bad }), InvalidAddressError);
  }
  assert.equal(backend.history.length, 0);
  await m.stop(true);
});

test('backends: unknown names, ports, and a missing nft binary say what to do', async () => {
  const opts = { setName: 'f2b-sshd', table: 'fail2ban', ports: [], protocol: 'tcp' };
  assert.throws(() => createBackend('pf', opts), /unknown backend "pf": choose one of/);
  assert.throws(() => createBackend('command', opts), /banCommand is empty: the command backend needs/);
  assert.throws(() => parsePorts('22, ssh'), /"ssh" is not a port/);
  assert.deepEqual(parsePorts('22, 2222 1000:2000'), ['22', '2222', '1000-2000']);
  assert.throws(() => createBackend('nftables', { ...opts, setName: 'bad name;' }), FirewallError);
  const missing = new NftablesBackend(opts, '/nonexistent/nft');
  await assert.rejects(missing.start(), /nft not found: install nftables \(apt-get install nftables\) or choose another backend/);
});

test('bans that arrive while the backend starts wait for it; after a failed start they are refused', async () => {
  const slow = new DryRunBackend();
  const origStart = slow.start.bind(slow);
  slow.start = async () => {
    await new Promise((r) => setTimeout(r, 200));
    return origStart();
  };
  const { m } = manager(null, slow);
  const started = m.start();
  const e = await m.ban({ ip: '192.0.2.200' });
  assert.equal(e.event, 'ban');
  assert.deepEqual(await slow.list(), ['192.0.2.200']);
  await started;
  await m.stop(true);

  const broken = new DryRunBackend();
  broken.start = async () => {
    throw new Error('nft not found: install nftables');
  };
  const b = manager(null, broken);
  const early = b.m.ban({ ip: '192.0.2.201' });
  await assert.rejects(b.m.start(), /nft not found/);
  await assert.rejects(early, /backend did not start: nft not found/);
  await assert.rejects(b.m.ban({ ip: '192.0.2.202' }), /backend did not start/);
  assert.deepEqual(broken.history, []);
});

test("a ledger ban that is now this machine's own address is not restored; killConnections gets each new ban", async () => {
  const file = join(dir, 'own.json');
  const now = Date.now();
  const rec = (ip: string) => ({ ip, jail: 'sshd', start: now, until: now + 600_000, bantime: 600 });
  writeFileSync(file, JSON.stringify({ version: 1, bans: [rec('127.0.0.1'), rec('192.0.2.5')] }));
  const ledger = new Ledger(file);
  ledger.load();
  const killed: string[][] = [];
  const m = new BanManager({ backend: new DryRunBackend(), ledger, jail: 'sshd', defaultBantime: 600, reconcile: 0, killConnections: async (ips) => void killed.push(ips.map((i) => i.text)) });
  const events: FirewallEvent[] = [];
  m.on('event', (e: FirewallEvent) => events.push(e));
  await m.start();
  assert.deepEqual(events.map((e) => `${e.event} ${e.ip}`).sort(), ['error 127.0.0.1', 'restore 192.0.2.5']);
  assert.match(String(events.find((e) => e.event === 'error')!.error), /not restored: 127\.0\.0\.1 is in 127\.0\.0\.0\/8, loopback/);
  assert.deepEqual(ledger.all().map((r) => r.ip), ['192.0.2.5']);
  await Promise.all([m.ban({ ip: '198.51.100.1' }), m.ban({ ip: '198.51.100.2' })]);
  assert.deepEqual(killed, [['198.51.100.1', '198.51.100.2']]);
  await m.stop(true);
});

test('an unban handed over in the turn after its ban lands after it, not before (the ban does not stay)', async () => {
  const { m, backend, events } = manager(null);
  await m.start();
  // As Node-RED hands over two messages sent one after the other: each in a turn of its own, the unban's
  // turn already queued when the ban's batch is scheduled.
  const banned = new Promise<FirewallEvent>((resolve, reject) => setImmediate(() => m.ban({ ip: '192.0.2.77', bantime: 600, origin: 'web1' }).then(resolve, reject)));
  const lifted = new Promise<FirewallEvent | null>((resolve, reject) => setImmediate(() => m.unban('192.0.2.77').then(resolve, reject)));
  await banned;
  const e = await lifted;
  assert.equal(e?.event, 'unban');
  assert.equal(e?.origin, 'web1', 'the origin travels with the ban (ban-share)');
  assert.deepEqual(events.map((x) => x.event), ['ban', 'unban']);
  assert.deepEqual(await backend.list(), []);
  assert.equal(m.list().length, 0);
  await m.stop(false);
});
