import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { helper, NODES, onTab, received, type FlowNode, startRuntime, syslogDate, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

type Payload = Record<string, unknown>;

test('log-tail -> failregex-match (sshd) -> threshold-window (3) -> firewall-ban (dry-run) bans the address that failed 3 times', async () => {
  const log = join(rt.userDir, 'auth.log');
  writeFileSync(log, `${syslogDate()} box sshd[1]: Failed password for root from 203.0.113.200 port 22 ssh2\n`.repeat(5));
  const flow: FlowNode[] = [
    { id: 'tail', type: 'log-tail', paths: log, start: 'end', wires: [['match', 'lines']] },
    { id: 'match', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', wires: [['window', 'failures']] },
    { id: 'window', type: 'threshold-window', name: 'sshd', maxretry: '3', findtime: '10m', bantime: '10m', ignoreip: '127.0.0.1/8 ::1 192.0.2.99', ignoreself: true, wires: [['ban']] },
    { id: 'ban', type: 'firewall-ban', name: 'sshd', backend: 'dry-run', bantime: '10m', reconcile: '30', persist: true, wires: [['events']] },
    { id: 'lines', type: 'helper' },
    { id: 'failures', type: 'helper' },
    { id: 'events', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const lines = received('lines');
  const failures = received('failures');
  const events = received('events');
  await new Promise((r) => setTimeout(r, 500)); // the follower opens the file

  const fail = (ip: string, user = 'root') => `${syslogDate()} box sshd[4242]: Failed password for ${user} from ${ip} port 50000 ssh2\n`;
  const text = [
    fail('203.0.113.5'),
    fail('203.0.113.6'),
    `${syslogDate()} box sshd[4242]: Accepted publickey for admin from 198.51.100.1 port 1 ssh2: ED25519 SHA256:abc\n`,
    fail('192.0.2.99'),
    fail('203.0.113.5', 'admin'),
    fail('192.0.2.99'),
    fail('203.0.113.6'),
    fail('192.0.2.99'),
    `${syslogDate()} box sshd[4242]: Invalid user oracle from 203.0.113.5 port 50001\n`,
  ].join('');
  appendFileSync(log, text);
  await waitFor(() => lines.length >= 9, 'the 9 appended lines');
  await waitFor(() => events.length >= 1, 'a ban event');
  await new Promise((r) => setTimeout(r, 300));

  assert.equal(lines.length, 9, 'lines before the start are not read (start: end), every appended one is');
  assert.equal(lines[0].filename, log);
  assert.equal(failures.length, 8);
  assert.deepEqual((failures[0].payload as Payload).fields, { user: 'root', ip4: '203.0.113.5' });
  assert.equal(events.length, 1, 'one ban: not for the address that failed twice, nor for the ignored one');
  const ban = events[0].payload as Payload;
  assert.equal(ban.event, 'ban');
  assert.equal(ban.ip, '203.0.113.5');
  assert.equal(ban.jail, 'sshd');
  assert.equal(ban.backend, 'dry-run');
  assert.equal(ban.bantime, 600);
  assert.equal(ban.failures, 3);
  assert.equal((ban.matches as string[]).length, 3);
  assert.ok(typeof ban.until === 'number' && ban.until > Date.now() + 590_000);

  const res = await helper.request().get('/firewall-ban/ban/bans').expect(200);
  assert.deepEqual(res.body.map((b: Payload) => b.ip), ['203.0.113.5']);
  const lifted = await helper.request().post('/firewall-ban/ban/unban').send({ ip: '203.0.113.5' }).expect(200);
  assert.equal(lifted.body.event, 'unban');
  await helper.request().post('/firewall-ban/ban/unban').send({ ip: '1.2.3.4; id' }).expect(400);
  await waitFor(() => events.length === 2, 'the unban event');
  await helper.unload();
});

test('firewall-ban refuses what is not an address, with an error event and a Catch', async () => {
  const flow: FlowNode[] = [
    { id: 'ban', type: 'firewall-ban', name: 'sshd', backend: 'dry-run', wires: [['events']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'events', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const events = received('events');
  const caught = received('caught');
  await new Promise((r) => setTimeout(r, 100));
  const ban = helper.getNode('ban');
  for (const ip of ['1.2.3.4; touch /tmp/x', '$(reboot)', '-h', 'x'.repeat(10000)]) ban.receive({ payload: { action: 'ban', ip } });
  ban.receive({ payload: '192.0.2.10' });
  await waitFor(() => events.length === 5 && caught.length === 4, 'four refusals and one ban').catch((err) => {
    throw new Error(`${err.message}: ${events.length} events, ${caught.length} caught: ${JSON.stringify(events.map((e) => e.payload)).slice(0, 500)}`);
  });
  assert.deepEqual(events.slice(0, 4).map((m) => (m.payload as Payload).event), ['error', 'error', 'error', 'error']);
  assert.match(String((events[0].payload as Payload).error), /not an IPv4\/IPv6 address/);
  assert.equal((events[4].payload as Payload).event, 'ban');
  assert.equal((events[4].payload as Payload).ip, '192.0.2.10');
  await helper.unload();
});

test('bad configuration: red status with a reason, a Catch, and the rest of the flow keeps running', async () => {
  const flow: FlowNode[] = [
    { id: 'tail', type: 'log-tail', paths: '', wires: [[]] },
    { id: 'nofilter', type: 'failregex-match', filterSource: 'builtin', filterName: 'no-such-filter', wires: [[]] },
    { id: 'badregex', type: 'failregex-match', filterSource: 'inline', failregex: 'Failed (<HOST>', wires: [[]] },
    { id: 'backend', type: 'firewall-ban', backend: 'command', banCommand: '/usr/local/bin/block', unbanCommand: '/usr/local/bin/unblock <ip>', wires: [[]] },
    { id: 'unknown', type: 'firewall-ban', backend: 'pf', wires: [[]] },
    { id: 'good', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'watcher', type: 'status', scope: null, wires: [['statuses']] },
    { id: 'caught', type: 'helper' },
    { id: 'statuses', type: 'helper' },
    { id: 'out', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const caught = received('caught');
  const out = received('out');
  await waitFor(() => caught.length >= 5, 'five configuration errors at Catch');
  const errorOf = (id: string) => caught.find((m) => (m.error as { source: { id: string } }).source.id === id)?.error as { message: string } | undefined;
  assert.match(errorOf('tail')!.message, /no paths to follow/);
  assert.match(errorOf('nofilter')!.message, /no built-in filter named "no-such-filter"; built-in filters: .*sshd/);
  assert.match(errorOf('badregex')!.message, /failregex "Failed \(<HOST>": missing \), unterminated subpattern/);
  assert.match(errorOf('backend')!.message, /banCommand: the command must contain <ip>/);
  assert.match(errorOf('unknown')!.message, /unknown backend "pf"/);

  helper.getNode('good').receive({ payload: `${new Date().toISOString()} box sshd[1]: Invalid user x from 192.0.2.50 port 1` });
  await waitFor(() => out.length === 1, 'the good node still working');
  assert.equal((out[0].payload as Payload).host, '192.0.2.50');

  // Messages to a broken node go to Catch, with what to fix.
  helper.getNode('badregex').receive({ payload: 'anything' });
  await waitFor(() => caught.length >= 6, 'a Catch for the message');
  assert.match((caught.at(-1)!.error as { message: string }).message, /not configured: failregex/);
  await helper.unload();
});

test('threshold-window: a message without the key goes to Catch; hand-made failures count', async () => {
  const flow: FlowNode[] = [
    { id: 'window', type: 'threshold-window', name: 'web', maxretry: 2, findtime: 60, bantime: '1h', ignoreip: '127.0.0.1', ignoreself: false, wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const out = received('out');
  const caught = received('caught');
  const w = helper.getNode('window');
  w.receive({ payload: 'no host here' });
  // A prefix that would also cover an ignored address is never banned.
  w.receive({ payload: { host: '127.0.0.0/7' } });
  w.receive({ payload: { host: '127.0.0.0/7' } });
  w.receive({ payload: { host: '2001:DB8::5' } });
  w.receive({ payload: { host: '2001:db8:0::5' } });
  await waitFor(() => out.length === 1 && caught.length === 1, 'one decision and one Catch');
  assert.match((caught[0].error as { message: string }).message, /no payload\.host/);
  const d = out[0].payload as Payload;
  // IPv6 offenders are counted per /64 (subnetV6 defaults to 64): the decision is for the prefix.
  assert.deepEqual([d.action, d.host, d.ip, d.prefix, d.bantime, d.jail, d.banCount], ['ban', '2001:db8::/64', '2001:db8::/64', true, 3600, 'web', 1]);
  assert.equal(out[0].topic, '2001:db8::/64');
  await helper.unload();
});
