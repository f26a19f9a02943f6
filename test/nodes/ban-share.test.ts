import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';
import type { NodeMessage } from '../../nodes/node-red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

type Payload = Record<string, unknown>;
const shared = (origin: string, ip: string, extra: Payload = {}) => {
  const until = Date.now() + 300_000;
  return { topic: `fail2ban/bans/${origin}/sshd/${ip.replace('/', '_')}`, payload: JSON.stringify({ ip, jail: 'sshd', origin, bantime: 600, until, ...extra }), retain: false };
};

/** firewall-ban (dry-run) and ban-share wired as the fleet example wires them, with helpers on every output. */
async function loadFleet(share: Payload = {}) {
  await helper.load(
    NODES,
    onTab([
      { id: 'fw', type: 'firewall-ban', name: 'sshd', jail: 'sshd', backend: 'dry-run', persist: false, wires: [['share', 'events']] },
      { id: 'share', type: 'ban-share', origin: 'web2', topicPrefix: 'fail2ban/bans', jails: 'sshd', ignoreip: '127.0.0.1/8 ::1 192.0.2.0/24', maxBantime: '1h', maxPerMinute: '100', ...share, wires: [['broker'], ['fw', 'toFw']] },
      { id: 'catcher', type: 'catch', scope: ['share'], uncaught: false, wires: [['caught']] },
      { id: 'events', type: 'helper' },
      { id: 'broker', type: 'helper' },
      { id: 'toFw', type: 'helper' },
      { id: 'caught', type: 'helper' },
      { id: 'watcher', type: 'status', scope: ['share'], wires: [['statuses']] },
      { id: 'statuses', type: 'helper' },
    ]),
  );
  const statuses: Array<{ fill?: string; text?: string }> = [];
  helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push(m.status as { fill?: string; text?: string }));
  return { statuses, fw: helper.getNode('fw'), share: helper.getNode('share'), events: received('events'), broker: received('broker'), toFw: received('toFw'), caught: received('caught') };
}

const bans = async () => (await helper.request().get('/firewall-ban/fw/bans').expect(200)).body as Array<Payload>;

test("this host's bans go to mqtt out retained, QoS 1, with the expiry and no action; its unbans clear them", async () => {
  const { fw, broker } = await loadFleet();
  fw.receive({ payload: { action: 'ban', ip: '203.0.113.7', bantime: 600, jail: 'sshd' } });
  await waitFor(() => broker.length === 1, 'the ban published');
  const m = broker[0];
  assert.equal(m.topic, 'fail2ban/bans/web2/sshd/203.0.113.7');
  assert.equal(m.qos, 1);
  assert.equal(m.retain, true);
  assert.ok(!('action' in m), 'mqtt out reads msg.action as a command');
  assert.ok(Number(m.messageExpiryInterval) >= 599 && Number(m.messageExpiryInterval) <= 600, String(m.messageExpiryInterval));
  const p = JSON.parse(String(m.payload));
  assert.deepEqual(Object.keys(p).sort(), ['bantime', 'ip', 'jail', 'origin', 'until']);
  assert.deepEqual([p.ip, p.jail, p.origin, p.bantime], ['203.0.113.7', 'sshd', 'web2', 600]);
  fw.receive({ payload: { action: 'ban', ip: '203.0.113.0/24', bantime: -1, jail: 'sshd' } });
  await waitFor(() => broker.length === 2, 'the ban for ever published');
  assert.equal(broker[1].topic, 'fail2ban/bans/web2/sshd/203.0.113.0_24');
  assert.equal(broker[1].messageExpiryInterval, undefined, 'no expiry for ever');
  fw.receive({ payload: { action: 'unban', ip: '203.0.113.7' } });
  await waitFor(() => broker.length === 3, 'the unban published');
  assert.deepEqual([broker[2].topic, broker[2].payload, broker[2].retain, broker[2].messageExpiryInterval], ['fail2ban/bans/web2/sshd/203.0.113.7', '', true, undefined]);
  // An unshared jail stays home.
  fw.receive({ payload: { action: 'ban', ip: '198.51.100.9', jail: 'postfix' } });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(broker.length, 3);
});

