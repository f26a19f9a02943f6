/** The ban ledger on disk: a snapshot and a journal of changes, read back as one. */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ledger, type BanRecord } from '../../lib/ledger';

function ban(i: number, until: number | null = 2_000_000_000_000): BanRecord {
  return { ip: `198.18.${i >> 8}.${i & 255}`, jail: 'sshd', start: 1_700_000_000_000, until, bantime: 600, failures: 3 };
}

function tempFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-ledger-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'bans-x.json');
}

function reread(file: string): Ledger {
  const l = new Ledger(file);
  l.load();
  return l;
}

test('bans and unbans after the first go to the journal; a restart reads snapshot and journal as one', (t) => {
  const file = tempFile(t);
  const l = new Ledger(file);
  l.load();
  l.put([ban(1)]);
  assert.ok(existsSync(file), 'the first ban writes the snapshot');
  const snapshot = readFileSync(file, 'utf8');
  l.put([ban(2), ban(3)]);
  l.remove([ban(1).ip]);
  l.put([{ ...ban(2), until: null, bantime: -1 }]);
  assert.equal(readFileSync(file, 'utf8'), snapshot, 'later changes leave the snapshot alone');
  assert.equal(readFileSync(`${file}.journal`, 'utf8').trim().split('\n').length, 4, 'one journal line per ban changed');
  const back = reread(file);
  assert.deepEqual(back.all().map((r) => r.ip).sort(), [ban(2).ip, ban(3).ip].sort());
  assert.equal(back.get(ban(2).ip)!.until, null, 'the last change of a ban wins');
});

test('the journal is folded into a new snapshot once it outgrows it', (t) => {
  const file = tempFile(t);
  const l = new Ledger(file);
  l.put(Array.from({ length: 50 }, (_, i) => ban(i)));
  const first = statSync(file).size;
  for (let i = 50; i < 2000; i++) l.put([ban(i)]);
  assert.ok(statSync(file).size > first, 'a new snapshot was written');
  const journal = existsSync(`${file}.journal`) ? statSync(`${file}.journal`).size : 0;
  assert.ok(journal <= Math.max(64 * 1024, statSync(file).size), `the journal stays within the snapshot's size (${journal} bytes)`);
  assert.equal(reread(file).size, 2000);
});

test('a crash between the new snapshot and the journal\'s deletion: the old journal read again changes nothing', (t) => {
  const file = tempFile(t);
  const l = new Ledger(file);
  l.put([ban(1)]);
  l.put([ban(2)]);
  l.remove([ban(1).ip]);
  l.put([ban(1, 2_100_000_000_000)]);
  const journal = readFileSync(`${file}.journal`, 'utf8');
  l.save();
  assert.ok(!existsSync(`${file}.journal`), 'save() deletes the journal');
  writeFileSync(`${file}.journal`, journal); // as if the deletion had not happened
  const back = reread(file);
  assert.deepEqual(back.all().sort((a, b) => a.ip.localeCompare(b.ip)), l.all().sort((a, b) => a.ip.localeCompare(b.ip)));
});

test('a journal line cut short by a crash is skipped, and the next change does not run into it', (t) => {
  const file = tempFile(t);
  const l = new Ledger(file);
  l.put([ban(1)]);
  l.put([ban(2)]);
  appendFileSync(`${file}.journal`, '{"p":{"ip":"198.18.0.3","jail":"ss');
  const back = reread(file);
  assert.deepEqual(back.all().map((r) => r.ip).sort(), [ban(1).ip, ban(2).ip]);
  back.put([ban(4)]);
  assert.deepEqual(reread(file).all().map((r) => r.ip).sort(), [ban(1).ip, ban(2).ip, ban(4).ip]);
});

test('a damaged snapshot is an error that names the file; discard() deletes snapshot and journal', (t) => {
  const file = tempFile(t);
  const l = new Ledger(file);
  l.put([ban(1)]);
  l.put([ban(2)]);
  l.discard();
  assert.ok(!existsSync(file) && !existsSync(`${file}.journal`));
  writeFileSync(file, '{"bans": [');
  assert.throws(() => reread(file), new RegExp(`ban ledger ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged`));
});
