import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureWindows, IgnoreList, parseIgnoreList } from '../../lib/window';

const policy = { maxretry: 3, findtime: 600, bantime: 600, maxEntries: 1000 };
const T = 1_800_000_000_000;

test('maxretry failures within findtime make one ban decision', () => {
  const w = new FailureWindows(policy);
  assert.equal(w.add('192.0.2.1', T, 'l1', T), null);
  assert.equal(w.add('192.0.2.1', T + 1000, 'l2', T + 1000), null);
  const d = w.add('192.0.2.1', T + 2000, 'l3', T + 2000);
  assert.ok(d);
  assert.deepEqual(d.matches, ['l1', 'l2', 'l3']);
  assert.equal(d.failures, 3);
  assert.equal(d.banCount, 1);
  assert.equal(w.size, 0, 'the window starts again after a ban');
  assert.equal(w.add('192.0.2.1', T + 3000, 'l4', T + 3000), null);
});

test('failures further apart than findtime do not add up', () => {
  const w = new FailureWindows(policy);
  w.add('192.0.2.2', T, 'a', T);
  w.add('192.0.2.2', T + 300_000, 'b', T + 300_000);
  assert.equal(w.add('192.0.2.2', T + 700_000, 'c', T + 700_000), null, 'the first left the window');
  assert.ok(w.add('192.0.2.2', T + 800_000, 'd', T + 800_000));
});

test('a replayed old log does not ban today', () => {
  const w = new FailureWindows(policy);
  const old = T - 3600_000;
  for (let i = 0; i < 5; i++) assert.equal(w.add('192.0.2.3', old + i, 'x', T), null);
});

test('ban counts grow per offender', () => {
  const w = new FailureWindows({ ...policy, maxretry: 1 });
  assert.equal(w.add('192.0.2.4', T, 'x', T)?.banCount, 1);
  assert.equal(w.add('192.0.2.4', T + 1, 'x', T + 1)?.banCount, 2);
});

test('memory stays bounded: the offender closest to expiry goes first', () => {
  const w = new FailureWindows({ ...policy, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) w.add(`10.0.${i >> 8}.${i & 255}`, T + i, 'x', T + i);
  assert.equal(w.size, 100);
  assert.equal(w.evicted, 900);
});

test('bad policies are refused', () => {
  assert.throws(() => new FailureWindows({ ...policy, maxretry: 0 }), /maxretry/);
  assert.throws(() => new FailureWindows({ ...policy, findtime: 0 }), /findtime/);
});

test('ignoreip: addresses, CIDR, IPv6, host names, and this machine', async () => {
  const parsed = parseIgnoreList('127.0.0.1/8 ::1, 192.0.2.0/24\n2001:db8::/32 gateway.example 300.1.1.1');
  assert.equal(parsed.addresses.length, 4);
  assert.deepEqual(parsed.hostnames, ['gateway.example']);
  assert.deepEqual(parsed.invalid, ['300.1.1.1']);

  const list = new IgnoreList('127.0.0.1/8 ::1 192.0.2.0/24 trusted.example missing.example', false);
  await list.refresh(async (name) => {
    if (name === 'trusted.example') return ['198.51.100.7'];
    throw new Error('ENOTFOUND');
  });
  assert.ok(list.has('127.0.0.5'));
  assert.ok(list.has('::1'));
  assert.ok(list.has('192.0.2.200'));
  assert.ok(list.has('198.51.100.7'));
  assert.ok(!list.has('198.51.100.8'));
  assert.deepEqual(list.unresolved, ['missing.example']);
  assert.ok(!list.has('not-an-ip'));

  const self = new IgnoreList('', true);
  assert.ok(self.has('127.0.0.1'), 'loopback is one of this machine\'s addresses');
});

test('a steady stream from a few offenders does not grow memory', () => {
  const w = new FailureWindows({ ...policy, maxretry: 1_000_000 });
  for (let i = 0; i < 200_000; i++) w.add(`192.0.2.${i % 10}`, T + i, undefined, T + i);
  assert.equal(w.size, 10);
  assert.ok((w as unknown as { order: unknown[] }).order.length < 10_000, 'the expiry order is compacted');
});

test('expire() drops offenders whose window has passed, and only those', () => {
  const w = new FailureWindows(policy);
  w.add('192.0.2.1', T, 'x', T);
  w.add('192.0.2.2', T + 50_000, 'x', T + 50_000);
  w.add('192.0.2.1', T + 100_000, 'x', T + 100_000);
  assert.equal(w.expire(T + 640_000), 0, '192.0.2.1 failed again at +100s');
  assert.equal(w.expire(T + 650_001), 1, '192.0.2.2 left the window');
  assert.equal(w.size, 1);
  assert.equal(w.expire(T + 700_001), 1);
  assert.equal(w.size, 0);
});