test('another host’s ban reaches firewall-ban for the time left, marked with its origin, and is never published again', async () => {
  const { share, events, broker, toFw } = await loadFleet();
  share.receive(shared('web1', '198.51.100.23'));
  await waitFor(() => events.some((e) => (e.payload as Payload).event === 'ban'), 'the ban applied');
  const applied = toFw[0].payload as Payload;
  assert.equal(applied.action, 'ban');
  assert.equal(applied.origin, 'web1');
  assert.ok(Number(applied.bantime) > 298 && Number(applied.bantime) <= 300, `the time left, not the bantime: ${applied.bantime}`);
  const e = events[0].payload as Payload;
  assert.equal(e.origin, 'web1', 'the firewall event carries the origin');
  const list = await bans();
  assert.equal(list[0].origin, 'web1', 'the Bans tab reads the origin');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(broker.length, 0, 'a ban from the fleet is never published again');
  // Capped at maxBantime (1h) and seen again: one ban, once.
  share.receive(shared('web1', '198.51.100.24', { bantime: -1, until: null }));
  share.receive(shared('web1', '198.51.100.23'));
  await waitFor(() => toFw.length >= 2, 'the ban for ever');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(toFw.length, 2, 'a retained ban seen again is not applied twice');
  assert.equal((toFw[1].payload as Payload).bantime, 3600);
  // This host's own messages, back from the broker, are never applied.
  share.receive(shared('web2', '198.51.100.25'));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(toFw.length, 2);
});

test('an unban from the fleet lifts only a ban from the same origin, never a ban of this host', async () => {
  const { fw, share, events, toFw } = await loadFleet();
  share.receive(shared('web1', '198.51.100.30'));
  fw.receive({ payload: { action: 'ban', ip: '198.51.100.31', jail: 'sshd' } });
  await waitFor(() => events.filter((e) => (e.payload as Payload).event === 'ban').length === 2, 'two bans');
  share.receive({ topic: 'fail2ban/bans/web3/sshd/198.51.100.30', payload: '' });
  share.receive({ topic: 'fail2ban/bans/web1/sshd/198.51.100.31', payload: '' });
  share.receive(shared('web1', '198.51.100.31'));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual((await bans()).map((b) => [b.ip, b.origin]).sort(), [['198.51.100.30', 'web1'], ['198.51.100.31', undefined]], 'another origin cannot lift it; an own ban is not taken over');
  share.receive({ topic: 'fail2ban/bans/web1/sshd/198.51.100.30', payload: Buffer.alloc(0) });
  await waitFor(() => events.some((e) => (e.payload as Payload).event === 'unban'), 'the unban');
  assert.deepEqual((await bans()).map((b) => b.ip), ['198.51.100.31']);
  assert.deepEqual(toFw.map((m) => (m.payload as Payload).action), ['ban', 'unban']);
});

test('refusals change nothing, are counted in the status and reach Catch once a minute', async () => {
  const { share, toFw, caught, events, statuses } = await loadFleet({ maxPerMinute: '5' });
  share.receive(shared('web1', '192.0.2.5')); // ignoreip
  share.receive(shared('web1', '127.0.0.1'));
  share.receive(shared('web1', '0.0.0.0/0'));
  share.receive(shared('web1', '198.51.100.40', { jail: 'postfix' }));
  share.receive({ topic: 'fail2ban/bans/web1/sshd/198.51.100.41', payload: '\u0000garbage{' });
  for (let i = 1; i <= 50; i++) share.receive(shared('web3', `198.18.0.${i}`));
  await waitFor(() => events.filter((e) => (e.payload as Payload).event === 'ban').length === 5, 'five bans from web3');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(toFw.length, 5, 'only maxPerMinute bans of one origin');
  assert.equal(caught.length, 1, 'one report to Catch for the first refusal; the rest wait a minute');
  assert.match(String(caught[0].error && (caught[0].error as { message: string }).message), /192\.0\.2\.5 from web1 \(jail sshd\): in ignoreip/);
  await waitFor(() => /5 taken, 50 refused/.test(statuses[statuses.length - 1]?.text ?? ''), 'the refusals counted in the status');
});

