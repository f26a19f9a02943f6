/**
 * log-tail with source "journal" against a real journal file: systemd-journal-remote writes it from the
 * journal export format, and log-tail's journalctl reads it with --file.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { JournalFollower } from '../../lib/tail';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';
import { FAIL2BAN_FILTERS, unpackFail2ban } from '../support/fail2ban-corpus';

const REMOTE = ['/lib/systemd/systemd-journal-remote', '/usr/lib/systemd/systemd-journal-remote'].find((p) => existsSync(p));
const BOOT = '0123456789abcdef0123456789abcdef';

/** fail2ban's own filter.d, from Debian's package unpacked (as the conformance tests unpack it); null without it. */
function fail2banFilters(): string | null {
  unpackFail2ban();
  return existsSync(join(FAIL2BAN_FILTERS, 'sshd.conf')) ? FAIL2BAN_FILTERS : null;
}

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
  /** _HOSTNAME (default box) */
  host?: string;
  /** SYSLOG_IDENTIFIER (none: journalLine falls back to _COMM) */
  ident?: string;
  /** _PID */
  pid?: number;
  /** more fields, e.g. SYSLOG_PID, _COMM, _STREAM_ID */
  fields?: Record<string, string>;
}

/** A field in the journal export format: FIELD=value, or (a value with a newline) FIELD, its length as 64-bit LE, the bytes. */
function exportField(name: string, value: string): Buffer {
  if (!value.includes('\n')) return Buffer.from(`${name}=${value}\n`);
  const data = Buffer.from(value);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(data.length));
  return Buffer.concat([Buffer.from(`${name}\n`), size, data, Buffer.from('\n')]);
}

/** Appends entries to `journal` through systemd-journal-remote (the export format, one entry per block). */
async function append(dir: string, journal: string, entries: Entry[]): Promise<void> {
  const blocks = entries.map((e) => {
    seq++;
    const fields: Array<[string, string]> = [['__REALTIME_TIMESTAMP', String(e.at * 1000)], ['__MONOTONIC_TIMESTAMP', String(seq)], ['_BOOT_ID', BOOT], ['_HOSTNAME', e.host ?? 'box'], ['_SYSTEMD_UNIT', e.unit]];
    if (e.ident) fields.push(['SYSLOG_IDENTIFIER', e.ident]);
    if (e.pid !== undefined) fields.push(['_PID', String(e.pid)]);
    fields.push(...Object.entries(e.fields ?? {}), ['MESSAGE', e.message]);
    return Buffer.concat([...fields.map(([k, v]) => exportField(k, v)), Buffer.from('\n')]);
  });
  const input = join(dir, `batch-${seq}.export`);
  writeFileSync(input, Buffer.concat(blocks));
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(REMOTE!, [`--output=${journal}`, input], (err, _o, stderr) => (err ? reject(new Error(`systemd-journal-remote: ${stderr || err.message}`)) : resolve())),
    );
  } finally {
    rmSync(input, { force: true });
  }
}

const sshd = (n: number, at: number): Entry => ({ unit: 'sshd.service', ident: 'sshd', pid: 700 + n, message: `Failed password for root from 192.0.2.${n} port 22 ssh2`, at });
/** The line log-tail sends for sshd(n). */
const sshdLine = (n: number) => `box sshd[${700 + n}]: ${sshd(n, 0).message}`;

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
  assert.deepEqual(out.map((m) => m.payload), [sshdLine(1), sshdLine(2)]);
  assert.deepEqual(out.map((m) => m.timestamp), [t0, t0 + 2000]);
  assert.equal(out[0].topic, 'journal');
  // The entry's fields, as journalctl gives them.
  const fields = out[0].journal as Record<string, unknown>;
  assert.equal(fields._SYSTEMD_UNIT, 'sshd.service');
  assert.equal(fields.MESSAGE, sshd(1, 0).message);
  assert.equal(fields._HOSTNAME, 'box');
  assert.equal(typeof fields.__CURSOR, 'string');

  // Followed: an entry appended now arrives.
  await append(dir, journal, [sshd(3, t0 + 3000)]);
  await waitFor(() => out.length === 3, 'the appended entry', 10000);
  assert.equal(out[2].payload, sshdLine(3));

  // Stopped (redeploy / restart): entries written meanwhile arrive at the next start, none twice.
  await helper.unload();
  await append(dir, journal, [sshd(4, t0 + 4000), { unit: 'cron.service', message: 'still not for us', at: t0 + 4500 }, sshd(5, t0 + 5000)]);
  await helper.load(NODES, flow);
  out = [];
  helper.getNode('out').on('input', (m: NodeMessage) => out.push(m));
  await waitFor(() => out.length === 2, 'the entries written while stopped', 10000);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(out.map((m) => m.payload), [sshdLine(4), sshdLine(5)]);
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
    assert.deepEqual(got, [sshdLine(11), sshdLine(12), sshdLine(13)]);
    assert.match(errors[0] ?? '', /journalctl stopped .*starting it again/);
  } finally {
    await follower.stop();
  }
});

