import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddressOrPrefix, type Address } from '../../lib/ip';
import { BrokerLink, CatchUp, HeldBans, linkStateOf, normalisePrefix, OriginRate, readMessage, Refusal, ShareGuard, WireError, banPublication, banTopic, unbanPublication, type SharedBan } from '../../lib/share';
import { IgnoreList } from '../../lib/window';

const P = 'fail2ban/bans';
const NOW = 1_800_000_000_000;
const addr = (t: string) => parseAddressOrPrefix(t) as Address;
const ban = (over: Partial<SharedBan> = {}): SharedBan => ({ ip: '203.0.113.7', jail: 'sshd', origin: 'web1', bantime: 600, until: NOW + 300_000, ...over });

test('a ban is published retained under <prefix>/<origin>/<jail>/<address> with the seconds left as its expiry', () => {
  const p = banPublication(P, ban(), NOW)!;
  assert.equal(p.topic, 'fail2ban/bans/web1/sshd/203.0.113.7');
  assert.deepEqual(JSON.parse(p.payload), { ip: '203.0.113.7', jail: 'sshd', origin: 'web1', bantime: 600, until: NOW + 300_000 });
  assert.equal(p.expiry, 300);
  assert.equal(banPublication(P, ban({ until: NOW + 1500 }), NOW)!.expiry, 2, 'rounded up: never gone before the ban ends');
  const forever = banPublication(P, ban({ bantime: -1, until: null }), NOW)!;
  assert.equal(forever.expiry, undefined, 'a ban for ever has no expiry');
  assert.equal(banPublication(P, ban({ until: NOW - 1 }), NOW), null, 'a ban that is over is not published');
  assert.equal(banTopic(P, 'web1', 'sshd', '203.0.113.0/24'), 'fail2ban/bans/web1/sshd/203.0.113.0_24');
  assert.deepEqual(unbanPublication(P, 'web1', 'sshd', '2001:db8::/64'), { topic: 'fail2ban/bans/web1/sshd/2001:db8::_64', payload: '' });
});

test('what is published reads back as the same ban; an empty payload is an unban', () => {
  for (const b of [ban(), ban({ ip: '203.0.113.0/24' }), ban({ ip: '2001:db8::/64', bantime: -1, until: null })]) {
    const p = banPublication(P, b, NOW)!;
    for (const payload of [p.payload, Buffer.from(p.payload), JSON.parse(p.payload)]) {
      const r = readMessage(P, p.topic, payload, NOW);
      assert.equal(r.kind, 'ban');
      if (r.kind === 'ban') {
        assert.deepEqual(r.ban, b);
        assert.equal(r.left, b.until === null ? -1 : 300);
      }
    }
  }
  for (const empty of ['', Buffer.alloc(0), null]) {
    const r = readMessage(P, 'fail2ban/bans/web1/sshd/203.0.113.0_24', empty, NOW);
    assert.equal(r.kind, 'unban');
    if (r.kind === 'unban') assert.deepEqual([r.origin, r.jail, r.ip], ['web1', 'sshd', '203.0.113.0/24']);
  }
});

test('a message whose payload disagrees with its topic, or that is no ban, is refused whole', () => {
  const good = JSON.parse(banPublication(P, ban(), NOW)!.payload);
  const topic = 'fail2ban/bans/web1/sshd/203.0.113.7';
  const cases: Array<[unknown, unknown, RegExp]> = [
    [topic, { ...good, ip: '203.0.113.8' }, /ip "203.0.113.8" disagrees/],
    [topic, { ...good, origin: 'web2' }, /origin "web2" disagrees/],
    [topic, { ...good, jail: 'postfix' }, /jail "postfix" disagrees/],
    [topic, { ...good, bantime: 0 }, /bantime/],
    [topic, { ...good, bantime: '600' }, /bantime/],
    [topic, { ...good, until: 'tomorrow' }, /until/],
    [topic, { ...good, until: null }, /disagree/],
    [topic, 'garbage', /not JSON/],
    [topic, '[1,2]', /not a ban object/],
    [topic, 'x'.repeat(5000), /at most 1024/],
    [topic, 42, /not a ban/],
    ['fail2ban/bans/web1/sshd/not-an-ip', JSON.stringify(good), /not an IPv4\/IPv6/],
    ['fail2ban/bans/web1/203.0.113.7', JSON.stringify(good), /not fail2ban\/bans\/<origin>/],
    ['fail2ban/bans/web1/sshd/x/203.0.113.7', JSON.stringify(good), /not fail2ban\/bans\/<origin>/],
    ['other/web1/sshd/203.0.113.7', JSON.stringify(good), /not under/],
  ];
  for (const [t, payload, why] of cases) {
    assert.throws(() => readMessage(P, t, typeof payload === 'object' ? JSON.stringify(payload) : payload, NOW), (err: Error) => err instanceof WireError && why.test(err.message), `${String(t)} ${String(payload).slice(0, 40)}`);
  }
  // A prefix in the payload written the other way still names the same network.
  const r = readMessage(P, 'fail2ban/bans/web1/sshd/203.0.113.0_24', JSON.stringify({ ...good, ip: '203.0.113.9/24' }), NOW);
  assert.equal(r.kind === 'ban' && r.ban.ip, '203.0.113.0/24');
  assert.equal(normalisePrefix('fail2ban/bans/'), 'fail2ban/bans');
  assert.throws(() => normalisePrefix('fail2ban/#'), /not a topic/);
  assert.throws(() => normalisePrefix('a//b'), /not a topic/);
});

