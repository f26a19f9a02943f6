import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAddressOrPrefix } from '../../lib/ip';
import { banTimeFor, failureWeight, FailureWindows, IgnoreList, indexKey, keyText, offenderOf, ownAddresses, parseIgnoreList, parseMultipliers, unitForSubnetV6, WindowStore, type IncrementPolicy } from '../../lib/window';

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
  assert.equal(w.add('192.0.2.4', T + 600_001, 'x', T + 600_001)?.banCount, 2, 'banned again after the first ban ended');
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
  assert.throws(() => new FailureWindows({ ...policy, bantime: 0 }), /bantime/);
  assert.throws(() => new FailureWindows({ ...policy, maxEntries: 0 }), /maxEntries/);
  assert.throws(() => new FailureWindows({ ...policy, increment: { ...inc, factor: 0 } }), /factor/);
  assert.throws(() => new FailureWindows({ ...policy, subnet: { v4: 40, v6: null, threshold: 2 } }), /subnetV4/);
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
  const own = ownAddresses();
  assert.ok(own.length >= 2, 'loopback and at least one more interface address');
  for (const a of own) assert.ok(self.has(a.text), `${a.text} (an address of this machine) is never banned`);
  assert.ok(!new IgnoreList('', false).has(own[own.length - 1].text), 'only with ignoreself');
});

test('a steady stream from a few offenders does not grow memory', () => {
  const w = new FailureWindows({ ...policy, maxretry: 1_000_000 });
  for (let i = 0; i < 200_000; i++) w.add(`192.0.2.${i % 10}`, T + i, undefined, T + i);
  assert.equal(w.size, 10);
  assert.ok((w as unknown as { qSlot: Int32Array }).qSlot.length < 10_000, 'the expiry queue is compacted');
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

const inc: IncrementPolicy = { factor: 1, multipliers: [], maxtime: null, rndtime: null };

test('bantime.increment: the default formula doubles per earlier ban, times factor, never below bantime', () => {
  // Worked by hand: 600 s, then 600·2 = 1200, 600·4 = 2400, 600·8 = 4800; after 20 earlier bans the doubling stops at 2^20.
  assert.deepEqual([0, 1, 2, 3].map((n) => banTimeFor(600, n, inc)), [600, 1200, 2400, 4800]);
  assert.equal(banTimeFor(600, 25, inc), 600 * 1048576);
  // factor 2: 600·2·2 = 2400 for the second ban; factor 0.25: 600·2·0.25 = 300 is below bantime, so 600; 600·8·0.25 = 1200.
  assert.equal(banTimeFor(600, 1, { ...inc, factor: 2 }), 2400);
  assert.deepEqual([1, 2, 3].map((n) => banTimeFor(600, n, { ...inc, factor: 0.25 })), [600, 600, 1200]);
  // Without increment, and for a permanent ban, nothing changes.
  assert.equal(banTimeFor(600, 5, null), 600);
  assert.equal(banTimeFor(-1, 5, inc), -1);
});

test('bantime.increment: multipliers, maxtime, rndtime', () => {
  // bantime 60 with multipliers 1 5 30 60: 60, 300, 1800, 3600, then the last multiplier stays.
  const m = { ...inc, multipliers: parseMultipliers('1 5 30 60') };
  assert.deepEqual([0, 1, 2, 3, 4, 9].map((n) => banTimeFor(60, n, m)), [60, 300, 1800, 3600, 3600, 3600]);
  assert.equal(banTimeFor(60, 2, { ...m, factor: 1.5 }), 2700, '60 · 1.5 · 30');
  // maxtime caps increased bans: 600·4 = 2400 becomes 1000.
  assert.equal(banTimeFor(600, 2, { ...inc, maxtime: 1000 }), 1000);
  assert.equal(banTimeFor(600, 0, { ...inc, maxtime: 300 }), 600, 'a first ban is bantime itself, as in fail2ban');
  // rndtime adds random() · rndtime: 1200 + 0.5 · 30 = 1215.
  assert.equal(banTimeFor(600, 1, { ...inc, rndtime: 30 }, () => 0.5), 1215);
  assert.equal(banTimeFor(600, 1, { ...inc, maxtime: 1000, rndtime: 30 }, () => 0.999), 1030);
  assert.throws(() => parseMultipliers('1 2 x'), /"x" is not a positive number/);
  assert.throws(() => parseMultipliers('1 0'), /"0"/);
  assert.deepEqual(parseMultipliers(' 1, 2  4 '), [1, 2, 4]);
});

test('a returning offender: failures weigh 2, 3, 5, 9 (never above maxretry), its next ban is longer', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => failureWeight(n, 100)), [1, 2, 3, 5, 9, 17]);
  assert.equal(failureWeight(4, 5), 5);

  const w = new FailureWindows({ maxretry: 3, findtime: 600, bantime: 60, maxEntries: 100, increment: inc });
  const ip = '192.0.2.9';
  w.add(ip, T, 'a', T);
  w.add(ip, T + 1000, 'b', T + 1000);
  const first = w.add(ip, T + 2000, 'c', T + 2000);
  assert.deepEqual([first?.banCount, first?.bantime, first?.failures], [1, 60, 3]);
  // Back after the ban: one failure now counts 2, so the second one bans, for 60·2 s.
  const back = T + 100_000;
  assert.equal(w.add(ip, back, 'd', back), null);
  const second = w.add(ip, back + 1000, 'e', back + 1000);
  assert.deepEqual([second?.banCount, second?.bantime, second?.failures, second?.matches], [2, 120, 2, ['d', 'e']]);
  // Third time a single failure counts 3 = maxretry: banned at once, for 60·4 s.
  const third = w.add(ip, back + 200_000, 'f', back + 200_000);
  assert.deepEqual([third?.banCount, third?.bantime], [3, 240]);
});

