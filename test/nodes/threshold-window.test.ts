import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, type FlowNode, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

type Payload = Record<string, unknown>;

async function load(props: Record<string, unknown>) {
  const flow: FlowNode[] = [
    { id: 'window', type: 'threshold-window', name: 'web', ignoreself: false, ...props, wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'watcher', type: 'status', scope: ['window'], wires: [['statuses']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
    { id: 'statuses', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const out: Payload[] = [];
  const caught: string[] = [];
  const statuses: string[] = [];
  helper.getNode('out').on('input', (m: NodeMessage) => out.push(m.payload as Payload));
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push((m.error as { message: string }).message));
  helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push(String((m.status as { text?: string }).text)));
  const w = helper.getNode('window');
  const fail = (host: string, line = `failure from ${host}`) => w.receive({ payload: { host, line } });
  return { out, caught, statuses, w, fail };
}

test('increment: a returning offender gets the doubled ban, and the ban count survives a redeploy', async () => {
  const props = { maxretry: '2', findtime: '10m', bantime: '1', increment: true, factor: '1', ignoreip: '' };
  let r = await load(props);
  r.fail('198.51.100.1');
  r.fail('198.51.100.1');
  await waitFor(() => r.out.length === 1, 'the first ban');
  assert.deepEqual([r.out[0].host, r.out[0].bantime, r.out[0].banCount, r.out[0].failures], ['198.51.100.1', 1, 1, 2]);
  assert.deepEqual(r.out[0].matches, ['failure from 198.51.100.1', 'failure from 198.51.100.1']);
  const dir = join(rt.userDir, 'fail2ban');
  assert.ok(readdirSync(dir).some((n) => n.startsWith('windows-window.json')), 'state under <userDir>/fail2ban');
  await helper.unload();

  await new Promise((res) => setTimeout(res, 1100)); // the 1 s ban ends
  r = await load(props);
  r.fail('198.51.100.1'); // weighs 2 = maxretry: a returning offender is banned at its first failure
  await waitFor(() => r.out.length === 1, 'the second ban');
  assert.deepEqual([r.out[0].bantime, r.out[0].banCount, r.out[0].failures], [2, 2, 1]);
  await helper.unload();
  assert.ok(existsSync(dir));
});

test('subnet aggregation through the node: three banned addresses in a /24 make a prefix ban; a /64 with a never-ban address is counted per address', async () => {
  const r = await load({ maxretry: '1', bantime: '1h', subnetV4: '24', subnetThreshold: '3', ignoreip: '2001:db8:0:9::1' });
  for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) r.fail(ip);
  await waitFor(() => r.out.length === 4, 'three bans and the prefix ban');
  assert.deepEqual(r.out.map((d) => d.host), ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.0/24']);
  assert.deepEqual([r.out[3].prefix, r.out[3].ip, r.out[3].failures, r.out[3].bantime], [true, '203.0.113.0/24', 3, 3600]);
  r.fail('2001:db8:0:9::2');
  r.fail('2001:db8:0:a::2');
  r.fail('2001:db8:0:9::1');
  await waitFor(() => r.out.length === 6, 'two IPv6 bans');
  assert.deepEqual(r.out.slice(4).map((d) => [d.host, d.prefix]), [['2001:db8:0:9::2', undefined], ['2001:db8:0:a::/64', true]]);
  await waitFor(() => r.statuses.some((s) => /1 ignored/.test(s)), 'the ignored one in the status');
  await helper.unload();

  // A threshold with no prefix to gather into is pointed out.
  const q = await load({ maxretry: '1', subnetThreshold: '3', subnetV6: '64' });
  const warned = (q.w as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
  assert.ok(warned.some((m) => /subnetThreshold 3 has nothing to gather: set subnetV4/.test(m)), warned.join('\n'));
});

test('ignoreip host names: localhost resolves and is never banned; a name that does not resolve is a warning, and the node keeps counting', async () => {
  const r = await load({ maxretry: '1', ignoreip: 'localhost nothing-here.invalid' });
  await waitFor(() => r.statuses.some((s) => /nothing-here\.invalid does not resolve/.test(s)), 'a yellow status naming the name');
  r.fail('127.0.0.1');
  r.fail('192.0.2.77');
  await waitFor(() => r.out.length === 1, 'a ban');
  assert.equal(r.out[0].host, '192.0.2.77');
  await waitFor(() => r.statuses.some((s) => /1 ignored/.test(s)), 'localhost ignored');
  assert.deepEqual(r.caught, []);
});

test('the offender property: a dotted path, msg. in front, or an expression with brackets', async () => {
  for (const keyProperty of ['topic', 'msg.payload.ip', 'payload["the address"]']) {
    const r = await load({ maxretry: '1', keyProperty });
    const msg = { topic: '192.0.2.81', payload: { ip: '192.0.2.82', 'the address': '192.0.2.83' } };
    r.w.receive(msg);
    await waitFor(() => r.out.length === 1, `a ban by ${keyProperty}`);
    assert.equal(r.out[0].host, { topic: '192.0.2.81', 'msg.payload.ip': '192.0.2.82' }[keyProperty] ?? '192.0.2.83');
    await helper.unload();
  }
});

test('bad input and bad settings reach Catch with a reason', async () => {
  let r = await load({ maxretry: '2' });
  r.w.receive({ payload: { user: 'root' } });
  r.w.receive({ payload: { host: '   ' } });
  r.w.receive({ payload: { host: 'x'.repeat(300) } });
  await waitFor(() => r.caught.length === 3, 'three Catch messages');
  // Times that are no number, or ahead of the clock, count as now.
  r.w.receive({ payload: { host: '192.0.2.90', time: Number.NaN }, timestamp: Number.NaN });
  r.w.receive({ payload: { host: '192.0.2.90', time: Date.now() + 86400_000 } });
  await waitFor(() => r.out.length === 1, 'a ban from the two');
  assert.ok(Math.abs((r.out[0].time as number) - Date.now()) < 5000);
  assert.match(r.caught[0], /no payload\.host to count failures by/);
  assert.match(r.caught[1], /payload\.host is empty/);
  assert.match(r.caught[2], /300 characters long/);
  await helper.unload();

  for (const [props, reason] of [
    [{ increment: true, multipliers: '1 2 x' }, /multipliers: "x" is not a positive number/],
    [{ increment: true, maxtime: '10 parsecs' }, /maxtime .*unknown unit "parsecs"/],
    [{ subnetV4: '33', subnetThreshold: '2' }, /subnetV4 must be a whole number from 8 to 32/],
    [{ maxEntries: '0' }, /maxEntries must be a whole number from 1/],
    [{ ignoreip: '10.0.0.0/33' }, /ignoreip: "10\.0\.0\.0\/33" is not/],
  ] as const) {
    r = await load(props);
    await waitFor(() => r.caught.length === 1, `a configuration error for ${JSON.stringify(props)}`);
    assert.match(r.caught[0], reason);
    r.fail('192.0.2.1');
    await waitFor(() => r.caught.length === 2, 'the message to the broken node');
    assert.match(r.caught[1], /not configured/);
    await helper.unload();
  }
});

test('a flood of distinct addresses: memory bounded by maxEntries, with a warning and a counter in the status', async () => {
  const r = await load({ maxretry: '5', maxEntries: '100' });
  const warnings: string[] = [];
  const w = r.w as unknown as { warn: (m: string) => void };
  const warn = w.warn.bind(w);
  w.warn = (m: string) => {
    warnings.push(m);
    warn(m);
  };
  for (let i = 0; i < 500; i++) r.fail(`10.20.${i >> 8}.${i & 255}`);
  await waitFor(() => r.statuses.some((s) => /100 watched.*400 dropped \(maxEntries\)/.test(s)), 'the status with the counter');
  assert.ok(warnings.some((m) => /maxEntries \(100\) reached/.test(m)), warnings.join('\n'));
});

test('state that cannot be written is a warning: the node counts in memory', async () => {
  const dir = join(rt.userDir, 'fail2ban');
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(dir, 'not a directory');
  try {
    const flow: FlowNode[] = [
      { id: 'window', type: 'threshold-window', name: 'web', maxretry: '2', ignoreself: false, wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'watcher', type: 'status', scope: ['window'], wires: [['statuses']] },
      { id: 'statuses', type: 'helper' },
    ];
    await helper.load(NODES, onTab(flow));
    const statuses: Array<{ fill?: string; text?: string }> = [];
    helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push(m.status as { fill?: string; text?: string }));
    const out: Payload[] = [];
    helper.getNode('out').on('input', (m: NodeMessage) => out.push(m.payload as Payload));
    const w = helper.getNode('window');
    w.receive({ payload: { host: '192.0.2.60' } });
    w.receive({ payload: { host: '192.0.2.60' } });
    await waitFor(() => out.length === 1, 'a ban from memory');
    const warned = (w as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
    assert.ok(warned.some((m) => /failure history cannot be kept on disk .*counting in memory only/.test(m)), warned.join('\n'));
    await waitFor(() => statuses.some((st) => st.fill === 'yellow' && /history not saved to disk/.test(st.text ?? '')), 'a yellow status saying so');
    await helper.unload();
  } finally {
    rmSync(dir, { force: true });
  }
});

test('two addresses of one IPv6 /64 are one offender, and firewall-ban (dry-run) bans the /64', async () => {
  const flow: FlowNode[] = [
    { id: 'window', type: 'threshold-window', name: 'v6', maxretry: '2', bantime: '10m', ignoreself: false, wires: [['ban']] },
    { id: 'ban', type: 'firewall-ban', name: 'v6', backend: 'dry-run', persist: false, wires: [['events']] },
    { id: 'events', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const events: Payload[] = [];
  helper.getNode('events').on('input', (m: NodeMessage) => events.push(m.payload as Payload));
  const w = helper.getNode('window');
  w.receive({ payload: { host: '2001:db8:1:2::5', line: 'one' } });
  w.receive({ payload: { host: '2001:db8:1:2:ffff::6', line: 'two' } });
  await waitFor(() => events.length === 1, 'the ban event');
  assert.deepEqual([events[0].event, events[0].ip, events[0].prefix, events[0].failures, events[0].matches], ['ban', '2001:db8:1:2::/64', true, 2, ['one', 'two']]);
});