test('after the broker comes back (a Status node tells), what changed while it was away is published again', async () => {
  const { fw, share, broker } = await loadFleet();
  const status = (text: string) => share.receive({ status: { fill: 'green', shape: 'dot', text, source: { id: 'mq', type: 'mqtt in' } } });
  status('node-red:common.status.connected');
  fw.receive({ payload: { action: 'ban', ip: '203.0.113.50', bantime: 600, jail: 'sshd' } });
  await waitFor(() => broker.length === 1, 'published');
  status('node-red:common.status.disconnected');
  fw.receive({ payload: { action: 'ban', ip: '203.0.113.51', bantime: 600, jail: 'sshd' } });
  fw.receive({ payload: { action: 'unban', ip: '203.0.113.50' } });
  await waitFor(() => broker.length === 3, 'given to mqtt out, which drops them');
  status('node-red:common.status.connecting');
  status('node-red:common.status.connected');
  await waitFor(() => broker.length === 5, 'published again');
  assert.deepEqual(broker.slice(3).map((m) => [m.topic, m.payload === '' ? 'unban' : 'ban']).sort(), [
    ['fail2ban/bans/web2/sshd/203.0.113.50', 'unban'],
    ['fail2ban/bans/web2/sshd/203.0.113.51', 'ban'],
  ]);
  assert.ok(broker.slice(3).every((m) => m.retain === true && m.qos === 1 && !('action' in m)));
  status('node-red:common.status.connected');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(broker.length, 5, 'connected again without an outage: nothing more');
});

test('a bad origin or prefix is a configuration error', async () => {
  for (const [prop, value, why] of [['origin', 'a/b', /origin "a\/b" holds a character/], ['topicPrefix', 'fail2ban/#', /topic prefix "fail2ban\/#" is not a topic/], ['maxPerMinute', 'many', /maxPerMinute "many" is not a number/]] as const) {
    await helper.load(NODES, onTab([
      { id: 'share', type: 'ban-share', [prop]: value, wires: [[], []] },
      { id: 'catcher', type: 'catch', scope: ['share'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]));
    const caught = received('caught');
    await waitFor(() => caught.length === 1, `the configuration error for ${prop}`);
    assert.match(String(caught[0].payload), why);
    await helper.unload();
  }
});

test('after a reconnection, a ban its origin lifted meanwhile (no longer among the retained bans) is lifted here', { timeout: 30000 }, async () => {
  const { share, events } = await loadFleet();
  const status = (text: string) => share.receive({ status: { text, source: { id: 'mq', type: 'mqtt in' } } });
  status('node-red:common.status.connected');
  for (const [origin, ip] of [['web1', '198.51.100.60'], ['web1', '198.51.100.61'], ['web3', '198.51.100.62']]) share.receive(shared(origin, ip));
  await waitFor(async () => (await bans()).length === 3, 'three bans from the fleet');
  status('node-red:common.status.disconnected');
  status('node-red:common.status.connected');
  // The broker delivers what it holds: web1 lifted .61 while this host was away; web3's store is gone.
  share.receive({ ...shared('web1', '198.51.100.60'), retain: true });
  await waitFor(() => events.some((e) => (e.payload as Payload).event === 'unban'), 'the stale ban lifted', 15000);
  assert.deepEqual((await bans()).map((b) => b.ip).sort(), ['198.51.100.60', '198.51.100.62']);
});

test('messages that are none of its inputs (mqtt in subscribed too wide) are ignored and told once a minute', async () => {
  const { share, caught, toFw, broker } = await loadFleet();
  for (let i = 0; i < 20; i++) share.receive({ topic: `homeassistant/sensor/${i}`, payload: '{"ip":"203.0.113.9"}' });
  await waitFor(() => caught.length === 1, 'one report');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(caught.length, 1);
  assert.match(String((caught[0].error as { message: string }).message), /^ignored 1 message \(1 in all\): ban-share takes firewall-ban events/);
  assert.equal(toFw.length + broker.length, 0);
});