test('a failure not newer than the last ban is not counted again; one during a running ban repeats that ban', () => {
  const w = new FailureWindows({ maxretry: 2, findtime: 600, bantime: 600, maxEntries: 100, increment: inc });
  const ip = '192.0.2.10';
  w.add(ip, T, 'a', T);
  assert.equal(w.add(ip, T + 1000, 'b', T + 1000)?.banCount, 1);
  assert.equal(w.add(ip, T + 1000, 'b again', T + 2000), null, 'the same failure read twice');
  assert.equal(w.add(ip, T + 500, 'older', T + 2000), null);
  assert.equal(w.size, 0);
  // Still banned (the firewall may have lost it): the same ban is decided again, not a longer one.
  const again = w.add(ip, T + 5000, 'c', T + 5000);
  assert.deepEqual([again?.banCount, again?.bantime], [1, 600]);
  assert.equal(w.banRecord(ip)?.count, 1);
});

test('permanent bans stay permanent and are never forgotten; other ban records are, after 3 x bantime + 1 day', () => {
  const w = new FailureWindows({ maxretry: 1, findtime: 600, bantime: -1, maxEntries: 100, increment: inc });
  assert.equal(w.add('192.0.2.11', T, 'x', T)?.bantime, -1);
  w.expire(T + 1000 * 86400_000);
  assert.equal(w.banRecord('192.0.2.11')?.count, 1);

  const v = new FailureWindows({ maxretry: 1, findtime: 600, bantime: 3600, maxEntries: 100, increment: inc });
  v.add('192.0.2.12', T, 'x', T);
  const forget = T + 3 * 3600_000 + 86400_000;
  v.expire(forget - 1);
  assert.equal(v.banRecord('192.0.2.12')?.count, 1);
  v.expire(forget);
  assert.equal(v.banRecord('192.0.2.12'), undefined);
  assert.equal(v.add('192.0.2.12', forget + 1, 'x', forget + 1)?.bantime, 3600, 'forgotten: a newcomer again');
});

