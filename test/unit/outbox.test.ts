import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { batchSize, Outbox, OutboxFile, type Batch } from '../../lib/mail';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('without a digest, each item is a mail of its own', async () => {
  const mails: number[][] = [];
  const box = new Outbox<number>({ digest: 0, maxPerHour: 60, maxQueued: 100, send: async (b) => void mails.push(b.items) });
  box.add(1);
  box.add(2);
  await wait(50);
  assert.deepEqual(mails, [[1], [2]]);
  await box.close();
});

test('a digest collects the events of its window into one mail', async () => {
  const mails: number[][] = [];
  const box = new Outbox<number>({ digest: 0.2, maxPerHour: 60, maxQueued: 1000, send: async (b) => void mails.push(b.items) });
  for (let i = 0; i < 100; i++) box.add(i);
  await wait(400);
  assert.equal(mails.length, 1);
  assert.equal(mails[0].length, 100);
  await box.close();
});

test('over the hourly cap, the rest waits and goes out as one mail', async () => {
  const mails: number[][] = [];
  const box = new Outbox<number>({ digest: 0, maxPerHour: 2, maxQueued: 1000, send: async (b) => void mails.push(b.items) });
  for (let i = 0; i < 10; i++) box.add(i);
  await wait(100);
  assert.equal(mails.length, 2, 'never more than the cap');
  assert.deepEqual(mails[0], [0]);
  assert.deepEqual(mails[1], [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the last mail of the hour carries everything waiting');
  await box.close();
});

test('a storm of 10,000 events: never more than maxPerHour mails in any hour, and every event accounted for', async () => {
  const hourMs = 300;
  const sends: Array<{ at: number; batch: Batch<number> }> = [];
  const box = new Outbox<number>({
    digest: 0, maxPerHour: 4, maxQueued: 1000, hourMs, keyOf: (n) => `jail${n % 3}\tban`,
    send: async (batch) => void sends.push({ at: Date.now(), batch }),
  });
  const overflow: number[] = [];
  box.on('overflow', (n: number) => overflow.push(n));
  // The storm lasts about two "hours".
  for (let i = 0; i < 10_000; i++) {
    box.add(i);
    if (i % 1000 === 999) await wait(60);
  }
  await wait(2 * hourMs + 100);
  await box.close();
  for (const s of sends) {
    const inWindow = sends.filter((o) => o.at > s.at - hourMs && o.at <= s.at).length;
    assert.ok(inWindow <= 4, `at most 4 mails in any window of ${hourMs} ms (saw ${inWindow})`);
  }
  assert.ok(sends.length >= 5, 'the storm is told over more than one hour');
  assert.equal(sends.reduce((a, s) => a + batchSize(s.batch), 0), 10_000, 'every event is in a mail, listed or counted');
  assert.equal(box.queued, 0);
  assert.ok(overflow.length >= 1 && overflow.length <= sends.length, `the overflow is reported once per spell, not per event (${overflow.length})`);
  const listed = sends.flatMap((s) => s.batch.items);
  assert.equal(new Set(listed).size, listed.length, 'no event is listed twice');
  assert.ok(sends.every((s) => s.batch.items.length <= 1000), 'a mail lists at most maxQueued events');
});

test('a failed send is kept and tried again with back-off; counted events survive the failure', async () => {
  let fail = 2;
  const mails: Array<Batch<number>> = [];
  const tries: number[] = [];
  const box = new Outbox<number>({
    digest: 0, maxPerHour: 60, maxQueued: 1, retryMs: 40, keyOf: () => 'k',
    send: async (batch) => {
      tries.push(Date.now());
      if (fail-- > 0) throw new Error('ECONNREFUSED');
      mails.push(batch);
    },
  });
  const failures: Array<[string, number]> = [];
  box.on('failed', (err: Error, _b: unknown, retryMs: number) => failures.push([err.message, retryMs]));
  box.add(7);
  box.add(8);
  box.add(9);
  assert.equal(box.queued, 3);
  await wait(400);
  assert.deepEqual(failures, [['ECONNREFUSED', 40], ['ECONNREFUSED', 80]], 'the delay doubles');
  assert.ok(tries[2] - tries[1] >= 75, 'the second retry waited longer');
  assert.deepEqual(mails, [{ items: [7], more: { k: 2 } }]);
  assert.equal(box.queued, 0);
  await box.close();
});

test('the queue saved to a file comes back after a restart, with the hour\'s count of mails', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = new OutboxFile<number>(join(dir, 'fail2ban', 'mail-x.json'), 20);
  let up = false;
  const mails: number[][] = [];
  const make = () => {
    const box = new Outbox<number>({
      digest: 0, maxPerHour: 3, maxQueued: 10, retryMs: 30, keyOf: () => 'k',
      send: async (b) => {
        if (!up) throw new Error('down');
        mails.push(b.items);
      },
    });
    box.on('change', () => file.saveSoon(() => box.snapshot()));
    return box;
  };
  const first = make();
  first.add(1);
  first.add(2);
  await wait(100);
  await first.close();
  file.flush();
  const saved = JSON.parse(readFileSync(file.file, 'utf8'));
  assert.deepEqual(saved.items, [1, 2]);

  up = true;
  const second = make();
  second.restore(file.load()!);
  assert.equal(second.queued, 2);
  await wait(150);
  assert.deepEqual(mails, [[1], [2]]);
  await second.close();
  file.flush();
  assert.equal(JSON.parse(readFileSync(file.file, 'utf8')).sent.length, 2, 'the mails of this hour are remembered');

  // After a restart the cap still counts the two mails sent: one left, so all waiting go in it.
  const third = make();
  third.restore(file.load()!);
  for (let i = 10; i < 15; i++) third.add(i);
  await wait(150);
  assert.deepEqual(mails.slice(2), [[10, 11, 12, 13, 14]]);
  await third.close();
  file.remove();
  assert.equal(existsSync(file.file), false);
});
