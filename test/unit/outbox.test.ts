import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Outbox, renderMail } from '../../lib/mail';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('without a digest, each item is a mail of its own', async () => {
  const mails: number[][] = [];
  const box = new Outbox<number>({ digest: 0, maxPerHour: 60, maxQueued: 100, send: async (items) => void mails.push(items) });
  box.add(1);
  box.add(2);
  await wait(50);
  assert.deepEqual(mails, [[1], [2]]);
  box.close();
});

test('a digest collects the events of its window into one mail', async () => {
  const mails: number[][] = [];
  const box = new Outbox<number>({ digest: 0.2, maxPerHour: 60, maxQueued: 1000, send: async (items) => void mails.push(items) });
  for (let i = 0; i < 100; i++) box.add(i);
  await wait(400);
  assert.equal(mails.length, 1);
  assert.equal(mails[0].length, 100);
  box.close();
});

test('over the hourly cap, the rest waits and goes out as one mail', async () => {
  const mails: number[][] = [];
  const box = new Outbox<number>({ digest: 0, maxPerHour: 2, maxQueued: 1000, send: async (items) => void mails.push(items) });
  for (let i = 0; i < 10; i++) box.add(i);
  await wait(100);
  assert.equal(mails.length, 2, 'never more than the cap');
  assert.deepEqual(mails[0], [0]);
  assert.deepEqual(mails[1], [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the last mail of the hour carries everything waiting');
  box.close();
});

test('a failed send is kept and tried again', async () => {
  let fail = 2;
  const mails: number[][] = [];
  const box = new Outbox<number>({
    digest: 0, maxPerHour: 60, maxQueued: 10, retryMs: 20,
    send: async (items) => {
      if (fail-- > 0) throw new Error('ECONNREFUSED');
      mails.push(items);
    },
  });
  const failures: string[] = [];
  box.on('failed', (err: Error) => failures.push(err.message));
  box.add(7);
  await wait(300);
  assert.deepEqual(failures, ['ECONNREFUSED', 'ECONNREFUSED']);
  assert.deepEqual(mails, [[7]]);
  assert.equal(box.queued, 0);
  box.close();
});

test('the default mail names the address, the jail, the time and the lines', () => {
  const mail = renderMail({
    payload: { event: 'ban', ip: '203.0.113.0/24', jail: 'sshd', bantime: 600, failures: 3, matches: ['line <1>', 'line 2'], backend: 'nftables' },
  });
  assert.equal(mail.subject, '[fail2ban] sshd: ban 203.0.113.0/24');
  assert.match(mail.text, /ban: 203\.0\.113\.0\/24 in jail sshd for 10m after 3 failures/);
  assert.match(mail.text, /  line <1>\n  line 2/);
  const custom = renderMail({ payload: { ip: '192.0.2.1', jail: 'x' } }, 'Ban {{payload.ip}}\nInjected: header', '{{payload.jail}}');
  assert.equal(custom.subject, 'Ban 192.0.2.1 Injected: header');
  assert.equal(custom.text, 'x');
});