test('ban records stay within maxEntries too', () => {
  const w = new FailureWindows({ maxretry: 1, findtime: 600, bantime: 600, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) w.add(`10.1.${i >> 8}.${i & 255}`, T + i, 'x', T + i);
  assert.ok(w.banRecords <= 100);
  assert.ok(w.bansEvicted >= 900);
  assert.equal(w.banRecord('10.1.3.231')?.count, 1, 'the newest are kept');
});

test('subnet aggregation: enough banned addresses in one /24 make one prefix ban', () => {
  const w = new FailureWindows({ maxretry: 2, findtime: 600, bantime: 600, maxEntries: 100, increment: inc, subnet: { v4: 24, v6: null, threshold: 3 } });
  const ban = (ip: string, t: number) => {
    w.add(ip, t, `fail ${ip}`, t);
    return w.add(ip, t + 1, `fail ${ip}`, t + 1);
  };
  assert.equal(ban('203.0.113.1', T)?.prefixBan, undefined);
  assert.equal(ban('198.51.100.1', T + 10)?.prefixBan, undefined, 'another /24');
  assert.equal(ban('203.0.113.2', T + 20)?.prefixBan, undefined);
  const third = ban('203.0.113.3', T + 30);
  const p = third?.prefixBan;
  assert.ok(p);
  assert.deepEqual([p.key, p.banCount, p.bantime, p.failures, p.matches.length], ['203.0.113.0/24', 1, 600, 6, 6]);
  assert.equal(third.key, '203.0.113.3', 'the address ban is made too');
  // While the prefix ban runs, more members make no second one.
  assert.equal(ban('203.0.113.4', T + 40)?.prefixBan, undefined);
  // Members whose ban has ended no longer count.
  const later = T + 700_000;
  ban('203.0.113.5', later);
  ban('203.0.113.6', later + 10);
  const again = ban('203.0.113.7', later + 20)?.prefixBan;
  assert.deepEqual([again?.key, again?.banCount, again?.bantime], ['203.0.113.0/24', 2, 1200], 'the prefix is a returning offender too');
});

test('subnet aggregation: a prefix that holds a never-ban address is not banned; IPv6 /64 offenders gather in a /48', () => {
  const w = new FailureWindows({ maxretry: 1, findtime: 600, bantime: 600, maxEntries: 100, subnet: { v4: 24, v6: 48, threshold: 2 } });
  w.prefixAllowed = (prefix) => prefix !== '192.0.2.0/24';
  w.add('192.0.2.1', T, 'x', T);
  assert.equal(w.add('192.0.2.2', T, 'x', T)?.prefixBan, undefined);
  w.add('2001:db8:1:1::/64', T, 'x', T);
  assert.equal(w.add('2001:db8:1:2::/64', T, 'x', T)?.prefixBan?.key, '2001:db8:1::/48');
  assert.equal(w.add('2001:db8:2::/64', T, 'x', T)?.prefixBan, undefined, 'a different /48');
});

test('IPv6 offenders are counted per /64 when subnetV6 is set', () => {
  const a = parseAddressOrPrefix('2001:db8:0:7:a::1')!;
  assert.equal(offenderOf(a, 64).text, '2001:db8:0:7::/64');
  assert.equal(offenderOf(a, 128), a);
  assert.equal(offenderOf(a, null), a);
  const v4 = parseAddressOrPrefix('192.0.2.1')!;
  assert.equal(offenderOf(v4, 64), v4);
  assert.deepEqual([unitForSubnetV6(null), unitForSubnetV6(48), unitForSubnetV6(64), unitForSubnetV6(96), unitForSubnetV6(128)], [null, 64, 64, 96, 128]);
});

test('long lines are cut when kept; the state round-trips through state()/restore()', () => {
  const w = new FailureWindows({ ...policy, increment: inc });
  w.add('192.0.2.20', T, 'x'.repeat(5000), T);
  w.add('192.0.2.21', T, 'a', T);
  w.add('192.0.2.21', T + 1, 'b', T + 1);
  w.add('192.0.2.22', T, 'a', T);
  w.add('192.0.2.22', T + 1, 'b', T + 1);
  w.add('192.0.2.22', T + 2, 'c', T + 2);
  const copy = new FailureWindows({ ...policy, increment: inc });
  copy.restore(JSON.parse(JSON.stringify(w.state())), T + 10);
  assert.equal(copy.size, 2);
  assert.equal(copy.banRecord('192.0.2.22')?.count, 1);
  const d = copy.add('192.0.2.21', T + 20, 'c', T + 20);
  assert.deepEqual(d?.matches, ['a', 'b', 'c']);
  assert.equal(copy.add('192.0.2.20', T + 20, 'y', T + 20), null);
  assert.equal(copy.add('192.0.2.20', T + 21, 'z', T + 21)?.matches[0].length, 1000);
});

test('store: a journal and a snapshot bring back windows and ban counts; a damaged tail is skipped', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-window-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'windows-n1.json');
  const now = Date.now();
  const make = () => new FailureWindows({ maxretry: 3, findtime: 600, bantime: 60, maxEntries: 100, increment: inc });

  const w1 = make();
  const s1 = new WindowStore(file, w1);
  assert.deepEqual(s1.open(now), { offenders: 0, bans: 0, skipped: 0 });
  w1.add('192.0.2.30', now, 'one', now);
  w1.add('192.0.2.30', now + 1, 'two', now + 1);
  for (let i = 0; i < 3; i++) w1.add('192.0.2.31', now + i, `b${i}`, now + i);
  w1.add('192.0.2.32', now, 'forgotten', now);
  w1.forget('192.0.2.32');
  s1.flush();
  // A crash cuts the last line short.
  const journal = readdirSync(join(dir, 'sub')).find((n) => n.endsWith('.journal'))!;
  appendFileSync(join(dir, 'sub', journal), '["f","192.0.2.33",');

  const w2 = make();
  const s2 = new WindowStore(file, w2);
  assert.deepEqual(s2.open(now + 10), { offenders: 1, bans: 1, skipped: 1 });
  assert.deepEqual(w2.add('192.0.2.30', now + 20, 'three', now + 20)?.matches, ['one', 'two', 'three']);
  assert.equal(w2.banRecord('192.0.2.31')?.count, 1);
  s2.compact(now + 30);
  s2.close();
  assert.deepEqual(readdirSync(join(dir, 'sub')).sort().filter((n) => !n.endsWith('.journal')), ['windows-n1.json'], 'no temporary file is left');
  assert.equal(readdirSync(join(dir, 'sub')).filter((n) => n.endsWith('.journal')).length, 1, 'old journals are deleted');

  const w3 = make();
  new WindowStore(file, w3).open(now + 40);
  assert.equal(w3.banRecord('192.0.2.30')?.count, 1);
  assert.equal(w3.banRecord('192.0.2.31')?.count, 1);

  // A damaged snapshot is moved aside; the node starts afresh.
  const w4 = make();
  writeFileSync(file, '{"version":1,');
  const s4 = new WindowStore(file, w4);
  const report = s4.open(now + 50);
  assert.match(report.movedAside ?? '', /windows-n1\.json\.damaged-/);
  s4.close(true);
  assert.deepEqual(readdirSync(join(dir, 'sub')).filter((n) => !n.includes('damaged')), [], 'close(true) deletes the files');
  assert.ok(readFileSync(join(dir, 'sub', readdirSync(join(dir, 'sub'))[0]), 'utf8').startsWith('{"version":1,'));
});

