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
