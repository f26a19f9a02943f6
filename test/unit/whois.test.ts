import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanUntrusted, composeMail, parseWhoisServer, referralOf, toMailEvent, whoisLookup, WhoisCache, WHOIS_MAX_BYTES, WHOIS_PER_DIGEST } from '../../lib/mail';
import { startWhois } from '../support/whois';

test('a configured whois server is asked about the address, and its answer is cleaned of control characters', async (t) => {
  const server = await startWhois((q) => `% test registry\r\ninetnum: ${q} - ${q}\r\nnetname: \x1b[31mEXAMPLE\x1b[0m\u202e\r\ndescr: {{payload.ip}}\tend\r\n`);
  t.after(() => server.close());
  const answer = await whoisLookup('203.0.113.9', { server: `127.0.0.1:${server.port}`, timeoutMs: 2000 });
  assert.deepEqual(server.queries, ['203.0.113.9']);
  assert.equal(answer.server, `127.0.0.1:${server.port}`);
  assert.equal(answer.cut, false);
  assert.equal(answer.text, '% test registry\ninetnum: 203.0.113.9 - 203.0.113.9\nnetname: [31mEXAMPLE[0m\ndescr: {{payload.ip}}\tend\n');
});

test('a prefix is asked as its network address; a text that is no IP is refused before any connection', async (t) => {
  const server = await startWhois(() => 'ok\n');
  t.after(() => server.close());
  await whoisLookup('2001:db8:1::/48', { server: `127.0.0.1:${server.port}` });
  assert.deepEqual(server.queries, ['2001:db8:1::']);
  await assert.rejects(whoisLookup('example.org\r\nsecond query', { server: `127.0.0.1:${server.port}` }), /is not an IP address/);
  assert.equal(server.queries.length, 1);
});

test('without a server: IANA is asked first, and the registry named by its refer: line gives the answer', async (t) => {
  // "IANA" on 127.0.0.1 refers to the "registry" on ::1, on the same port (referrals go to one port).
  const iana = await startWhois((q) => `% IANA WHOIS server\n\nrefer:        ::1\n\ninetnum:      ${q.split('.')[0]}.0.0.0 - ${q.split('.')[0]}.255.255.255\n`);
  t.after(() => iana.close());
  let rir;
  try {
    rir = await startWhois((q) => `NetRange: ${q}\nOrgName: Example Registry Customer\n`, '::1', iana.port);
  } catch (err) {
    // A machine without IPv6 loopback, or the port taken on ::1.
    return t.skip(`cannot listen on [::1]:${iana.port}: ${(err as Error).message}`);
  }
  t.after(() => rir.close());
  const answer = await whoisLookup('192.0.2.77', { root: `127.0.0.1:${iana.port}`, referralPort: iana.port, timeoutMs: 2000 });
  assert.deepEqual(iana.queries, ['192.0.2.77']);
  assert.deepEqual(rir.queries, ['192.0.2.77']);
  assert.equal(answer.server, `::1:${iana.port}`);
  assert.match(answer.text, /OrgName: Example Registry Customer/);
});

test('a server that hangs is given up after the timeout; a refused connection is an error that says so', async (t) => {
  const silent = await startWhois(() => null);
  t.after(() => silent.close());
  const start = Date.now();
  await assert.rejects(whoisLookup('198.51.100.1', { server: `127.0.0.1:${silent.port}`, timeoutMs: 300 }), /no answer from 127\.0\.0\.1:\d+ within 0\.3 s/);
  const took = Date.now() - start;
  assert.ok(took >= 250 && took < 2000, `gave up after ${took} ms`);
  const closed = await startWhois(() => '');
  const port = closed.port;
  await closed.close();
  await assert.rejects(whoisLookup('198.51.100.1', { server: `127.0.0.1:${port}`, timeoutMs: 1000 }), /connection refused/);
});

test('an endless answer is cut at 16 KiB', async (t) => {
  const big = await startWhois(() => Buffer.alloc(200 * 1024, 'A'));
  t.after(() => big.close());
  const answer = await whoisLookup('198.51.100.2', { server: `127.0.0.1:${big.port}` });
  assert.equal(answer.cut, true);
  assert.equal(answer.text.length, WHOIS_MAX_BYTES);
});

test('server specs, referral lines, and cleaning', () => {
  assert.deepEqual(parseWhoisServer('whois.ripe.net'), { host: 'whois.ripe.net', port: 43 });
  assert.deepEqual(parseWhoisServer('127.0.0.1:4343'), { host: '127.0.0.1', port: 4343 });
  assert.deepEqual(parseWhoisServer('[::1]:4343'), { host: '::1', port: 4343 });
  assert.deepEqual(parseWhoisServer('::1'), { host: '::1', port: 43 });
  assert.throws(() => parseWhoisServer('whois.example.org; rm -rf /'), /is not a host name or address/);
  assert.throws(() => parseWhoisServer('host:99999'), /not a port number/);
  assert.equal(referralOf('refer:        whois.arin.net\n'), 'whois.arin.net');
  assert.equal(referralOf('ReferralServer:  whois://whois.lacnic.net\n'), 'whois.lacnic.net');
  assert.equal(referralOf('ReferralServer:  rwhois://rwhois.example.net:4321\n'), null);
  assert.equal(referralOf('remarks: see refer: evil host\n'), null);
  assert.equal(cleanUntrusted('a\r\nb\x07c\x9bd\u202ee\tf'), 'a\nbcde\tf');
});

test('answers are cached per address; a digest asks about its first 5 addresses only; a whois failure never fails the mail', async (t) => {
  const server = await startWhois((q) => `netname: NET-${q}\n`);
  t.after(() => server.close());
  const cache = new WhoisCache({ server: `127.0.0.1:${server.port}`, timeoutMs: 2000 });
  const ev = (ip: string) => toMailEvent({ payload: { event: 'ban', ip, jail: 'sshd' } });
  const one = await composeMail({ items: [ev('192.0.2.1')], more: {} }, { whois: cache });
  await composeMail({ items: [ev('192.0.2.1')], more: {} }, { whois: cache });
  assert.match(one.text, /> netname: NET-192\.0\.2\.1/);
  assert.deepEqual(server.queries, ['192.0.2.1'], 'the second mail used the cached answer');
  const digest = await composeMail({ items: Array.from({ length: 8 }, (_, i) => ev(`192.0.2.${10 + i}`)), more: {} }, { whois: cache });
  assert.equal(server.queries.length, 1 + WHOIS_PER_DIGEST);
  assert.equal((digest.text.match(/^whois answer for /gm) ?? []).length, WHOIS_PER_DIGEST);
  const notIp = await composeMail({ items: [toMailEvent({ topic: 'user-bob', payload: { event: 'ban', host: 'user-bob', jail: 'x' } })], more: {} }, { whois: cache });
  assert.match(notIp.text, /whois: "user-bob" is not an IP address, no whois/);
  await server.close();
  const failed = await composeMail({ items: [ev('192.0.2.99')], more: {} }, { whois: cache });
  assert.match(failed.text, /whois: no answer \(127\.0\.0\.1:\d+: connection refused\); the mail is sent without it/);
});
