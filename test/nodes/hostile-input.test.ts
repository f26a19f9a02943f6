/** Issue 9 in a real Node-RED runtime: refused input shows in firewall-ban's status; threshold-window does not count smuggled text. */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

test('firewall-ban: a refused ip turns the status red with the value, until the next ban succeeds', async () => {
  await helper.load(NODES, onTab([
    { id: 'ban', type: 'firewall-ban', name: 'sshd', backend: 'dry-run', persist: false, wires: [[]] },
    { id: 'catcher', type: 'catch', scope: ['ban'], uncaught: false, wires: [['caught']] },
    { id: 'watcher', type: 'status', scope: ['ban'], wires: [['statuses']] },
    { id: 'caught', type: 'helper' },
    { id: 'statuses', type: 'helper' },
  ]));
  const caught: string[] = [];
  const statuses: Status[] = [];
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push((m.error as { message: string }).message));
  helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push(m.status as Status));
  const ban = helper.getNode('ban');
  await waitFor(() => statuses.some((s) => /banned/.test(String(s.text))), 'the node to start');
  ban.receive({ payload: { action: 'ban', ip: `1.2.3.4; touch F ${'A'.repeat(10240)}` } });
  await waitFor(() => caught.length === 1, 'the Catch');
  assert.match(caught[0], /^(Error: )?refused to ban "1\.2\.3\.4; touch F A+\.\.\." \(10257 characters\): not an IPv4\/IPv6 address/);
  assert.ok(caught[0].length < 200);
  await waitFor(() => statuses.at(-1)?.fill === 'red', 'a red status');
  assert.equal(statuses.at(-1)!.shape, 'dot');
  assert.match(String(statuses.at(-1)!.text), /^(Error: )?refused to ban "1\.2\.3\.4; touch F/);
  assert.ok(String(statuses.at(-1)!.text).length <= 60);
  ban.receive({ payload: { action: 'unban', ip: '0.0.0.0/0' } });
  await waitFor(() => caught.length === 2, 'the second Catch');
  assert.match(caught[1], /^(Error: )?refused to unban 0\.0\.0\.0\/0: 0\.0\.0\.0\/0 is a \/0, wider than/);
  // JSON from MQTT or HTTP: an object whose toString is text (String() of it throws) is refused like any other.
  ban.receive({ payload: JSON.parse('{"action": "ban", "ip": {"toString": "touch F"}, "jail": {"toString": "x"}}') });
  await waitFor(() => caught.length === 3, 'the third Catch');
  assert.match(caught[2], /^(Error: )?refused to ban an object \{"toString":"touch F"\}: not an IPv4/);
  ban.receive({ payload: { action: 'ban', ip: '192.0.2.7' } });
  await waitFor(() => statuses.at(-1)?.fill === 'green', 'the status green again');
  assert.equal(statuses.at(-1)!.text, '1 banned (dry-run)');
});

test('threshold-window: an offender that is neither an address nor a plain id is not counted, nor is a too wide prefix', async () => {
  await helper.load(NODES, onTab([
    { id: 'window', type: 'threshold-window', name: 'web', maxretry: '1', ignoreip: '', ignoreself: false, wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ]));
  const out: Array<Record<string, unknown>> = [];
  const caught: string[] = [];
  helper.getNode('out').on('input', (m: NodeMessage) => out.push(m.payload as Record<string, unknown>));
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push((m.error as { message: string }).message));
  const w = helper.getNode('window');
  const hostile: Array<[unknown, RegExp]> = [
    ['1.2.3.4; touch F', /^(Error: )?payload\.host "1\.2\.3\.4; touch F" is neither an IP address nor a plain id/],
    ['$(touch F)', /"\$\(touch F\)" is neither/],
    ['-h', /"-h" is neither/],
    ['1.2.3.4\ntouch F', /"1\.2\.3\.4\\ntouch F" is neither/],
    ['1.2.3.4\u00a0\uff1b\u3000touch F', /is neither/],
    ["::1'; touch F", /is neither/],
    ['\uff11.\uff12.\uff13.\uff14', /^(Error: )?payload\.host "１\.２\.３\.４" holds look-alike characters \(it reads as "1\.2\.3\.4"\)/],
    [{ ip: '1.2.3.4' }, /^(Error: )?payload\.host is an object \{"ip":"1\.2\.3\.4"\}, not an address or id/],
    [null, /^(Error: )?payload\.host is null, not an address or id/],
    ['0.0.0.0/0', /^(Error: )?payload\.host "0\.0\.0\.0\/0": 0\.0\.0\.0\/0 is a \/0, wider than/],
    ['8000::/1', /is a \/1, wider than/],
  ];
  for (const [host] of hostile) w.receive({ payload: { host } });
  await waitFor(() => caught.length === hostile.length, 'a Catch for each');
  hostile.forEach(([, message], i) => assert.match(caught[i], message));
  // Plain ids (an <F-ID>, a user, a host name) and addresses are counted.
  for (const host of ['alice', 'mail.example.org', 'user@example.org', 'token-1234_x', '192.0.2.5', '203.0.113.0/24', 1234]) w.receive({ payload: { host } });
  await waitFor(() => out.length === 7, 'seven decisions');
  assert.deepEqual(out.map((d) => d.host), ['alice', 'mail.example.org', 'user@example.org', 'token-1234_x', '192.0.2.5', '203.0.113.0/24', '1234']);
  assert.equal(caught.length, hostile.length);
});
