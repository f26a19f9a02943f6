/**
 * The mail path under a storm: events per second into the outbox (kept as plain data), the time to
 * render a digest of 10,000 events and its size, and the time to save the outbox.
 */
import { mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { eventKey, Outbox, OutboxFile, renderDigest, renderMail, toMailEvent, type Batch, type MailEvent } from '../lib/mail';

const ban = (i: number) => ({
  topic: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  payload: { event: 'ban', ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, jail: i % 5 ? 'sshd' : 'nginx', bantime: 600, until: Date.now() + 600_000, failures: 5, matches: Array.from({ length: 5 }, (_, k) => `Nov 24 10:00:0${k} box sshd[4242]: Failed password for invalid user u${i} from 10.0.0.1 port 40000 ssh2`) },
});

async function main(): Promise<void> {
  const n = 100_000;
  let batches: Batch<MailEvent>[] = [];
  const box = new Outbox<MailEvent>({ digest: 3600, maxPerHour: 60, maxQueued: 1000, keyOf: eventKey, send: async (b) => void batches.push(b) });
  let start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) box.add(toMailEvent(ban(i)));
  let s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`outbox, events in (copy + queue or count): ${Math.round(n / s).toLocaleString('en-US')} per second (${n} in ${s.toFixed(2)} s), waiting ${box.queued}`);
  const snap = box.snapshot();
  await box.close();

  const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-'));
  try {
    const file = new OutboxFile<MailEvent>(join(dir, 'mail.json'));
    start = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) file.save(snap);
    s = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`outbox saved (1000 events in full, fsync): ${((s / 20) * 1000).toFixed(1)} ms per save, ${Math.round(statSync(file.file).size / 1024)} KiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  start = process.hrtime.bigint();
  const mail = renderDigest(snap.items, snap.more);
  s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`digest of ${n} events (1000 listed in the outbox, the rest counted): ${(s * 1000).toFixed(1)} ms, ${Math.round(mail.text.length / 1024)} KiB, ${mail.text.split('\n').length} lines`);

  const one = toMailEvent(ban(1)).msg;
  const m = 10_000;
  start = process.hrtime.bigint();
  for (let i = 0; i < m; i++) renderMail(one, '', '', { server: 'whois.example:43', text: 'netname: X\n'.repeat(200) });
  s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`single mail with a whois answer, rendered: ${Math.round(m / s).toLocaleString('en-US')} per second`);
  batches = [];
  console.log(`heap used: ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB`);
}

void main();
