/**
 * lib/crowdsec on its own: Go durations as the Local API writes them, the decision set (what the stream's
 * answers become, and how a restart compares the full set with what was applied), alerts from ban
 * decisions, and the alert queue's bound and file. The answers are shaped as crowdsec 1.4.6 gives them
 * (test/e2e/crowdsec.test.ts runs the same code against the real API). A refused connection is a real
 * one: a loopback port nothing listens on.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../support/process';
import { alertBody, AlertQueue, checkLapiUrl, DecisionSet, DecisionStream, lapiRequest, LapiError, parseGoDuration, pendingAlertOf, streamAdvice, streamStatus, USER_AGENT, Watcher } from '../../lib/crowdsec';

const dir = mkdtempSync(join(tmpdir(), 'f2b-crowdsec-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Nothing listens there: every request is refused at once (a port free a moment ago). */
let CLOSED = '';
before(async () => {
  CLOSED = `http://127.0.0.1:${await freePort()}`;
});

test('Go durations: what the stream writes, to seconds; anything else is refused', () => {
  assert.equal(parseGoDuration('4h'), 14400);
  assert.ok(Math.abs(parseGoDuration('3h59m58.336s') - (3 * 3600 + 59 * 60 + 58.336)) < 1e-9);
  assert.ok(Math.abs(parseGoDuration('1h59m59.203096917s') - 7199.203096917) < 1e-6);
  assert.ok(Math.abs(parseGoDuration('-90.8729ms') + 0.0908729) < 1e-12);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('0s'), 0);
  assert.equal(parseGoDuration('1m30s'), 90);
  assert.ok(Math.abs(parseGoDuration('1.5µs') - 1.5e-6) < 1e-15);
  for (const bad of ['', '4', 'h', '4d', '4h ', ' 4h', '1h-2m', '--1s', 4, null, '1e3s', '9'.repeat(80) + 's']) assert.throws(() => parseGoDuration(bad), /duration/, String(bad));
});

const d = (id: number, value: string, duration = '3h59m58s', extra: Record<string, unknown> = {}) => ({ id, type: 'ban', scope: 'Ip', value, duration, scenario: 'crowdsecurity/ssh-bf', origin: 'crowdsec', ...extra });