/** sshd, postfix and dovecot as they write to the journal (syslog(3): SYSLOG_IDENTIFIER, SYSLOG_PID, _PID). */
function daemonEntries(t0: number): Entry[] {
  return [
    { unit: 'sshd.service', host: 'gw', ident: 'sshd', pid: 4242, fields: { SYSLOG_PID: '4242', _COMM: 'sshd' }, message: 'Failed password for invalid user admin from 203.0.113.4 port 52211 ssh2', at: t0 },
    { unit: 'sshd.service', host: 'gw', ident: 'sshd', pid: 4243, fields: { SYSLOG_PID: '4243', _COMM: 'sshd' }, message: 'Accepted publickey for alice from 198.51.100.7 port 40000 ssh2: ED25519 SHA256:abc', at: t0 + 100 },
    { unit: 'postfix@-.service', host: 'mx', ident: 'postfix/smtpd', pid: 311, fields: { SYSLOG_PID: '311', _COMM: 'smtpd' }, message: 'NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>', at: t0 + 200 },
    { unit: 'dovecot.service', host: 'mail', ident: 'dovecot', pid: 811, fields: { SYSLOG_PID: '811', _COMM: 'imap-login' }, message: 'imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=203.0.113.11, lip=192.0.2.1, session=<a1b2>', at: t0 + 300 },
    // _COMM and _PID only (no SYSLOG_ fields): a journal line all the same.
    { unit: 'sshd.service', host: 'gw', fields: { _COMM: 'sshd' }, pid: 4250, message: 'Invalid user oracle from 203.0.113.6 port 40022', at: t0 + 400 },
  ];
}

test("journal: sshd, postfix and dovecot entries are read as fail2ban's systemd backend reads them; fail2ban's own filters (logtype=journal) and the built-in ones find the failures", { skip: REMOTE ? false : 'systemd-journal-remote is not installed', timeout: 60000 }, async (t) => {
  const dir = mkdtempSync(join(rt.userDir, 'journal-daemons-'));
  const journal = join(dir, 'remote.journal');
  const t0 = Date.UTC(2026, 0, 4, 5, 6, 7);
  await append(dir, journal, daemonEntries(t0));
  const f2b = fail2banFilters();
  if (!f2b) t.diagnostic("fail2ban's filter.d is not unpacked (no corpus, no get-corpus.sh): only the built-in filters are tried");

  const tail = { id: 'tail', type: 'log-tail', source: 'journal', journalMatch: '_SYSTEMD_UNIT=sshd.service _SYSTEMD_UNIT=postfix@-.service _SYSTEMD_UNIT=dovecot.service', journalPath: journal, start: 'beginning', resume: false, wires: [['lines']] as string[][] };
  const matchers: Array<{ id: string; filter: string; settings: Record<string, string> }> = [];
  for (const name of ['sshd', 'postfix', 'dovecot']) {
    matchers.push({ id: `builtin-${name}`, filter: name, settings: { filterSource: 'builtin', filterName: name, filterOptions: 'logtype=journal' } });
    if (f2b) matchers.push({ id: `fail2ban-${name}`, filter: name, settings: { filterSource: 'file', filterFile: join(f2b, `${name}.conf`), filterOptions: 'logtype=journal' } });
  }
  tail.wires[0].push(...matchers.map((m) => m.id));
  const flow = onTab([
    tail,
    { id: 'lines', type: 'helper' },
    ...matchers.flatMap((m) => [
      { id: m.id, type: 'failregex-match', ...m.settings, wires: [[`${m.id}-out`]] },
      { id: `${m.id}-out`, type: 'helper' },
    ]),
  ]);
  await helper.load(NODES, flow);
  const lines = received('lines');
  const found = new Map(matchers.map((m) => [m.id, received(`${m.id}-out`)]));
  await waitFor(() => lines.length === 5, 'the five entries', 10000);
  assert.deepEqual(lines.map((m) => m.payload), [
    'gw sshd[4242]: Failed password for invalid user admin from 203.0.113.4 port 52211 ssh2',
    'gw sshd[4243]: Accepted publickey for alice from 198.51.100.7 port 40000 ssh2: ED25519 SHA256:abc',
    'mx postfix/smtpd[311]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>',
    'mail dovecot[811]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=203.0.113.11, lip=192.0.2.1, session=<a1b2>',
    'gw sshd[4250]: Invalid user oracle from 203.0.113.6 port 40022',
  ]);
  assert.deepEqual(lines.map((m) => m.timestamp), [t0, t0 + 100, t0 + 200, t0 + 300, t0 + 400]);
  assert.deepEqual(lines.map((m) => (m.journal as Record<string, unknown>)._HOSTNAME), ['gw', 'gw', 'mx', 'mail', 'gw']);

  const expected: Record<string, Array<[string, number]>> = {
    sshd: [['203.0.113.4', t0], ['203.0.113.6', t0 + 400]],
    postfix: [['203.0.113.5', t0 + 200]],
    dovecot: [['203.0.113.11', t0 + 300]],
  };
  for (const m of matchers) {
    const want = expected[m.filter];
    const got = found.get(m.id)!;
    await waitFor(() => got.length >= want.length, `${m.id}: ${want.length} failures`, 10000).catch((e) => {
      throw new Error(`${e.message}; got ${JSON.stringify(got.map((g) => g.payload))}`);
    });
    await new Promise((r) => setTimeout(r, 200));
    const failures = got.map((g) => g.payload as { host: string; time: number; line: string });
    assert.deepEqual(failures.map((f) => [f.host, f.time]), want, m.id);
    // The failure carries the journal line, host name first.
    assert.ok(failures.every((f) => lines.some((l) => l.payload === f.line)), m.id);
  }
});