const own = new IgnoreList('10.0.0.5', false);

function guard(over: Partial<ConstructorParameters<typeof ShareGuard>[0]> = {}): ShareGuard {
  const ignore = new IgnoreList('127.0.0.1/8 ::1 192.0.2.0/24', false);
  return new ShareGuard({ origin: 'web2', jails: ['sshd'], ignore: { has: (a) => ignore.has(a) }, maxBantime: 3600, maxPerMinute: 100, self: (a) => (own.has(a) ? 'an address of this machine (eth0)' : null), ...over });
}

test('the guard refuses own messages, unshared jails, wide prefixes, own and ignored addresses; caps the time', () => {
  const g = guard();
  const check = (b: SharedBan, left: number) => g.check(b, addr(b.ip), left, NOW);
  assert.equal(check(ban(), 300), 300, 'the time left');
  assert.equal(check(ban({ ip: '198.51.100.4' }), 86400), 3600, 'at most maxBantime');
  assert.equal(check(ban({ ip: '198.51.100.5', bantime: -1, until: null }), -1), 3600, 'a ban for ever: maxBantime');
  assert.equal(guard({ maxBantime: -1 }).check(ban({ bantime: -1, until: null }), addr('203.0.113.7'), -1, NOW), -1, 'no limit: for ever stays for ever');
  const refusals: Array<[SharedBan, RegExp]> = [
    [ban({ origin: 'web2' }), /own ban/],
    [ban({ jail: 'postfix' }), /not shared/],
    [ban({ ip: '0.0.0.0/0' }), /wider than the widest/],
    [ban({ ip: '2000::/3' }), /wider than the widest/],
    [ban({ ip: '10.0.0.5' }), /an address of this machine/],
    [ban({ ip: '10.0.0.0/8' }), /an address of this machine/],
    [ban({ ip: '192.0.2.9' }), /in ignoreip/],
    [ban({ ip: '192.0.0.0/16' }), /in ignoreip/],
    [ban({ ip: '127.0.0.1' }), /loopback|in ignoreip/],
  ];
  const real = guard({ self: undefined });
  assert.throws(() => real.check(ban({ ip: '127.0.0.1' }), addr('127.0.0.1'), 300, NOW), (e: Error) => e instanceof Refusal && /loopback/.test(e.message), 'the real lock-out guard');
  for (const [b, why] of refusals) assert.throws(() => check(b, 300), (e: Error) => e instanceof Refusal && why.test(e.message), b.ip);
  assert.throws(() => check(ban(), 0), /over/);
  assert.ok(guard({ jails: [] }).shares('anything'), 'no jails listed: all shared');
});

test('at most maxPerMinute bans of one origin a minute; other origins and later minutes are not held back', () => {
  const g = guard({ maxPerMinute: 5 });
  const take = (origin: string, i: number, now: number) => {
    try {
      g.check(ban({ origin, ip: `198.51.100.${i}` }), addr(`198.51.100.${i}`), 300, now);
      return true;
    } catch {
      return false;
    }
  };
  const first = Array.from({ length: 20 }, (_, i) => take('web1', i + 1, NOW + i));
  assert.equal(first.filter(Boolean).length, 5);
  assert.ok(take('web3', 1, NOW + 30), 'another origin has its own minute');
  assert.ok(!take('web1', 50, NOW + 59_000), 'still within the minute');
  assert.ok(take('web1', 51, NOW + 60_001), 'a minute later');
  // A refused ban does not use up the minute.
  const rate = new OriginRate(2);
  assert.ok(rate.take('a', 0) && rate.take('a', 1) && !rate.take('a', 2));
  const g2 = guard({ maxPerMinute: 1 });
  assert.throws(() => g2.check(ban({ ip: '192.0.2.1' }), addr('192.0.2.1'), 300, NOW), /ignoreip/);
  assert.equal(g2.check(ban(), addr('203.0.113.7'), 300, NOW), 300);
});