test('store: the journal is folded into a snapshot as it grows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-window-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w.json');
  const now = Date.now();
  const w = new FailureWindows({ maxretry: 5, findtime: 600, bantime: 60, maxEntries: 1000 });
  const s = new WindowStore(file, w, { compactBytes: 10_000 });
  s.open(now);
  for (let i = 0; i < 5000; i++) {
    w.add(`10.9.${(i >> 8) & 3}.${i & 255}`, now + i, 'a failure line of some length', now + i);
    if (i % 100 === 99) {
      s.flush(now + i);
      // The fold runs a slice per event-loop turn.
      await s.settled();
    }
  }
  s.close();
  const journals = readdirSync(dir).filter((n) => n.endsWith('.journal'));
  assert.equal(journals.length, 1);
  assert.ok(Number(journals[0].split('.').at(-2)) >= 3, `compacted more than once (${journals[0]})`);
  const again = new FailureWindows({ maxretry: 5, findtime: 600, bantime: 60, maxEntries: 1000 });
  new WindowStore(file, again).open(now + 5000);
  assert.deepEqual(again.state(), w.state());
});

test('canonical IPv4 keys are kept as numbers; every other key as text', () => {
  for (const ip of ['0.0.0.0', '1.2.3.4', '10.0.0.255', '127.0.0.1', '192.0.2.1', '255.255.255.255', '128.0.0.0']) {
    const k = indexKey(ip);
    assert.equal(typeof k, 'number', ip);
    assert.equal(keyText(k), ip);
  }
  for (const other of ['01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', '::1', '2001:db8::/64', '203.0.113.0/24', 'user@example', '']) {
    assert.equal(indexKey(other), other, other);
  }
  const w = new FailureWindows({ ...policy, maxretry: 2 });
  w.add('192.0.2.1', T, 'a', T);
  w.add('192.0.2.01', T, 'b', T); // not the same offender: an id that only looks like an address
  assert.equal(w.size, 2);
  assert.deepEqual(w.state().offenders.map((o) => o[0]).sort(), ['192.0.2.01', '192.0.2.1']);
  assert.equal(w.add('192.0.2.1', T + 1, 'c', T + 1)?.key, '192.0.2.1');
});