test('journal: a message over 4096 bytes is read whole; an entry over 64 KiB, or a line journald cut at LineMax, is dropped whole and counted, never matched in part', { skip: REMOTE ? false : 'systemd-journal-remote is not installed', timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(rt.userDir, 'journal-long-'));
  const journal = join(dir, 'remote.journal');
  const t0 = Date.UTC(2026, 0, 5, 0, 0, 0);
  const ssh = (message: string, at: number, fields?: Record<string, string>): Entry => ({ unit: 'sshd.service', ident: 'sshd', pid: 900, message, at, fields });
  // 5000 bytes: journalctl -o json gives null for it without --all.
  const long = `Invalid user ${'u'.repeat(5000)} from 203.0.113.20 port 1`;
  // Over 64 KiB, with a forged failure at its end.
  const huge = `Invalid user ${'v'.repeat(70 * 1024)} Failed password for root from 203.0.113.21 port 1 ssh2`;
  // A line of a stdout stream journald cut in two: the second piece alone would read as a failure.
  const stream = { _STREAM_ID: 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', _TRANSPORT: 'stdout' };
  await append(dir, journal, [
    ssh(long, t0),
    ssh(huge, t0 + 1000),
    ssh(`x${'w'.repeat(100)}`, t0 + 2000, { ...stream, _LINE_BREAK: 'line-max' }),
    ssh('Failed password for root from 203.0.113.22 port 1 ssh2', t0 + 2001, stream),
    ssh('Failed password for root from 203.0.113.23 port 1 ssh2', t0 + 3000, stream),
    // A newline in the message stays inside the line (as \n): no second line starts with the forged text.
    ssh('Invalid user x\nFailed password for root from 203.0.113.24 port 1 ssh2 from 203.0.113.25 port 2', t0 + 4000),
  ]);
  const flow = onTab([
    { id: 'tail', type: 'log-tail', source: 'journal', journalMatch: '_SYSTEMD_UNIT=sshd.service', journalPath: journal, start: 'beginning', resume: false, wires: [['lines', 'match']] },
    { id: 'lines', type: 'helper' },
    { id: 'match', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', filterOptions: 'logtype=journal', wires: [['failures']] },
    { id: 'failures', type: 'helper' },
    { id: 'watcher', type: 'status', scope: ['tail'], wires: [['statuses']] },
    { id: 'statuses', type: 'helper' },
  ]);
  await helper.load(NODES, flow);
  const lines = received('lines');
  const failures = received('failures');
  const statuses = received('statuses');
  await waitFor(() => lines.length === 3, 'the three whole lines', 10000);
  await waitFor(() => failures.length === 3, 'their failures', 10000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(lines.length, 3);
  assert.equal(lines[0].payload, `box sshd[900]: ${long}`);
  assert.equal(lines[1].payload, 'box sshd[900]: Failed password for root from 203.0.113.23 port 1 ssh2');
  assert.equal(lines[2].payload, 'box sshd[900]: Invalid user x\\nFailed password for root from 203.0.113.24 port 1 ssh2 from 203.0.113.25 port 2');
  assert.deepEqual(failures.map((f) => (f.payload as { host: string }).host), ['203.0.113.20', '203.0.113.23', '203.0.113.25']);
  await waitFor(() => statuses.some((m) => /3 dropped/.test(String((m.status as { text: string }).text))), 'the dropped entries in the status', 5000).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(statuses.map((m) => m.status))}`);
  });
});
