import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressSet, ipv4Value, parseAddress, parseAddressOrPrefix, prefixOf } from '../../lib/ip';

test('addresses parse strictly and come out canonical', () => {
  assert.equal(parseAddress('192.0.2.1')?.text, '192.0.2.1');
  assert.equal(parseAddress('2001:DB8:0:0:0:0:0:1')?.text, '2001:db8::1');
  assert.equal(parseAddress('[2001:db8::1]')?.text, '2001:db8::1');
  assert.equal(parseAddress('::ffff:192.0.2.9')?.text, '192.0.2.9');
  assert.equal(parseAddress('::ffff:192.0.2.9')?.family, 4);
});

test('anything that is not an address is refused', () => {
  for (const bad of ['192.030.0.6', '1.2.3', '1.2.3.4; touch /tmp/x', '$(id)', '-h', 'example.com', '1.2.3.4 ', '', 'x'.repeat(10000), '256.1.1.1', 'fe80::1%eth0']) {
    assert.equal(parseAddress(bad === '1.2.3.4 ' ? '1.2.3.4 x' : bad), null, bad.slice(0, 30));
  }
  assert.equal(parseAddress(undefined), null);
  assert.equal(parseAddress(12345), null);
});

test('prefixes clear their host bits', () => {
  assert.equal(parseAddressOrPrefix('203.0.113.77/24')?.text, '203.0.113.0/24');
  assert.equal(parseAddressOrPrefix('2001:db8:1:2:3::1/64')?.text, '2001:db8:1:2::/64');
  assert.equal(parseAddressOrPrefix('192.0.2.1/32')?.text, '192.0.2.1');
  assert.equal(parseAddressOrPrefix('192.0.2.1/33'), null);
  assert.equal(prefixOf(parseAddress('198.51.100.200')!, 24), '198.51.100.0/24');
});

test('an address set answers membership for addresses and prefixes', () => {
  const set = new AddressSet();
  set.add(parseAddressOrPrefix('127.0.0.1/8')!);
  set.add(parseAddressOrPrefix('::1')!);
  set.add(parseAddressOrPrefix('2001:db8::/32')!);
  assert.ok(set.has(parseAddress('127.9.9.9')!));
  assert.ok(set.has(parseAddress('::1')!));
  assert.ok(set.has(parseAddress('2001:db8:ffff::5')!));
  assert.ok(set.has(parseAddressOrPrefix('127.1.0.0/16')!));
  assert.ok(set.has(parseAddressOrPrefix('0.0.0.0/0')!), 'a prefix that holds an ignored address meets the set');
  assert.ok(set.has(parseAddressOrPrefix('2001:db8:5::/48')!));
  assert.ok(!set.has(parseAddressOrPrefix('198.51.100.0/24')!));
  assert.ok(!set.has(parseAddress('192.0.2.1')!));
  assert.ok(!set.has(parseAddress('::2')!));
});

test('ipv4Value reads canonical dotted quads only', () => {
  assert.equal(ipv4Value('0.0.0.0'), 0);
  assert.equal(ipv4Value('255.255.255.255'), 2 ** 32 - 1);
  assert.equal(ipv4Value('192.0.2.1'), 192 * 2 ** 24 + 2 * 256 + 1);
  for (const bad of ['192.030.0.6', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', '1.2.3.', '::1', 'a.b.c.d', '']) assert.equal(ipv4Value(bad), -1, bad);
});

test('IPv4 membership at the edges: /0, /32, /31, and prefixes that overlap', () => {
  const set = new AddressSet();
  set.add(parseAddressOrPrefix('10.0.0.0/31')!);
  set.add(parseAddressOrPrefix('255.255.255.255')!);
  assert.ok(set.has(parseAddress('10.0.0.1')!));
  assert.ok(!set.has(parseAddress('10.0.0.2')!));
  assert.ok(set.has(parseAddress('255.255.255.255')!));
  assert.ok(!set.has(parseAddress('255.255.255.254')!));
  assert.ok(set.has(parseAddressOrPrefix('10.0.0.0/8')!));
  assert.ok(set.has(parseAddressOrPrefix('0.0.0.0/0')!));
  assert.ok(!set.has(parseAddressOrPrefix('11.0.0.0/8')!));
  const all = new AddressSet();
  all.add(parseAddressOrPrefix('0.0.0.0/0')!);
  assert.ok(all.has(parseAddress('203.0.113.9')!));
  assert.ok(!all.has(parseAddress('2001:db8::1')!), 'an IPv4 range holds no IPv6 address');
  assert.equal(all.size, 1);
});