test('the stream: new decisions are bans for the time left, deleted ones unbans; only ban on Ip and Range', () => {
  const set = new DecisionSet();
  const now = 1_800_000_000_000;
  const c = set.apply(
    {
      new: [
        d(1, '203.0.113.1', '3h59m58.3s'),
        d(2, '198.51.100.0/24', '1h', { scope: 'Range' }),
        d(3, 'FR', '4h', { scope: 'Country' }),
        d(4, '203.0.113.4', '4h', { type: 'captcha' }),
        d(5, '203.0.113.5; rm -rf /', '4h'),
        d(6, '0.0.0.0/0', '4h', { scope: 'Range' }),
        d(7, '203.0.113.7', '-1.5s'),
        d(8, '2001:DB8::0:1', '10m', { scope: 'ip', origin: 'CAPI' }),
        d(9, '203.0.113.9', 'soon'),
        null,
      ],
      deleted: null,
    },
    true,
    now,
  );
  assert.deepEqual(c.bans, [
    { action: 'ban', ip: '203.0.113.1', bantime: 14399, jail: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', origin: 'crowdsec' },
    { action: 'ban', ip: '198.51.100.0/24', bantime: 3600, jail: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', origin: 'crowdsec' },
    { action: 'ban', ip: '2001:db8::1', bantime: 600, jail: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', origin: 'CAPI' },
  ]);
  assert.deepEqual(c.unbans, []);
  assert.deepEqual(c.skipped, { 'scope Country': 1, 'type captcha': 1, 'bad value': 1, 'range too wide': 1, expired: 1, 'bad duration': 1, 'bad decision': 1 });
  // The same decision again (a poll that overlaps) bans nothing more; its deletion lifts it.
  assert.deepEqual(set.apply({ new: [d(1, '203.0.113.1', '3h59m50s')], deleted: [] }, false, now + 8000).bans, []);
  const del = set.apply({ new: null, deleted: [d(1, '203.0.113.1', '-2s')] }, false, now + 9000);
  assert.deepEqual(del.unbans, [{ action: 'unban', ip: '203.0.113.1' }]);
  assert.equal(set.size, 2);
});

test('two decisions on one address: a longer one extends the ban, deleting one keeps the other', () => {
  const set = new DecisionSet();
  const now = Date.now();
  assert.equal(set.apply({ new: [d(1, '203.0.113.1', '1h')] }, true, now).bans.length, 1);
  assert.deepEqual(set.apply({ new: [d(2, '203.0.113.1', '30m')] }, false, now).bans, [], 'a shorter one: banned long enough already');
  assert.deepEqual(set.apply({ new: [d(3, '203.0.113.1', '4h')] }, false, now).bans.map((b) => b.bantime), [14400], 'a longer one: banned again for longer');
  const c = set.apply({ deleted: [d(3, '203.0.113.1'), d(1, '203.0.113.1')] }, false, now);
  assert.deepEqual(c.unbans, [], 'decision 2 still holds');
  assert.deepEqual(set.apply({ deleted: [d(2, '203.0.113.1')] }, false, now).unbans, [{ action: 'unban', ip: '203.0.113.1' }]);
});

test('after a restart the full set is compared with the saved one: nothing twice, what is gone is lifted', () => {
  const file = join(dir, 'decisions.json');
  const now = Date.now();
  const first = new DecisionSet(file);
  first.load();
  first.apply({ new: [d(1, '203.0.113.1'), d(2, '203.0.113.2'), d(3, '198.51.100.0/24', '1h', { scope: 'Range' })] }, true, now);
  const again = new DecisionSet(file);
  again.load();
  assert.equal(again.size, 3);
  const c = again.apply({ new: [d(1, '203.0.113.1', '3h50m'), d(3, '198.51.100.0/24', '50m', { scope: 'Range' }), d(4, '203.0.113.4')], deleted: null }, true, now + 600_000);
  assert.deepEqual(c.bans.map((b) => b.ip), ['203.0.113.4']);
  assert.deepEqual(c.unbans, [{ action: 'unban', ip: '203.0.113.2' }]);
  // An empty full set (every decision deleted while stopped) lifts everything.
  const empty = new DecisionSet(file);
  empty.load();
  assert.deepEqual(empty.apply({ new: null, deleted: null }, true, now).unbans.map((u) => u.ip).sort(), ['198.51.100.0/24', '203.0.113.1', '203.0.113.4']);
  writeFileSync(file, '{"held": ');
  assert.throws(() => new DecisionSet(file).load(), /damaged.*move the file aside/);
  empty.discard();
  assert.ok(!existsSync(file));
});

test('after a restart the firewall is asked too: what it lost is banned again once, what it holds (or cannot tell) is not', () => {
  const file = join(dir, 'lost.json');
  const now = Date.now();
  const first = new DecisionSet(file);
  first.apply({ new: [d(1, '203.0.113.1'), d(2, '198.51.100.0/24', '1h', { scope: 'Range' }), d(3, '203.0.113.3', '1h'), d(4, '203.0.113.3', '4h')] }, true, now);
  // The firewall's ledger: .1 held long enough; the range lost; .3 held, but only for the shorter decision.
  const ledger = new Map<string, number>([['203.0.113.1', now + 4 * 3600_000], ['203.0.113.3', now + 3600_000]]);
  const asked: Array<[string, number]> = [];
  const holds = (ip: string, until: number) => {
    asked.push([ip, until]);
    const end = ledger.get(ip);
    return end !== undefined && end >= until - 2000;
  };
  const again = new DecisionSet(file);
  again.load();
  const later = now + 60_000;
  const answer = { new: [d(1, '203.0.113.1', '3h58m'), d(2, '198.51.100.0/24', '59m', { scope: 'Range' }), d(3, '203.0.113.3', '59m'), d(4, '203.0.113.3', '3h59m'), d(5, '203.0.113.5', '10m')] };
  const c = again.apply(answer, true, later, holds);
  assert.deepEqual(
    c.bans.map((b) => [b.ip, b.bantime]),
    [['203.0.113.5', 600], ['198.51.100.0/24', 3540], ['203.0.113.3', 14340]],
    'a new decision as always; the lost range and the longer decision on .3, each once, for the time left',
  );
  assert.deepEqual(c.resent, ['198.51.100.0/24', '203.0.113.3']);
  assert.deepEqual(asked.find(([ip]) => ip === '203.0.113.3'), ['203.0.113.3', later + 14340_000], 'asked for the longest decision');
  assert.ok(!asked.some(([ip]) => ip === '203.0.113.5'), 'a ban sent anyway is not asked about');
  // A firewall that cannot tell (not wired straight to one), and the changes between full answers: the file only.
  const third = new DecisionSet(file);
  third.load();
  assert.deepEqual(third.apply(answer, true, later, () => undefined).bans, []);
  assert.deepEqual(third.apply({ new: [d(1, '203.0.113.1', '3h57m')] }, false, later, () => assert.fail('asked outside a full answer')).bans, []);
  // A firewall that lost everything: what the full answer still lists is sent again, the rest lifted.
  const lostAll = third.apply({ new: [d(1, '203.0.113.1', '3h57m')] }, true, later, () => false);
  assert.deepEqual(lostAll.resent, ['203.0.113.1']);
  assert.deepEqual(lostAll.unbans.map((u) => u.ip).sort(), ['198.51.100.0/24', '203.0.113.3', '203.0.113.5']);
  third.discard();
});

test('the stream asks the firewall on the first full answer after each start only (not after a failure)', async () => {
  let answers = 0;
  let failNext = false;
  const server = createServer((req, res) => {
    answers++;
    if (failNext) {
      failNext = false;
      res.statusCode = 500;
      return res.end('{}');
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(req.url?.includes('startup=true') ? { new: [d(1, '203.0.113.1', '1h')], deleted: [] } : { new: [], deleted: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const set = new DecisionSet();
  set.apply({ new: [d(1, '203.0.113.1', '1h')] }, true);
  let asked = 0;
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const stream = new DecisionStream(url, 'key', set, 30, () => (asked++, false));
  let next: DecisionStream | null = null;
  const bans: string[][] = [];
  stream.on('changes', (c: { bans: Array<{ ip: string }> }) => bans.push(c.bans.map((b) => b.ip)));
  try {
    stream.start();
    await waitUntil(() => answers >= 3);
    assert.equal(asked, 1);
    assert.deepEqual(bans[0], ['203.0.113.1'], 'lost: sent again');
    failNext = true;
    const failedAt = answers;
    await waitUntil(() => answers >= failedAt + 3);
    assert.equal(asked, 1, 'the full answer after a failure compares with the file only');
    await stream.stop();
    // The next start of the node (a new stream on the saved set) asks again.
    next = new DecisionStream(url, 'key', set, 30, () => (asked++, true));
    next.start();
    await waitUntil(() => asked === 2);
  } finally {
    await stream.stop();
    await next?.stop();
    server.close();
  }
});

async function waitUntil(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await wait(10);
  }
}

test('a ban decision as an alert: scenario node-red-fail2ban/<jail>, its ban for the time left; refused input named', () => {
  const at = Date.parse('2026-01-02T03:04:05Z');
  const p = pendingAlertOf({ action: 'ban', host: '203.0.113.9', bantime: 3600, jail: 'sshd', failures: 5, matches: ['l1', 'l2', 'l3', 'l4'], time: at }, at);
  const body = alertBody(p, at + 600_000);
  assert.equal(body.scenario, 'node-red-fail2ban/sshd');
  assert.equal(body.events_count, 5);
  assert.deepEqual(body.source, { scope: 'Ip', value: '203.0.113.9', ip: '203.0.113.9' });
  assert.deepEqual(body.decisions, [{ type: 'ban', scope: 'Ip', value: '203.0.113.9', duration: '3000s', origin: 'crowdsec', scenario: 'node-red-fail2ban/sshd', simulated: false }]);
  assert.equal((body.events as unknown[]).length, 3, 'the last three lines');
  const range = alertBody(pendingAlertOf({ ip: '2001:db8::/64', bantime: -1, jail: 'x y' }, at), at);
  assert.equal((range.decisions as Array<{ scope: string; duration: string }>)[0].scope, 'Range');
  assert.equal((range.decisions as Array<{ duration: string }>)[0].duration, `${10 * 365 * 24 * 3600}s`, 'for ever: ten years');
  assert.equal(range.scenario, 'node-red-fail2ban/jail', 'a jail name that is not one is not put in the scenario');
  assert.throws(() => pendingAlertOf({ action: 'unban', ip: '203.0.113.9' }), /not a ban/);
  assert.throws(() => pendingAlertOf({ ip: 'example.org' }), /not an address/);
});

test('requests name this package as name/version; the URL is checked; a refused connection is status 0 with advice', async () => {
  assert.match(USER_AGENT, /^node-red-contrib-fail2ban\/\d+\.\d+\.\d+/);
  assert.equal(checkLapiUrl(' http://127.0.0.1:8080/ '), 'http://127.0.0.1:8080');
  for (const bad of ['127.0.0.1:8080', 'ftp://x', 'http://u:p@x', 'http://x/?a=1', '']) assert.throws(() => checkLapiUrl(bad), /URL/, bad);
  const err = await lapiRequest(CLOSED, '/v1/decisions/stream').catch((e: unknown) => e);
  assert.ok(err instanceof LapiError);
  assert.equal(err.status, 0);
  assert.match(err.message, /unreachable \(ECONNREFUSED\)/);
  assert.match(streamAdvice(err), /not answering/);
  assert.match(streamAdvice(new LapiError('x', 403)), /cscli bouncers add/);
  // The status's short form fits under a node and still says what to do.
  for (const e of [err, new LapiError('x', 403), new LapiError('x', 500), new Error('x')]) assert.ok(streamStatus(e).length <= 60, streamStatus(e));
  assert.match(streamStatus(new LapiError('x', 403)), /key refused \(403\): cscli bouncers add/);
});

test('the alert queue: kept while the API is away, saved and read back, bounded with the rest counted per jail', async () => {
  const file = join(dir, 'alerts.json');
  const alert = (ip: string, jail = 'sshd') => pendingAlertOf({ ip, bantime: 3600, jail });
  const q = new AlertQueue({ watcher: new Watcher(CLOSED, 'm', 'p'), file, maxQueued: 3, batchSeconds: 0.05, retryMs: 50 });
  const failures: Error[] = [];
  q.on('failed', (e: Error) => failures.push(e));
  for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) q.add(alert(ip));
  q.add(alert('203.0.113.4', 'postfix'));
  q.add(alert('203.0.113.5', 'postfix'));
  await wait(400);
  assert.ok(failures.length >= 2, 'tried and failed again');
  assert.match(failures[0].message, /unreachable/);
  assert.equal(q.waiting, 5);
  await q.close();
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(saved.items.map((a: { ip: string }) => a.ip), ['203.0.113.1', '203.0.113.2', '203.0.113.3']);
  assert.deepEqual(saved.more, { postfix: 2 });

  // Read back by the next start; the API answers now (a loopback server that takes what a real one does).
  const posted: unknown[] = [];
  const agents: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      agents.push(String(req.headers['user-agent']));
      res.setHeader('Content-Type', 'application/json');
      // A token that expires in 61 s: within the minute before its expiry, a watcher logs in again.
      if (req.url === '/v1/watchers/login') return res.end(JSON.stringify({ code: 200, expire: new Date(Date.now() + 61_000).toISOString(), token: 't' }));
      posted.push(...JSON.parse(body));
      res.end(JSON.stringify(posted.map((_, i) => String(i + 1))));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const next = new AlertQueue({ watcher: new Watcher(`http://127.0.0.1:${port}`, 'm', 'p'), file, maxQueued: 3, batchSeconds: 0.05 });
    const lost: Array<Record<string, number>> = [];
    next.on('lost', (m: Record<string, number>) => lost.push(m));
    next.load();
    await wait(300);
    assert.deepEqual((posted as Array<{ source: { ip: string } }>).map((a) => a.source.ip), ['203.0.113.1', '203.0.113.2', '203.0.113.3']);
    assert.deepEqual(lost, [{ postfix: 2 }], 'beyond the bound: counted and said lost');
    assert.equal(next.waiting, 0);
    assert.ok(agents.every((a) => a === USER_AGENT));
    // The token is renewed before it expires.
    const watcher = new Watcher(`http://127.0.0.1:${port}`, 'm', 'p');
    await watcher.postAlerts([]);
    await watcher.postAlerts([]);
    assert.equal(watcher.logins, 1, 'one login while the token has over a minute left');
    await wait(1100);
    await watcher.postAlerts([]);
    assert.equal(watcher.logins, 2, 'a new login within the last minute');
    await next.close();
    await wait(300);
    assert.ok(!existsSync(file), 'an empty queue leaves no file');
  } finally {
    server.close();
  }
});
