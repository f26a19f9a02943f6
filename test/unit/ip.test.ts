import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import ipaddr from 'ipaddr.js';
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

/**
 * IPv6 texts as parseAddress read them before it had its own reader: net.isIP said whether the text
 * is one (zones refused), ipaddr.js parsed it, an IPv4-mapped address became IPv4, and ipaddr.js wrote
 * the text. Bans are stored under that text, so the reader must give the same, byte for byte.
 */
function throughIpaddr(text: string): { text: string; family: number } | null {
  if (isIP(text) !== 6 || text.includes('%')) return null;
  let addr: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(text);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return { text: addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6 };
}

test('IPv6 texts: accepted, refused and written exactly as net.isIP and ipaddr.js did, on 60,000 generated texts', () => {
  // A seeded generator: the same texts on every run.
  let seed = 0x2f6b;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const hex = (v: number) => {
    let h = v.toString(16).padStart(rand(3) === 0 ? 1 + rand(4) : 1, '0');
    if (h.length > 4) h = h.slice(-4);
    return rand(4) === 0 ? h.toUpperCase() : h;
  };
  const texts: string[] = ['::', '::1', '1::', '::ffff:1.2.3.4', '::1.2.3.4', '::0.0.0.0', '0:0:0:0:0:0:1.2.3.4', '::ffff:0:1.2.3.4', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '0:0:1:0:0:1:1:1', '1:0:0:1:0:0:1:1', '1:0:0:0:1:0:0:0', ':::', '1:::2', '1::2::3', '12345::', '::ffff:01.2.3.4', '::ffff:1.2.3', '1.2.3.4::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', '::ffff:255.255.255.255', '::FFFF:1.2.3.4', 'g::1', '1::2:3:4:5:6:7:8'];
  for (let i = 0; i < 20000; i++) {
    // Eight groups, zeros likely (runs to compress), sometimes an IPv4-mapped prefix.
    const groups = Array.from({ length: 8 }, () => (rand(3) === 0 ? rand(65536) : rand(4) === 0 ? rand(16) : 0));
    if (rand(4) === 0) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
    const parts = groups.map(hex);
    const quad = rand(4) === 0;
    if (quad) parts.splice(6, 2, `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${rand(8) === 0 ? `0${groups[7] & 255}` : groups[7] & 255}`);
    let text = parts.join(':');
    // Any run of groups (zero or not, of one or more) written as ::, now and then.
    if (rand(3) > 0) {
      const from = rand(parts.length);
      const to = from + 1 + rand(parts.length - from);
      text = `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
    }
    texts.push(text);
    // The same text with one character changed, added or removed.
    const at = rand(text.length + 1);
    const c = ':.0fF9g%[ '[rand(10)];
    texts.push(text.slice(0, at) + c + text.slice(at + rand(2)), text.slice(0, at) + text.slice(at + 1));
  }
  let accepted = 0;
  for (const text of texts) {
    const before = throughIpaddr(text);
    const now = parseAddress(text);
    if (text.includes(':')) assert.deepEqual(now && { text: now.text, family: now.family }, before, JSON.stringify(text));
    if (before) accepted++;
  }
  assert.ok(accepted > 15000 && accepted < texts.length - 15000, `a fair share of both: ${accepted} of ${texts.length} accepted`);
});
