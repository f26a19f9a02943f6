/**
 * The example flows in a real Node-RED runtime (node-red-node-test-helper, with the core switch, link,
 * comment and debug nodes): the recidive jail counts only ban events, from the log and from other jails.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { resolveNodeRed } from '../support/process';
import { helper, NODES, startRuntime, syslogDate, waitFor, type Runtime } from '../support/red';

const core = join(resolveNodeRed('@node-red/nodes/package.json'), '..', 'core');
const CORE = ['function/10-switch.js', 'common/60-link.js', 'common/90-comment.js', 'common/21-debug.js'].map((f) => require(join(core, f)));
const examples = join(__dirname, '..', '..', '..', 'examples');

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

interface Ban {
  ip: string;
  jail: string;
  bantime: number;
}
type WithManager = { manager?: { list(): Ban[] } };

test('recidive: a 5th ban within a day by any jail bans the address for a week; lifts and restores do not count', { timeout: 30000 }, async () => {
  const log = join(rt.userDir, 'auth.log');
  writeFileSync(log, '');
  const flow = (JSON.parse(readFileSync(join(examples, 'recidive.json'), 'utf8')) as Array<Record<string, unknown>>).map((n) => ({
    ...n,
    ...(n.x !== undefined ? { z: 'tab1' } : {}),
    ...(n.type === 'log-tail' ? { paths: log } : {}),
  }));
  await helper.load([...NODES, ...CORE], [{ id: 'tab1', type: 'tab', label: 'recidive' }, ...flow] as Parameters<typeof helper.load>[1]);
  const sshdBans = () => (helper.getNode('f2brec.ban') as unknown as WithManager).manager!.list();
  const recidiveBans = () => (helper.getNode('f2brec.rban') as unknown as WithManager).manager!.list();
  await new Promise((r) => setTimeout(r, 500)); // the follower opens the file

  // The first ban comes from the log, through the example's own sshd jail and its link.
  appendFileSync(log, `${syslogDate()} box sshd[7]: Failed password for root from 203.0.113.66 port 22 ssh2\n`.repeat(3));
  await waitFor(() => sshdBans().some((b) => b.ip === '203.0.113.66'), 'the sshd ban', 8000);
  // Other jails' events arrive at the link in: lifts, restores and repairs are not bans.
  const linkIn = helper.getNode('f2brec.in') as unknown as { receive(msg: unknown): void };
  const event = (ev: string, jail = 'postfix') => linkIn.receive({ topic: '203.0.113.66', payload: { event: ev, ip: '203.0.113.66', jail, bantime: 600, until: Date.now() + 600000, backend: 'dry-run' } });
  for (const ev of ['unban', 'restore', 'repair', 'error', 'unban', 'restore']) event(ev);
  event('ban', 'postfix');
  event('ban', 'named');
  event('ban', 'postfix');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(recidiveBans(), [], '4 bans (and 6 other events) are not enough');
  event('ban', 'dovecot');
  await waitFor(() => recidiveBans().length > 0, 'the recidive ban', 5000);
  const [ban] = recidiveBans();
  assert.equal(ban.ip, '203.0.113.66');
  assert.equal(ban.jail, 'recidive');
  assert.equal(ban.bantime, 7 * 24 * 3600);
});

test('docker-host: deploys; the host sshd jail bans in the input hook / INPUT, the container jail in the forward hook / DOCKER-USER by published port', { timeout: 30000 }, async () => {
  const logs = { 'f2bdock.sshtail': join(rt.userDir, 'dock-auth.log'), 'f2bdock.webtail': join(rt.userDir, 'dock-error.log') } as Record<string, string>;
  for (const f of Object.values(logs)) writeFileSync(f, '');
  const raw = JSON.parse(readFileSync(join(examples, 'docker-host.json'), 'utf8')) as Array<Record<string, unknown>>;
  const bans = raw.filter((n) => n.type === 'firewall-ban');
  assert.deepEqual(bans.map((n) => [n.name, n.backend, n.hook, n.chain, n.ports]), [
    ['sshd (host)', 'dry-run', 'input', 'INPUT', '22'],
    ['web (containers)', 'dry-run', 'forward', 'DOCKER-USER', '8080, 8443'],
  ]);
  const flow = raw.map((n) => ({ ...n, ...(n.x !== undefined ? { z: 'tab1' } : {}), ...(n.type === 'log-tail' ? { paths: logs[n.id as string] } : {}) }));
  await helper.load([...NODES, ...CORE], [{ id: 'tab1', type: 'tab', label: 'docker host' }, ...flow] as Parameters<typeof helper.load>[1]);
  const bansOf = (id: string) => (helper.getNode(id) as unknown as WithManager).manager!.list();
  await new Promise((r) => setTimeout(r, 500)); // the followers open the files
  const d = new Date();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const nginxDate = `${d.getFullYear()}/${p2(d.getMonth() + 1)}/${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  appendFileSync(logs['f2bdock.webtail'], `${nginxDate} [error] 31#31: *9 user "admin" was not found in "/etc/nginx/.htpasswd", client: 198.51.100.23, server: app, request: "GET / HTTP/1.1", host: "example.org:8080"\n`.repeat(5));
  await waitFor(() => bansOf('f2bdock.webban').some((b) => b.ip === '198.51.100.23'), 'the container jail ban', 8000);
  assert.equal(bansOf('f2bdock.webban')[0].jail, 'web');
  assert.deepEqual(bansOf('f2bdock.sshban'), [], 'the host jail saw nothing of it');
  appendFileSync(logs['f2bdock.sshtail'], `${syslogDate()} box sshd[7]: Failed password for root from 203.0.113.77 port 22 ssh2\n`.repeat(3));
  await waitFor(() => bansOf('f2bdock.sshban').some((b) => b.ip === '203.0.113.77'), 'the host sshd ban', 8000);
  assert.equal(bansOf('f2bdock.webban').length, 1, 'the container jail has only its own ban');
});

test('every example is valid JSON of known shape: it begins with its comment, unique ids, wires to nodes of the example', () => {
  for (const name of ['sshd-jail', 'sshd-jail-nftables', 'shorewall-three-jails', 'recidive', 'mail-digest', 'docker-host']) {
    const flow = JSON.parse(readFileSync(join(examples, `${name}.json`), 'utf8')) as Array<{ id: string; type: string; wires?: string[][]; server?: string; backend?: string }>;
    const ids = new Set(flow.map((n) => n.id));
    assert.equal(ids.size, flow.length, `${name}: unique ids`);
    assert.equal(flow[0].type, 'comment', `${name}: its comment comes first (the title Import > Examples shows)`);
    for (const n of flow) {
      for (const out of n.wires ?? []) for (const to of out) assert.ok(ids.has(to), `${name}: ${n.id} is wired to ${to}, which is in the example`);
      if (n.server) assert.ok(ids.has(n.server), `${name}: ${n.id}'s mail server is in the example`);
    }
    if (name === 'sshd-jail') {
      // What npm start deploys: no two nodes with one label, and no mail node that turns red without a mail server.
      const labels = flow.map((n) => (n as { name?: string }).name).filter(Boolean);
      assert.deepEqual(labels, [...new Set(labels)], 'sshd-jail: every label is its own');
      assert.equal((flow.find((n) => n.type === 'mail-notify') as { d?: boolean }).d, true, 'sshd-jail: the mail node comes disabled');
    }
    if (name === 'shorewall-three-jails') {
      assert.deepEqual(flow.filter((n) => n.type === 'firewall-ban').map((n) => n.backend), ['shorewall', 'shorewall', 'shorewall']);
      const windows = flow.filter((n) => n.type === 'threshold-window') as unknown as Array<Record<string, string>>;
      assert.deepEqual(windows.map((w) => [w.jail, w.maxretry, w.findtime, w.bantime]), [['ssh', '3', '10m', '10m'], ['postfix', '5', '300', '60000'], ['named', '2', '10m', '10m']]);
      assert.equal(flow.filter((n) => n.type === 'mail-notify').length, 3, 'a mail on ban for each jail');
    }
  }
});
