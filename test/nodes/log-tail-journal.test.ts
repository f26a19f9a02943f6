/**
 * log-tail with source "journal" against a real journal file: systemd-journal-remote writes it from the
 * journal export format, and log-tail's journalctl reads it with --file.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { JournalFollower } from '../../lib/tail';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, startRuntime, waitFor, type Runtime } from '../support/red';

const REMOTE = ['/lib/systemd/systemd-journal-remote', '/usr/lib/systemd/systemd-journal-remote'].find((p) => existsSync(p));
const BOOT = '0123456789abcdef0123456789abcdef';

let rt: Runtime;
let seq = 0;
before(async () => {
  rt = await startRuntime();
});
afterEach(() => helper.unload());
after(() => rt.close());

interface Entry {
  unit: string;
  message: string;
  /** epoch ms */
  at: number;
}

/** Appends entries to `journal` through systemd-journal-remote (the export format, one entry per block). */
async function append(dir: string, journal: string, entries: Entry[]): Promise<void> {
  const text = entries
    .map((e) => {
      seq++;
      return [`__REALTIME_TIMESTAMP=${e.at * 1000}`, `__MONOTONIC_TIMESTAMP=${seq}`, `_BOOT_ID=${BOOT}`, `_HOSTNAME=box`, `_SYSTEMD_UNIT=${e.unit}`, `MESSAGE=${e.message}`, ''].join('\n');
    })
    .join('\n');
  const input = join(dir, `batch-${seq}.export`);
  writeFileSync(input, `${text}\n`);
  await new Promise<void>((resolve, reject) =>
    execFile(REMOTE!, [`--output=${journal}`, input], (err, _o, stderr) => (err ? reject(new Error(`systemd-journal-remote: ${stderr || err.message}`)) : resolve())),
  );
}

const sshd = (n: number, at: number): Entry => ({ unit: 'sshd.service', message: `Failed password for root from 192.0.2.${n} port 22 ssh2`, at });

test('journal: matches filter entries, msg.timestamp comes from the entry, new entries are followed, resume continues after the cursor', { skip: REMOTE ? false : 'systemd-journal-remote is not installed', timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(rt.userDir, 'journal-'));
  const journal = join(dir, 'remote.journal');
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  await append(dir, journal, [sshd(1, t0), { unit: 'cron.service', message: 'not for us', at: t0 + 1000 }, sshd(2, t0 + 2000)]);

  const flow = onTab([
    { id: 'tail', type: 'log-tail', source: 'journal', journalMatch: '_SYSTEMD_UNIT=sshd.service', journalPath: journal, start: 'beginning', resume: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  await helper.load(NODES, flow);
  let out: NodeMessage[] = [];
  helper.getNode('out').on('input', (m: NodeMessage) => out.push(m));
  await waitFor(() => out.length === 2, 'the two sshd entries', 10000);
  assert.deepEqual(out.map((m) => m.payload), [sshd(1, 0).message, sshd(2, 0).message]);
  assert.deepEqual(out.map((m) => m.timestamp), [t0, t0 + 2000]);
  assert.equal(out[0].topic, 'journal');

  // Followed: an entry appended now arrives.
  await append(dir, journal, [sshd(3, t0 + 3000)]);
  await waitFor(() => out.length === 3, 'the appended entry', 10000);
  assert.equal(out[2].payload, sshd(3, 0).message);

  // Stopped (redeploy / restart): entries written meanwhile arrive at the next start, none twice.
  await helper.unload();
  await append(dir, journal, [sshd(4, t0 + 4000), { unit: 'cron.service', message: 'still not for us', at: t0 + 4500 }, sshd(5, t0 + 5000)]);
  await helper.load(NODES, flow);
  out = [];
  helper.getNode('out').on('input', (m: NodeMessage) => out.push(m));
  await waitFor(() => out.length === 2, 'the entries written while stopped', 10000);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(out.map((m) => m.payload), [sshd(4, 0).message, sshd(5, 0).message]);
  assert.equal(out[1].timestamp, t0 + 5000);
});

test('journal: journalctl killed is started again after the last entry read; nothing lost, nothing twice', { skip: REMOTE ? false : 'systemd-journal-remote is not installed', timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(rt.userDir, 'journal-restart-'));
  const journal = join(dir, 'remote.journal');
  const t0 = Date.UTC(2026, 0, 3, 0, 0, 0);
  await append(dir, journal, [sshd(11, t0)]);
  const follower = new JournalFollower({ matches: ['_SYSTEMD_UNIT=sshd.service'], start: 'beginning', path: journal, restartMs: 200 });
  const got: string[] = [];
  const errors: string[] = [];
  follower.on('line', (m: string) => got.push(m));
  follower.on('error', (e: Error) => errors.push(e.message));
  follower.start();
  try {
    await waitFor(() => got.length === 1, 'the first entry', 10000);
    (follower as unknown as { child: ChildProcess }).child.kill('SIGKILL');
    await append(dir, journal, [sshd(12, t0 + 1000), sshd(13, t0 + 2000)]);
    await waitFor(() => got.length === 3, 'the entries written while journalctl was down', 10000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got, [sshd(11, 0).message, sshd(12, 0).message, sshd(13, 0).message]);
    assert.match(errors[0] ?? '', /journalctl stopped .*starting it again/);
  } finally {
    await follower.stop();
  }
});
