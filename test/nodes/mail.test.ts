import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, startRuntime, waitFor, type FlowNode, type Runtime } from '../support/red';

interface Received {
  from: string;
  to: string[];
  data: string;
  user?: string;
}

let rt: Runtime;
let server: SMTPServer;
let port = 0;
const received: Received[] = [];

before(async () => {
  rt = await startRuntime();
  server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === 's3cret') return cb(null, { user: auth.username });
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rt.close();
});
afterEach(() => helper.unload());

const ban = (ip: string) => ({
  topic: ip,
  payload: { event: 'ban', ip, jail: 'sshd', bantime: 600, until: Date.now() + 600_000, backend: 'dry-run', failures: 3, matches: [`Failed password for root from ${ip} port 22 ssh2`] },
});

function flow(): FlowNode[] {
  return [
    { id: 'smtp', type: 'mail-server', config: true, host: '127.0.0.1', port: String(port), secure: false, starttls: 'never', allowSelfSigned: false },
    { id: 'mail', type: 'mail-notify', server: 'smtp', to: 'admin@example.org', from: 'fail2ban@example.org', subject: '', body: '', digest: '0', maxPerHour: '60', skipRestored: true, wires: [['sent']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'sent', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
}

test('mail-notify sends one mail per ban event through a real SMTP server, with stored credentials', async () => {
  received.length = 0;
  await helper.load(NODES, onTab(flow()), { smtp: { user: 'alerts', password: 's3cret' } });
  const sent: NodeMessage[] = [];
  helper.getNode('sent').on('input', (m: NodeMessage) => sent.push(m));
  const mail = helper.getNode('mail');
  mail.receive(ban('203.0.113.5'));
  mail.receive(ban('203.0.113.6'));
  mail.receive({ payload: { event: 'restore', ip: '203.0.113.7', jail: 'sshd' } });
  await waitFor(() => received.length === 2 && sent.length === 2, 'two mails');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(received.length, 2, 'no mail for a restored ban');
  assert.deepEqual(received.map((r) => r.user), ['alerts', 'alerts']);
  assert.deepEqual(received[0].to, ['admin@example.org']);
  assert.match(received[0].data, /Subject: \[fail2ban\] sshd: ban 203\.0\.113\.5/);
  assert.match(received[1].data, /Subject: \[fail2ban\] sshd: ban 203\.0\.113\.6/);
  assert.match(received[0].data, /Failed password for root from 203\.0\.113\.5 port 22 ssh2/);
  assert.ok(sent[0].mail, 'the output carries what the server answered');
});

test('a wrong password turns the status red and reaches Catch; the mail is kept for a retry', async () => {
  received.length = 0;
  await helper.load(NODES, onTab(flow()), { smtp: { user: 'alerts', password: 'wrong' } });
  const caught: NodeMessage[] = [];
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push(m));
  helper.getNode('mail').receive(ban('203.0.113.8'));
  await waitFor(() => caught.length >= 1, 'the failure at Catch', 10000);
  assert.match((caught[0].error as { message: string }).message, /mail not sent, will retry: .*Invalid (login|username)/i);
  assert.equal(received.length, 0);
});
