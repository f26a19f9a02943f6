/** firewall-ban's admin API as the Bans tab uses it, in a real Node-RED runtime: ban by hand, list, lift. */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

test('POST /firewall-ban/:id/ban bans by hand through the node (an event goes out), refuses what is not an address or a ban time', async () => {
  await helper.load(NODES, onTab([
    { id: 'ban', type: 'firewall-ban', name: 'sshd', backend: 'dry-run', bantime: '10m', persist: false, wires: [['events']] },
    { id: 'events', type: 'helper' },
  ]));
  const events = received('events');
  const res = await helper.request().post('/firewall-ban/ban/ban').send({ ip: ' 192.0.2.5 ', bantime: '2h' });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.event, 'ban');
  await waitFor(() => events.length === 1, 'the ban event');
  assert.deepEqual([(events[0].payload as Record<string, unknown>).ip, (events[0].payload as Record<string, unknown>).bantime], ['192.0.2.5', 7200]);
  const list = (await helper.request().get('/firewall-ban/ban/bans')).body as Array<Record<string, unknown>>;
  assert.deepEqual(list.map((b) => [b.ip, b.jail, b.bantime, b.reason]), [['192.0.2.5', 'sshd', 7200, 'banned by hand in the editor']]);
  // Without a bantime, the node's own.
  assert.equal((await helper.request().post('/firewall-ban/ban/ban').send({ ip: '2001:db8::/64' })).body.bantime, 600);

  for (const [body, status, message] of [
    [{ ip: '192.0.2.5; reboot' }, 400, /refused to ban/],
    [{ ip: ['192.0.2.9'] }, 400, /refused to ban/],
    [{ ip: '192.0.2.9', bantime: 'soon' }, 400, /soon/],
  ] as const) {
    const r = await helper.request().post('/firewall-ban/ban/ban').send(body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(r.body.error, message);
  }
  assert.equal((await helper.request().post('/firewall-ban/nosuch/ban').send({ ip: '192.0.2.9' })).status, 404);
  assert.equal((await helper.request().post('/firewall-ban/ban/unban').send({ ip: '192.0.2.5' })).status, 200);
  assert.deepEqual(((await helper.request().get('/firewall-ban/ban/bans')).body as Array<{ ip: string }>).map((b) => b.ip), ['2001:db8::/64']);
});
