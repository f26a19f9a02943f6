import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { freePort } from '../support/process';
import { helper, NODES, onTab, received, startRuntime, waitFor, type FlowNode, type Runtime } from '../support/red';
import { selfSignedCertificate, startSmtp, type Smtp } from '../support/smtp';

let rt: Runtime;
let plain: Smtp;
let tls: Smtp;
let smtps: Smtp;
const cert = selfSignedCertificate();

before(async () => {
  rt = await startRuntime();
  plain = await startSmtp({ disabledCommands: ['STARTTLS'] }, { alerts: 's3cret' });
  // STARTTLS with a self-signed certificate made for this run, like many home servers have.
  tls = await startSmtp({ ...cert }, { alerts: 's3cret' });
  // TLS from the start (SMTPS, as on port 465) with the same certificate.
  smtps = await startSmtp({ secure: true, ...cert }, { alerts: 's3cret' });
});
after(async () => {
  await plain.close();
  await tls.close();
  await smtps.close();
  await rt.close();
});
afterEach(async () => {
  await helper.unload();
  // The outbox is saved per node id; each test starts with none.
  rmSync(join(rt.userDir, 'fail2ban'), { recursive: true, force: true });
});

const ban = (ip: string) => ({
  topic: ip,
  payload: { event: 'ban', ip, jail: 'sshd', bantime: 600, until: Date.now() + 600_000, backend: 'dry-run', failures: 3, matches: [`Failed password for root from ${ip} port 22 ssh2`] },
});

function flow(port: number, server: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'smtp', type: 'mail-server', config: true, host: '127.0.0.1', port: String(port), secure: false, starttls: 'never', allowSelfSigned: false, ...server },
    { id: 'mail', type: 'mail-notify', server: 'smtp', to: 'admin@example.org', from: 'fail2ban@example.org', subject: '', body: '', digest: '0', maxPerHour: '60', skipRestored: true, wires: [['sent']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'watcher', type: 'status', scope: ['mail'], wires: [['statuses']] },
    { id: 'sent', type: 'helper' },
    { id: 'caught', type: 'helper' },
    { id: 'statuses', type: 'helper' },
  ];
}

async function load(port: number, server: Record<string, unknown>, password: string) {
  await helper.load(NODES, onTab(flow(port, server)), { smtp: { user: 'alerts', password } });
  const statuses: Array<{ fill?: string; text?: string }> = [];
  const sent = received('sent');
  const caught = received('caught');
  helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push(m.status as { fill?: string; text?: string }));
  return { sent, caught, statuses, mail: helper.getNode('mail') };
}

const errorOf = (m: NodeMessage) => (m.error as { message: string }).message;

test('mail-notify sends one mail per ban event through a real SMTP server, with stored credentials', async () => {
  plain.received.length = 0;
  const { sent, mail } = await load(plain.port, {}, 's3cret');
  mail.receive(ban('203.0.113.5'));
  mail.receive(ban('203.0.113.6'));
  mail.receive({ payload: { event: 'restore', ip: '203.0.113.7', jail: 'sshd' } });
  await waitFor(() => plain.received.length === 2 && sent.length === 2, 'two mails');
  await new Promise((r) => setTimeout(r, 300));
  const got = plain.received;
  assert.equal(got.length, 2, 'no mail for a restored ban');
  assert.deepEqual(got.map((r) => r.user), ['alerts', 'alerts']);
  assert.deepEqual(got[0].to, ['admin@example.org']);
  assert.equal(got[0].secure, false);
  assert.match(got[0].data, /Subject: \[fail2ban\] sshd: ban 203\.0\.113\.5/);
  assert.match(got[1].data, /Subject: \[fail2ban\] sshd: ban 203\.0\.113\.6/);
  assert.match(got[0].data, /Failed password for root from 203\.0\.113\.5 port 22 ssh2/);
  assert.ok(sent[0].mail, 'the output carries what the server answered');
  // The flow file keeps no credentials: they live in Node-RED's credential store.
  assert.equal((helper.getNode('smtp') as unknown as { credentials: Record<string, string> }).credentials.password, 's3cret');
});

