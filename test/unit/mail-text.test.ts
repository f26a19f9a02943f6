import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTemplate, DEFAULT_BODY, DEFAULT_SUBJECT, eventKey, plainData, renderDigest, renderMail, toMailEvent, type MailEvent } from '../../lib/mail';

test('the default mail names the address, the jail, the time and the lines', () => {
  const mail = renderMail({
    payload: { event: 'ban', ip: '203.0.113.0/24', jail: 'sshd', bantime: 600, failures: 3, matches: ['line <1>', 'line 2'], backend: 'nftables' },
  });
  assert.equal(mail.subject, '[fail2ban] sshd: ban 203.0.113.0/24');
  assert.match(mail.text, /ban: 203\.0\.113\.0\/24 in jail sshd for 10m after 3 failures/);
  assert.match(mail.text, /  line <1>\n  line 2/);
  assert.doesNotMatch(mail.text, /whois/);
  const custom = renderMail({ payload: { ip: '192.0.2.1', jail: 'x' } }, 'Ban {{payload.ip}}\nInjected: header', '{{payload.jail}}');
  assert.equal(custom.subject, 'Ban 192.0.2.1 Injected: header');
  assert.equal(custom.text, 'x');
  assert.match(renderMail({ payload: { event: 'ban', ip: '192.0.2.1', jail: 'x', bantime: -1 } }).text, /for ever/);
});

test('values are never read as templates, and control characters from a log line do not reach the mail', () => {
  const mail = renderMail({
    payload: { event: 'ban', ip: '192.0.2.5', jail: 'sshd', matches: ['user {{payload.jail}} \x1b]0;owned\x07 from 192.0.2.5'] },
  });
  assert.match(mail.text, /user \{\{payload\.jail\}\} \]0;owned from 192\.0\.2\.5/);
  assert.doesNotMatch(mail.text, /[\x1b\x07]/);
});

