import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

type Payload = Record<string, unknown>;

test("firewall-ban refuses this machine's own addresses with an error event and a Catch; others pass", async () => {
  await helper.load(
    NODES,
    onTab([
      { id: 'ban', type: 'firewall-ban', name: 'sshd', backend: 'dry-run', wires: [['events']] },
      { id: 'catcher', type: 'catch', scope: ['ban'], uncaught: false, wires: [['caught']] },
      { id: 'events', type: 'helper' },
      { id: 'caught', type: 'helper' },
    ]),
  );
  const events = received('events');
  const caught = received('caught');
  const ban = helper.getNode('ban');
  for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '0.0.0.0/0', '::/0']) ban.receive({ payload: { action: 'ban', ip } });
  ban.receive({ payload: '192.0.2.44' });
  await waitFor(() => events.length === 6 && caught.length === 5, 'five refusals and one ban');
  const refused = events.filter((e) => (e.payload as Payload).event === 'error');
  assert.deepEqual(refused.map((e) => (e.payload as Payload).ip), ['127.0.0.1', '127.8.9.10', '::1', '0.0.0.0/0', '::/0']);
  for (const e of refused) assert.match(String((e.payload as Payload).error), /would lock this machine out of itself/);
  assert.deepEqual(events.filter((e) => (e.payload as Payload).event === 'ban').map((e) => (e.payload as Payload).ip), ['192.0.2.44']);
  const bans = (await helper.request().get('/firewall-ban/ban/bans').expect(200)).body as Array<{ ip: string }>;
  assert.deepEqual(bans.map((b) => b.ip), ['192.0.2.44']);
});

test('each ban and unban is one line in Node-RED\'s log: address, jail, ban time and its end, backend', async () => {
  await helper.load(NODES, onTab([{ id: 'logged', type: 'firewall-ban', name: 'firewall', jail: 'sshd', backend: 'dry-run', persist: false, wires: [['events']] }, { id: 'events', type: 'helper' }]));
  const events = received('events');
  const ban = helper.getNode('logged');
  const logged = () => (ban as unknown as { log: { args: unknown[][] } }).log.args.map((a) => String(a[0]));
  ban.receive({ payload: { action: 'ban', ip: '192.0.2.45', bantime: 3600 } });
  await waitFor(() => events.length === 1, 'the ban');
  ban.receive({ payload: { action: 'unban', ip: '192.0.2.45' } });
  await waitFor(() => events.length === 2, 'the unban');
  ban.receive({ payload: { action: 'ban', ip: 'not an address' } });
  await waitFor(() => events.length === 3, 'the refusal');
  const until = (events[0].payload as Payload).until as number;
  const d = new Date(until);
  const pad = (n: number) => String(n).padStart(2, '0');
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  assert.deepEqual(logged(), [`ban 192.0.2.45 (jail sshd) for 1h, until ${local}, backend dry-run`, 'unban 192.0.2.45 (jail sshd), backend dry-run'], 'nothing for a refused address (its error goes to Catch)');
});
