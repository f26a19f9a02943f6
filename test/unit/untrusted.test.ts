/** Issue 9: how hostile values are named in errors, and which prefixes are too wide to ban. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BanManager, DryRunBackend, InvalidAddressError, ProtectedAddressError } from '../../lib/firewall';
import { parseBantime } from '../../lib/duration';
import { parseAddressOrPrefix, tooWideToBan } from '../../lib/ip';
import { Ledger } from '../../lib/ledger';
import type { FirewallEvent } from '../../lib/messages';
import { renderMail, toMailEvent } from '../../lib/mail';
import { describeValue, textOf } from '../../lib/untrusted';

test('describeValue: short, on one line, escaped; other types by type and value', () => {
  assert.equal(describeValue('1.2.3.4; touch F'), '"1.2.3.4; touch F"');
  assert.equal(describeValue('1.2.3.4\ntouch F'), '"1.2.3.4\\ntouch F"');
  assert.equal(describeValue('a\u202eb\u200bc\u0000'), '"a\\u202eb\\u200bc\\u0000"');
  const long = describeValue(`1.2.3.4 ${'A'.repeat(10240)}`);
  assert.ok(long.length < 100, long);
  assert.match(long, /^"1\.2\.3\.4 A+\.\.\." \(10248 characters\)$/);
  assert.equal(describeValue(''), 'an empty string');
  assert.equal(describeValue(1234), 'the number 1234');
  assert.equal(describeValue(null), 'null');
  assert.equal(describeValue(undefined), 'nothing');
  assert.equal(describeValue(['1.2.3.4']), 'an array ["1.2.3.4"]');
  assert.match(describeValue({ ip: 'x'.repeat(500) }), /^an object \{"ip":"x+\.\.\.$/);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.equal(describeValue(cycle), 'an object');
});

test('tooWideToBan: prefixes wider than /8 (IPv4) or /16 (IPv6) are refused; narrower ones and addresses pass', () => {
  const wide = (t: string) => tooWideToBan(parseAddressOrPrefix(t)!);
  for (const t of ['0.0.0.0/0', '1.2.3.4/0', '128.0.0.0/1', '10.0.0.0/7', '::/0', '8000::/1', '2001::/15']) assert.match(String(wide(t)), /wider than the widest prefix ever banned/, t);
  for (const t of ['10.0.0.0/8', '203.0.113.0/24', '192.0.2.1', '2001::/16', '2001:db8::/64', '2001:db8::1']) assert.equal(wide(t), null, t);
});

test('the ban manager refuses hostile ip values and too wide prefixes, naming the value in short, and keeps working', async () => {
  const backend = new DryRunBackend();
  const ledger = new Ledger(null);
  const m = new BanManager({ backend, ledger, jail: 'sshd', defaultBantime: 600, reconcile: 0, protect: () => null });
  await m.start();
  const cases: Array<[unknown, RegExp]> = [
    ['1.2.3.4; touch F', /^refused to ban "1\.2\.3\.4; touch F": not an IPv4\/IPv6 address/],
    [`1.2.3.4 ${'A'.repeat(10240)}`, /\(10248 characters\): not an IPv4/],
    [1234, /^refused to ban the number 1234: /],
    [{ ip: '1.2.3.4' }, /^refused to ban an object \{"ip":"1\.2\.3\.4"\}: /],
    [null, /^refused to ban null: /],
    ['1.2.3.4/0', /^refused to ban "1\.2\.3\.4\/0" \(0\.0\.0\.0\/0\): 0\.0\.0\.0\/0 is a \/0, wider than/],
    ['128.0.0.0/1', /^refused to ban 128\.0\.0\.0\/1: 128\.0\.0\.0\/1 is a \/1/],
  ];
  for (const [ip, message] of cases) {
    const err = await m.ban({ ip }).then(() => null, (e: Error) => e);
    assert.ok(err instanceof InvalidAddressError && !(err instanceof ProtectedAddressError), String(ip));
    assert.match(err.message, message);
    assert.ok(err.message.length < 250, err.message);
    await assert.rejects(m.unban(ip), (e: Error) => e instanceof InvalidAddressError && /^refused to unban /.test(e.message) && e.message.length < 250);
  }
  assert.deepEqual(backend.history, [], 'the backend was never asked');
  await m.ban({ ip: '10.0.0.0/8' });
  await m.ban({ ip: '2001::/16' });
  assert.deepEqual((await backend.list()).sort(), ['10.0.0.0/8', '2001::/16']);
  await m.stop(true);
});

test('a hostile ban time in a message is refused in short', () => {
  assert.throws(() => parseBantime(`600; touch F ${'A'.repeat(10240)}`), (err: Error) => err.message.length < 250 && /^bantime "600; touch F A+\.\.\." \(10253 characters\): cannot read "; touch F/.test(err.message));
  assert.throws(() => parseBantime({ a: 1 }), /bantime is an object \{"a":1\}: give seconds/);
  // An object whose toString is no function (String() of it would throw a TypeError that says nothing).
  assert.throws(() => parseBantime({ toString: 'touch F' }), /bantime is an object \{"toString":"touch F"\}: give seconds/);
  assert.throws(() => parseBantime('1\n;x'), /bantime "1\\n;x": cannot read ";x"/);
});

test('a ledger edited by hand: hostile text is dropped and a too wide prefix is not restored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-untrusted-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bans.json');
  const until = Date.now() + 3600_000;
  const rec = (ip: string) => ({ ip, jail: 'sshd', start: Date.now(), until, bantime: 3600 });
  writeFileSync(file, JSON.stringify({ bans: [rec('1.2.3.4; touch F'), rec('128.0.0.0/1'), rec('192.0.2.1')] }));
  const ledger = new Ledger(file);
  ledger.load();
  const backend = new DryRunBackend();
  const m = new BanManager({ backend, ledger, jail: 'sshd', defaultBantime: 600, reconcile: 0, protect: () => null });
  const events: FirewallEvent[] = [];
  m.on('event', (e: FirewallEvent) => events.push(e));
  await m.start();
  assert.deepEqual(await backend.list(), ['192.0.2.1']);
  assert.deepEqual(m.list().map((r) => r.ip), ['192.0.2.1']);
  const refused = events.filter((e) => e.event === 'error');
  assert.equal(refused.length, 1);
  assert.match(String(refused[0].error), /^not restored: 128\.0\.0\.0\/1 is a \/1, wider than/);
  assert.ok(backend.history.every((h) => !h.ip.includes('touch')), JSON.stringify(backend.history));
  await m.stop(true);
});

test('textOf never calls anything of the value; mail events drop keys that would change how an object becomes text', () => {
  const fromJson = JSON.parse('{"toString": "touch F", "valueOf": "x", "__proto__": {"toString": "y"}, "ip": "1.2.3.4"}');
  assert.throws(() => String({ toString: 'touch F' }), TypeError);
  assert.equal(textOf({ toString: 'touch F' }), 'an object {"toString":"touch F"}');
  assert.equal(textOf('x'.repeat(500)).length, 100);
  assert.equal(textOf(null), 'null');
  assert.equal(textOf(12), '12');
  const event = toMailEvent({ payload: { event: 'ban', ip: { toString: 'touch F' }, jail: fromJson } });
  const payload = event.msg.payload as Record<string, unknown>;
  assert.deepEqual(payload.ip, {});
  assert.deepEqual(payload.jail, { ip: '1.2.3.4' });
  assert.equal(Object.getPrototypeOf(payload.jail), Object.prototype);
  const mail = renderMail(event.msg);
  assert.match(mail.subject, /^\[fail2ban\] \[object Object\]: ban \[object Object\]$/);
});