test('a whois answer is quoted line by line and never interpreted; a failure is a note', () => {
  const msg = { payload: { event: 'ban', ip: '192.0.2.5', jail: 'sshd' } };
  const mail = renderMail(msg, '', '', { server: 'whois.example:43', text: 'netname: X\n{{#payload}}{{ip}}{{/payload}}\n' });
  assert.match(mail.text, /whois answer for 192\.0\.2\.5 from whois\.example:43 \(quoted as received\):\n> netname: X\n> \{\{#payload\}\}\{\{ip\}\}\{\{\/payload\}\}\n/);
  const failed = renderMail(msg, '', '', { error: 'no answer (timeout); the mail is sent without it' });
  assert.match(failed.text, /whois: no answer \(timeout\); the mail is sent without it/);
  // A body of one's own without {{whois}} still gets the answer, at the end.
  const own = renderMail(msg, '', 'Banned {{payload.ip}}.', { server: 's:43', text: 'netname: Y' });
  assert.equal(own.text, 'Banned 192.0.2.5.\n\nwhois answer from s:43 (quoted as received):\n> netname: Y\n');
});

test('a broken template is refused with its name', () => {
  assert.throws(() => checkTemplate('{{#payload.matches}} no end', 'body'), /body template: Unclosed section "payload\.matches"/);
  checkTemplate('{{payload.ip}}', 'subject');
  checkTemplate('', 'subject');
});

const ev = (i: number, jail = 'sshd', event = 'ban'): MailEvent =>
  toMailEvent({ topic: `10.0.${i >> 8}.${i & 255}`, payload: { event, ip: `10.0.${i >> 8}.${i & 255}`, jail, bantime: 600, failures: 5, matches: [`Failed password for root from 10.0.${i >> 8}.${i & 255}`] } }, Date.UTC(2026, 0, 1, 12, 0, 0) + i * 1000);

test('a digest of 100 events lists every one, with a table of counts per jail', () => {
  const events = Array.from({ length: 100 }, (_, i) => ev(i, i < 70 ? 'sshd' : 'nginx', i % 10 === 9 ? 'unban' : 'ban'));
  const mail = renderDigest(events);
  assert.equal(mail.subject, '[fail2ban] 100 events: nginx 30, sshd 70');
  for (let i = 0; i < 100; i++) assert.match(mail.text, new RegExp(`  (ban|unban) +10\\.0\\.0\\.${i} +(sshd|nginx) `), `event ${i} is listed`);
  assert.match(mail.text, /^jail +ban +unban +total\nnginx +27 +3 +30\nsshd +63 +7 +70\nall jails +90 +10 +100$/m);
  assert.match(mail.text, /100 events from 2026-01-01 12:00:00 to 2026-01-01 12:01:39 UTC/);
  assert.doesNotMatch(mail.text, /and \d+ more/);
  assert.match(mail.text, /The log lines that caused the first 20:/);
});

test('a digest of 10,000 events stays readable: the table counts all, the list is bounded, counted events included', () => {
  const events = Array.from({ length: 1000 }, (_, i) => ev(i));
  const mail = renderDigest(events, { 'sshd\tban': 8000, 'postfix\tban': 999, 'postfix\terror': 1 });
  assert.equal(mail.subject, '[fail2ban] 10000 events: postfix 1000, sshd 9000');
  assert.match(mail.text, /^all jails +9999 +1 +10000$/m);
  assert.match(mail.text, /^\.\.\. and 9800 more \(9000 of them arrived while 1000 were already waiting, and were only counted\); all are in the table above\.$/m);
  assert.ok(mail.text.length < 60_000, `${mail.text.length} characters`);
  assert.equal(mail.text.split('\n').filter((l) => /^2026-01-01/.test(l)).length, 200);
});

test('messages are kept as plain, bounded data; events are counted by jail and event', () => {
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const kept = plainData({ payload: { circular, f: () => 1, long: 'x'.repeat(10_000), n: NaN }, req: { socket: {} }, _msgid: 'm' }) as Record<string, any>;
  assert.deepEqual(Object.keys(kept), ['payload']);
  assert.deepEqual(kept.payload.circular, { a: 1 });
  assert.equal(kept.payload.f, undefined);
  assert.equal(kept.payload.long.length, 8195);
  assert.equal(kept.payload.n, null);
  assert.equal(eventKey(ev(1, 'sshd', 'ban')), 'sshd\tban');
  assert.equal(eventKey(toMailEvent({ payload: 'just text' })), '-\tevent');
});

test('the editor offers the same default subject and body as the runtime uses', () => {
  const html = readFileSync(join(__dirname, '..', '..', 'nodes', 'mail-notify', 'mail-notify.html'), 'utf8');
  const subject = JSON.parse(/var DEFAULT_SUBJECT = ("(?:[^"\\]|\\.)*");/.exec(html)![1]);
  const lines = /var DEFAULT_BODY = \[\n([\s\S]*?)\n\s*\]\.join\("\\n"\);/.exec(html)![1];
  const body = JSON.parse(`[${lines}]`).join('\n');
  assert.equal(subject, DEFAULT_SUBJECT);
  assert.equal(body, DEFAULT_BODY);
});

test('a digest quotes the whois answers it asked for, and notes the failed ones', () => {
  const whois = new Map([
    ['10.0.0.1', { server: 'w:43', text: 'netname: A\n{{payload}}\x1b[0m' }],
    ['10.0.0.2', { error: 'no answer (timeout); the mail is sent without it' }],
  ]);
  const mail = renderDigest([ev(1), ev(2)], {}, { whois });
  assert.match(mail.text, /whois answer for 10\.0\.0\.1 from w:43 \(quoted as received\):\n> netname: A\n> \{\{payload\}\}\[0m\n/);
  assert.match(mail.text, /whois 10\.0\.0\.2: no answer \(timeout\); the mail is sent without it/);
});
