import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, received, startRuntime, waitFor, type FlowNode, type Runtime } from '../support/red';
import { startSmtp, type Smtp } from '../support/smtp';
import { startWhois } from '../support/whois';

let rt: Runtime;
let smtp: Smtp;

before(async () => {
  rt = await startRuntime();
  smtp = await startSmtp({ disabledCommands: ['STARTTLS'] });
});
after(async () => {
  await smtp.close();
  await rt.close();
});
afterEach(async () => {
  await helper.unload();
  rmSync(join(rt.userDir, 'fail2ban'), { recursive: true, force: true });
  smtp.received.length = 0;
});

const ban = (ip: string, jail = 'sshd') => ({
  topic: ip,
  payload: { event: 'ban', ip, jail, bantime: 600, until: Date.now() + 600_000, backend: 'dry-run', failures: 3, matches: [`Failed password for root from ${ip} port 22 ssh2`] },
});

async function load(notify: Record<string, unknown>) {
  const nodes: FlowNode[] = [
    { id: 'smtp', type: 'mail-server', config: true, host: '127.0.0.1', port: String(smtp.port), secure: false, starttls: 'never', allowSelfSigned: false },
    { id: 'mail', type: 'mail-notify', server: 'smtp', to: 'admin@example.org', from: 'fail2ban@example.org', subject: '', body: '', digest: '0', maxPerHour: '60', skipRestored: true, whois: false, wires: [['sent']], ...notify },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'watcher', type: 'status', scope: ['mail'], wires: [['statuses']] },
    { id: 'sent', type: 'helper' },
    { id: 'caught', type: 'helper' },
    { id: 'statuses', type: 'helper' },
  ];
  await helper.load(NODES, onTab(nodes));
  const statuses: Array<{ fill?: string; text?: string }> = [];
  const sent = received('sent');
  const caught = received('caught');
  helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push(m.status as { fill?: string; text?: string }));
  return { sent, caught, statuses, mail: helper.getNode('mail') };
}

/** The text of a received mail, quoted-printable soft breaks and escapes undone. */
function bodyOf(data: string): string {
  const body = data.slice(data.indexOf('\r\n\r\n') + 4);
  if (!/Content-Transfer-Encoding: quoted-printable/i.test(data)) return body.replace(/\r\n/g, '\n');
  return Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8').replace(/\r\n/g, '\n');
}

test('whois: the answer of a whois server on loopback is quoted in the mail, never interpreted', async (t) => {
  const whois = await startWhois((q) => `% loopback registry\r\ninetnum:        ${q} - ${q}\r\nnetname:        TEST-NET-3\r\nremarks:        {{payload.jail}} \x1b[2J\x07 {{{payload}}}\r\n`);
  t.after(() => whois.close());
  const { sent, mail } = await load({ whois: true, whoisServer: `127.0.0.1:${whois.port}`, whoisTimeout: '2' });
  mail.receive(ban('203.0.113.50'));
  await waitFor(() => smtp.received.length === 1 && sent.length === 1, 'the mail');
  assert.deepEqual(whois.queries, ['203.0.113.50']);
  const text = bodyOf(smtp.received[0].data);
  assert.match(text, new RegExp(`whois answer for 203\\.0\\.113\\.50 from 127\\.0\\.0\\.1:${whois.port} \\(quoted as received\\):\\n> % loopback registry\\n> inetnum: +203\\.0\\.113\\.50 - 203\\.0\\.113\\.50\\n> netname: +TEST-NET-3\\n> remarks: +\\{\\{payload\\.jail\\}\\} \\[2J \\{\\{\\{payload\\}\\}\\}\\n`));
  assert.doesNotMatch(text, /[\x1b\x07]/);
});

test('whois: a server that does not answer delays the mail by the timeout only, and the mail says whois failed', async (t) => {
  const silent = await startWhois(() => null);
  t.after(() => silent.close());
  const { sent, caught, mail } = await load({ whois: true, whoisServer: `127.0.0.1:${silent.port}`, whoisTimeout: '0.5' });
  const start = Date.now();
  mail.receive(ban('203.0.113.51'));
  await waitFor(() => smtp.received.length === 1 && sent.length === 1, 'the mail without whois');
  assert.ok(Date.now() - start < 3000);
  assert.match(bodyOf(smtp.received[0].data), /whois: no answer \(no answer from 127\.0\.0\.1:\d+ within 0\.5 s\); the mail is sent without it/);
  assert.equal(caught.length, 0, 'a whois failure is no mail failure');
});

test('digest: 100 ban events within the window make exactly one mail that lists all 100', async () => {
  const { sent, mail } = await load({ digest: '2' });
  for (let i = 0; i < 100; i++) mail.receive(ban(`198.51.100.${i}`, i % 4 === 0 ? 'nginx' : 'sshd'));
  await waitFor(() => smtp.received.length === 1 && sent.length === 100, 'the digest', 10000);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(smtp.received.length, 1, 'one mail, no more');
  const data = smtp.received[0].data;
  assert.match(data, /Subject: \[fail2ban\] 100 events: nginx 25, sshd 75/);
  const text = bodyOf(data);
  for (let i = 0; i < 100; i++) assert.match(text, new RegExp(`  ban +198\\.51\\.100\\.${i} +(sshd|nginx) `), `198.51.100.${i} is listed`);
  assert.match(text, /^jail +ban +total\nnginx +25 +25\nsshd +75 +75\nall jails +100 +100$/m);
  assert.ok(sent.every((m) => (m.mail as { events: number; digest: boolean }).events === 100), 'each output says which mail carried it');
});

test('a storm of 10,000 bans never makes more than maxPerHour mails; what is over the cap waits, counted, for the next one', async () => {
  const { sent, statuses, mail } = await load({ maxPerHour: '3' });
  // Ten bursts of a thousand, so that some come after the third mail of the hour.
  for (let i = 0; i < 10_000; i++) {
    mail.receive(ban(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor(() => statuses.some((s) => /^hourly cap of 3 reached, \d+ waiting/.test(s.text ?? '')), 'the cap in the status', 20000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(smtp.received.length, 3, 'three mails, the cap');
  const subjects = smtp.received.map((r) => /Subject: (.*)/.exec(r.data)![1]);
  assert.equal(subjects[0], '[fail2ban] sshd: ban 10.0.0.0');
  // Once the storm is more than the outbox keeps in full, each mail takes all that waits.
  let mailed = 0;
  for (const [i, subject] of subjects.entries()) {
    const digest = /^\[fail2ban\] (\d+) events: sshd \1$/.exec(subject);
    assert.ok(i === 0 || digest, `mail ${i + 1} is a digest: ${subject}`);
    mailed += digest ? Number(digest[1]) : 1;
    if (!digest) continue;
    const text = bodyOf(smtp.received[i].data);
    assert.match(text, /^sshd +(\d+) +\1$/m, 'the table counts them');
    assert.ok(text.length < 100_000, `the digest stays readable (${text.length} characters)`);
    if (Number(digest[1]) > 200) assert.match(text, /^\.\.\. and \d+ more/m, 'the list is bounded');
  }
  const last = statuses[statuses.length - 1];
  assert.equal(last.fill, 'yellow');
  const waiting = Number(/^hourly cap of 3 reached, (\d+) waiting/.exec(last.text ?? '')![1]);
  assert.ok(waiting > 0);
  assert.equal(mailed + waiting, 10_000, 'every event is mailed or waiting');
  assert.ok(sent.length <= mailed && sent.length >= 3, 'events listed in full are sent on');
});