test('a wrong password: red status with the count waiting, Catch with advice, and the mail is kept', async () => {
  plain.received.length = 0;
  const { caught, statuses, mail } = await load(plain.port, {}, 'wrong');
  mail.receive(ban('203.0.113.8'));
  await waitFor(() => caught.length >= 1, 'the failure at Catch', 10000);
  assert.match(errorOf(caught[0]), /^mail not sent, will retry in 5 s \(1 waiting\): 127\.0\.0\.1:\d+: login refused .*check the user and password/);
  assert.equal((caught[0].payload as { ip: string }).ip, '203.0.113.8', 'Catch gets the event that was not mailed');
  await waitFor(() => statuses.some((s) => s.fill === 'red'), 'a red status');
  assert.match(statuses.filter((s) => s.fill === 'red').pop()!.text!, /^1 waiting, retry in \d+s: 127\.0\.0\.1/);
  // The retry after 5 s fails for the same reason: the status says so, Catch is not told again.
  await waitFor(() => statuses.some((s) => /^1 waiting, retry in (9|10)s/.test(s.text ?? '')), 'the second try, and a longer wait', 10000);
  assert.equal(caught.length, 1);
  assert.equal(plain.received.length, 0);
});

test('STARTTLS to a server with a self-signed certificate: refused by default with advice, sent when allowed', async () => {
  tls.received.length = 0;
  const strict = await load(tls.port, { starttls: 'require' }, 's3cret');
  strict.mail.receive(ban('198.51.100.1'));
  await waitFor(() => strict.caught.length >= 1, 'the certificate refusal at Catch', 10000);
  assert.match(errorOf(strict.caught[0]), /certificate is not trusted .*accept a self-signed certificate/);
  assert.equal(tls.received.length, 0);
  await helper.unload();
  rmSync(join(rt.userDir, 'fail2ban'), { recursive: true, force: true });

  const relaxed = await load(tls.port, { starttls: 'require', allowSelfSigned: true }, 's3cret');
  relaxed.mail.receive(ban('198.51.100.2'));
  await waitFor(() => tls.received.length === 1, 'the mail over STARTTLS', 10000);
  assert.equal(tls.received[0].secure, true, 'the session was encrypted');
  assert.equal(tls.received[0].user, 'alerts');
});

test('STARTTLS required from a server that does not offer it: refused with advice, nothing sent in clear', async () => {
  plain.received.length = 0;
  const { caught, mail } = await load(plain.port, { starttls: 'require' }, 's3cret');
  mail.receive(ban('198.51.100.3'));
  await waitFor(() => caught.length >= 1, 'the refusal at Catch', 10000);
  assert.match(errorOf(caught[0]), /does not offer STARTTLS/);
  assert.equal(plain.received.length, 0);
});