test('restored bans count toward a prefix, but only a new ban decides the prefix ban', () => {
  const sub = { v4: 24, v6: null, threshold: 2 };
  const w = new FailureWindows({ maxretry: 1, findtime: 600, bantime: 600, maxEntries: 100, subnet: sub });
  const journal: string[] = [];
  w.journal = { failure: () => undefined, ban: (key) => journal.push(key), forget: () => undefined };
  w.restoreBan('203.0.113.1', 1, T, 600, 1, T + 10);
  w.restoreBan('203.0.113.2', 1, T + 1, 600, 1, T + 10);
  assert.deepEqual(journal, [], 'restoring decides nothing');
  assert.equal(w.banRecord('203.0.113.0/24'), undefined);
  const d = w.add('203.0.113.3', T + 20, 'x', T + 20);
  assert.equal(d?.prefixBan?.key, '203.0.113.0/24');
  assert.equal(d?.prefixBan?.failures, 3);
});

test('store: keys and lines with quotes, backslashes, control characters and any Unicode come back as they were', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-window-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w.json');
  const now = Date.now();
  const odd = ['plain', 'a "quoted" \\ back\\slash', 'tab\there\nnew line\r\u0000\u001f', 'é ü ß — “smart” 日本語 🔥', 'lone \ud800 surrogate', '\u2028\u2029', ''];
  const make = () => new FailureWindows({ maxretry: 100, findtime: 600, bantime: 60, maxEntries: 1000 });
  const w = make();
  const s = new WindowStore(file, w);
  s.open(now);
  odd.forEach((line, i) => w.add(`user-${line}-${i}`, now + i, line, now + i));
  w.add('198.51.100.1', 1.5 + now, 'fractional time', now + 10);
  s.close();
  const again = make();
  assert.equal(new WindowStore(file, again).open(now + 20).skipped, 0);
  assert.deepEqual(again.state(), JSON.parse(JSON.stringify(w.state())));
  assert.equal(again.state().offenders.find((o) => o[0].startsWith('user-lone'))?.[2][0], 'lone \ud800 surrogate', 'a lone surrogate is kept (JSON escapes it)');
});