test('held bans: a fleet unban lifts only what came from that origin; own bans are never taken over', () => {
  const h = new HeldBans();
  h.follow({ event: 'ban', ip: '203.0.113.7', until: NOW + 1000 });
  h.follow({ event: 'restore', ip: '203.0.113.8', origin: 'web1', until: NOW + 300_000 });
  assert.equal(h.originOf('203.0.113.7'), null);
  assert.ok(h.ownBan('203.0.113.7'));
  assert.equal(h.originOf('203.0.113.8'), 'web1');
  assert.ok(h.covers('203.0.113.8', 'web1', NOW + 300_500), 'the same ban seen again');
  assert.ok(!h.covers('203.0.113.8', 'web1', NOW + 900_000), 'a longer ban is taken');
  assert.ok(!h.covers('203.0.113.8', 'web3', NOW + 300_000), 'another origin');
  h.follow({ event: 'unban', ip: '203.0.113.8', until: null });
  assert.equal(h.originOf('203.0.113.8'), undefined);
});

test('the MQTT status is read from a Status node message', () => {
  assert.equal(linkStateOf({ fill: 'green', shape: 'dot', text: 'node-red:common.status.connected', source: { type: 'mqtt in' } }), 'up');
  assert.equal(linkStateOf({ text: 'node-red:common.status.disconnected', source: { type: 'mqtt in' } }), 'down');
  assert.equal(linkStateOf({ text: 'node-red:common.status.connecting', source: { type: 'mqtt out' } }), 'down');
  assert.equal(linkStateOf({ text: 'connected' }), 'up');
  assert.equal(linkStateOf({ text: 'connected', source: { type: 'firewall-ban' } }), null, 'not an MQTT node');
  assert.equal(linkStateOf({ text: '3 banned' }), null);
  assert.equal(linkStateOf(undefined), null);
});

test('after a broker outage, what changed while it was away (and just before) is published again, once', () => {
  const link = new BrokerLink(P, 120_000);
  const t = (ip: string) => banTopic(P, 'web2', 'sshd', ip);
  link.banned(t('198.51.100.1'), ban({ origin: 'web2', ip: '198.51.100.1', until: NOW + 3_600_000 }), NOW - 600_000);
  assert.deepEqual(link.status('up', NOW - 599_000).map((p) => p.topic), [t('198.51.100.1')], 'the first connection publishes what came before it');
  link.banned(t('198.51.100.2'), ban({ origin: 'web2', ip: '198.51.100.2', until: NOW + 3_600_000 }), NOW - 100_000);
  assert.deepEqual(link.status('down', NOW), []);
  link.banned(t('198.51.100.3'), ban({ origin: 'web2', ip: '198.51.100.3', until: NOW + 60_000 }), NOW + 1000);
  link.unbanned(t('198.51.100.4'), { origin: 'web2', jail: 'sshd', ip: '198.51.100.4' }, NOW + 2000);
  link.banned(t('198.51.100.5'), ban({ origin: 'web2', ip: '198.51.100.5', until: NOW + 3000 }), NOW + 2000);
  assert.equal(link.waiting, 4);
  const again = link.status('up', NOW + 10_000);
  assert.deepEqual(again.map((p) => p.topic), [t('198.51.100.2'), t('198.51.100.3'), t('198.51.100.4')], 'the ban over meanwhile is left out; the one from 10 minutes before is not sent again');
  assert.equal(again[1].expiry, 50, 'with the time left now');
  assert.equal(again[2].payload, '', 'an unban clears the retained ban');
  assert.deepEqual(link.status('up', NOW + 11_000), [], 'still up: nothing again');
});

test('after a (re)connection, a ban whose origin no longer publishes it is stale, once the retained bans stop coming', () => {
  const c = new CatchUp(NOW, 5000, 60_000);
  c.saw('web1', '198.51.100.1', NOW + 100);
  assert.ok(!c.due(NOW + 4000));
  c.saw('web1', '198.51.100.2', NOW + 4000);
  assert.ok(!c.due(NOW + 8000), 'quiet for 5 s after the last one');
  assert.ok(c.due(NOW + 9000));
  const held = [
    { ip: '198.51.100.1', origin: 'web1' },
    { ip: '198.51.100.3', origin: 'web1' },
    { ip: '198.51.100.4', origin: 'web3' },
  ];
  assert.deepEqual(c.stale(held), [{ ip: '198.51.100.3', origin: 'web1' }], "web3 delivered nothing (a broker that lost its store): its bans stay");
  const busy = new CatchUp(NOW, 5000, 60_000);
  for (let t = 0; t < 70_000; t += 1000) busy.saw('web1', '198.51.100.1', NOW + t);
  assert.ok(busy.due(NOW + 60_000), 'at most a minute');
  const h = new HeldBans();
  h.follow({ event: 'ban', ip: '203.0.113.1', until: null });
  h.follow({ event: 'ban', ip: '203.0.113.2', origin: 'web1', until: null });
  assert.deepEqual(h.fromFleet(), [{ ip: '203.0.113.2', origin: 'web1' }]);
});