test('TLS from the start: the self-signed certificate is refused with advice unless allowed, then the mail goes encrypted', async () => {
  smtps.received.length = 0;
  const strict = await load(smtps.port, { secure: true }, 's3cret');
  strict.mail.receive(ban('198.51.100.4'));
  await waitFor(() => strict.caught.length >= 1, 'the certificate refusal at Catch', 10000);
  assert.match(errorOf(strict.caught[0]), /127\.0\.0\.1:\d+: the server's TLS certificate is not trusted \(self[- ]signed certificate\); for a home server with its own certificate, tick "accept a self-signed certificate"/);
  assert.equal(smtps.received.length, 0);
  await helper.unload();
  rmSync(join(rt.userDir, 'fail2ban'), { recursive: true, force: true });

  const relaxed = await load(smtps.port, { secure: true, allowSelfSigned: true }, 's3cret');
  relaxed.mail.receive(ban('198.51.100.5'));
  await waitFor(() => smtps.received.length === 1 && relaxed.sent.length === 1, 'the mail over TLS', 10000);
  assert.equal(smtps.received[0].secure, true);
  assert.equal(smtps.received[0].user, 'alerts');
  assert.match(smtps.received[0].data, /ban: 198\.51\.100\.5 in jail sshd for 10m after 3 failures/);
});

test('TLS from the start against a server that speaks plain SMTP first: refused with advice on which setting to use', async () => {
  plain.received.length = 0;
  const { caught, mail } = await load(plain.port, { secure: true, allowSelfSigned: true }, 's3cret');
  mail.receive(ban('198.51.100.6'));
  await waitFor(() => caught.length >= 1, 'the refusal at Catch', 20000);
  assert.match(errorOf(caught[0]), /TLS mismatch .*use "TLS from the start" only for port 465, STARTTLS for 587 and 25/);
  assert.equal(plain.received.length, 0);
});

test('the mail server down, then up: the alert waits (status, Catch) and arrives once the server is back', async (t) => {
  const port = await freePort();
  const { caught, statuses, sent, mail } = await load(port, {}, 's3cret');
  mail.receive(ban('192.0.2.10'));
  await waitFor(() => caught.length >= 1, 'the failure at Catch', 10000);
  assert.match(errorOf(caught[0]), /cannot reach the mail server .*ECONNREFUSED/);
  await waitFor(() => statuses.some((s) => s.fill === 'red' && /^1 waiting/.test(s.text ?? '')), 'a red status with 1 waiting');
  const server = await startSmtp({ disabledCommands: ['STARTTLS'] }, { alerts: 's3cret' }, port);
  t.after(() => server.close());
  await waitFor(() => server.received.length === 1 && sent.length === 1, 'the queued mail after the retry', 15000);
  assert.match(server.received[0].data, /Subject: \[fail2ban\] sshd: ban 192\.0\.2\.10/);
  await waitFor(() => statuses.length > 0 && statuses[statuses.length - 1].fill === 'green', 'a green status');
  assert.equal(statuses[statuses.length - 1].text, '1 sent');
});

test('alerts waiting when Node-RED stops are saved under the user directory and sent after the restart', async (t) => {
  const port = await freePort();
  const first = await load(port, {}, 's3cret');
  first.mail.receive(ban('192.0.2.20'));
  first.mail.receive(ban('192.0.2.21'));
  await waitFor(() => first.caught.length >= 1, 'the first failure', 10000);
  await helper.unload();
  const file = join(rt.userDir, 'fail2ban', 'mail-mail.json');
  assert.ok(existsSync(file), 'the outbox is saved');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(saved.items.map((e: { msg: { topic: string } }) => e.msg.topic), ['192.0.2.20', '192.0.2.21']);

  const server = await startSmtp({ disabledCommands: ['STARTTLS'] }, { alerts: 's3cret' }, port);
  t.after(() => server.close());
  const second = await load(port, {}, 's3cret');
  await waitFor(() => server.received.length === 2 && second.sent.length === 2, 'both saved alerts mailed', 10000);
  assert.match(server.received[0].data, /ban 192\.0\.2\.20/);
  assert.match(server.received[1].data, /ban 192\.0\.2\.21/);
  await helper.unload();
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).items, [], 'nothing waits any more');
});

test('a damaged saved queue is moved aside with a warning, and the node mails as usual', async () => {
  plain.received.length = 0;
  mkdirSync(join(rt.userDir, 'fail2ban'), { recursive: true });
  writeFileSync(join(rt.userDir, 'fail2ban', 'mail-mail.json'), '{"items": [trunc');
  const { sent, mail } = await load(plain.port, {}, 's3cret');
  const aside = readdirSync(join(rt.userDir, 'fail2ban')).filter((f) => f.startsWith('mail-mail.json.damaged-'));
  assert.equal(aside.length, 1, 'the damaged file is kept for a look, under another name');
  mail.receive(ban('192.0.2.30'));
  await waitFor(() => plain.received.length === 1 && sent.length === 1, 'the mail');
});

test('a broken template or a missing recipient: red status, Catch, and input refused with the reason', async () => {
  const nodes = flow(plain.port);
  (nodes[1] as Record<string, unknown>).body = '{{#payload.matches}} no end';
  await helper.load(NODES, onTab(nodes), { smtp: { user: 'alerts', password: 's3cret' } });
  const caught = received('caught');
  await waitFor(() => caught.length >= 1, 'the configuration error at Catch');
  assert.match(errorOf(caught[0]), /body template: Unclosed section "payload\.matches"/);
});
