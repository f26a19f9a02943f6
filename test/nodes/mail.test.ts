import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, startRuntime, waitFor, type FlowNode, type Runtime } from '../support/red';
import { selfSignedCertificate, startSmtp, type Smtp } from '../support/smtp';

let rt: Runtime;
let plain: Smtp;
let tls: Smtp;

before(async () => {
  rt = await startRuntime();
  plain = await startSmtp({ disabledCommands: ['STARTTLS'] }, { alerts: 's3cret' });
  // STARTTLS with a self-signed certificate made for this run, like many home servers have.
  tls = await startSmtp({ ...selfSignedCertificate() }, { alerts: 's3cret' });
});
after(async () => {
  await plain.close();
  await tls.close();
  await rt.close();
});
afterEach(() => helper.unload());

const ban = (ip: string) => ({
  topic: ip,
  payload: { event: 'ban', ip, jail: 'sshd', bantime: 600, until: Date.now() + 600_000, backend: 'dry-run', failures: 3, matches: [`Failed password for root from ${ip} port 22 ssh2`] },
});

function flow(port: number, server: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'smtp', type: 'mail-server', config: true, host: '127.0.0.1', port: String(port), secure: false, starttls: 'never', allowSelfSigned: false, ...server },
    { id: 'mail', type: 'mail-notify', server: 'smtp', to: 'admin@example.org', from: 'fail2ban@example.org', subject: '', body: '', digest: '0', maxPerHour: '60', skipRestored: true, wires: [['sent']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'sent', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
}

async function load(port: number, server: Record<string, unknown>, password: string) {
  await helper.load(NODES, onTab(flow(port, server)), { smtp: { user: 'alerts', password } });
  const sent: NodeMessage[] = [];
  const caught: NodeMessage[] = [];
  helper.getNode('sent').on('input', (m: NodeMessage) => sent.push(m));
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push(m));
  return { sent, caught, mail: helper.getNode('mail') };
}

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
  assert.match(got[0].data, /Subject: \[fail2ban\] sshd: ban 203\.0\.113\.5/);
  assert.match(got[1].data, /Subject: \[fail2ban\] sshd: ban 203\.0\.113\.6/);
  assert.match(got[0].data, /Failed password for root from 203\.0\.113\.5 port 22 ssh2/);
  assert.ok(sent[0].mail, 'the output carries what the server answered');
});

test('a wrong password reaches Catch with advice; the mail is kept for a retry', async () => {
  plain.received.length = 0;
  const { caught, mail } = await load(plain.port, {}, 'wrong');
  mail.receive(ban('203.0.113.8'));
  await waitFor(() => caught.length >= 1, 'the failure at Catch', 10000);
  assert.match((caught[0].error as { message: string }).message, /mail not sent, will retry: 127\.0\.0\.1:\d+: login refused .*check the user and password/);
  assert.equal(plain.received.length, 0);
});

test('STARTTLS to a server with a self-signed certificate: refused by default with advice, sent when allowed', async () => {
  tls.received.length = 0;
  const strict = await load(tls.port, { starttls: 'require' }, 's3cret');
  strict.mail.receive(ban('198.51.100.1'));
  await waitFor(() => strict.caught.length >= 1, 'the certificate refusal at Catch', 10000);
  assert.match((strict.caught[0].error as { message: string }).message, /certificate is not trusted .*accept a self-signed certificate/);
  assert.equal(tls.received.length, 0);
  await helper.unload();

  const relaxed = await load(tls.port, { starttls: 'require', allowSelfSigned: true }, 's3cret');
  relaxed.mail.receive(ban('198.51.100.2'));
  await waitFor(() => tls.received.length === 1, 'the mail over STARTTLS', 10000);
  assert.equal(tls.received[0].secure, true, 'the session was encrypted');
  assert.equal(tls.received[0].user, 'alerts');
});
