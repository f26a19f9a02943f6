/**
 * f2b-import (issue 15) as a user runs it: the classic shorewall three jails become the rows of
 * examples/shorewall-three-jails.json and ban what they should in a real Node-RED (dry-run, mail to a
 * loopback SMTP server); bad input ends with a message that says what to fix.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseDuration } from '../../lib/duration';
import { BUILTIN_FILTER_DIR } from '../../lib/filter';
import { unpackFail2ban } from '../support/fail2ban-corpus';
import { runFlow, runImport, scratch, stageDebianConfig } from '../support/f2b-import';
import { syslogDate, waitFor } from '../support/process';
import { startSmtp } from '../support/smtp';

type Node = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

const skip = unpackFail2ban() ?? false;
if (skip) console.log(`# SKIPPED: Debian's fail2ban configuration is not at hand: ${skip}`);

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'shorewall-three-jails.json');

/** A classic Debian jail.local of a mail and name server behind Shorewall, with its logs under `logs`. */
function shorewallConfig(dir: string, logs: string): string {
  const cfg = stageDebianConfig(dir, {
    'jail.local': `# Shorewall bans, a mail to root for each
[ssh-shorewall]
enabled  = true
filter   = sshd
action   = shorewall
           mail[name=SSH, dest=root@localhost, sender=fail2ban@localhost]
logpath  = ${logs}/auth.log
maxretry = 3

[greylisting-shorewall]
enabled  = true
filter   = postfix-greylist
action   = shorewall
           mail[name=Greylisting, dest=root@localhost, sender=fail2ban@localhost]
logpath  = ${logs}/mail.log
maxretry = 5
findtime = 300
bantime  = 60000

[named-shorewall]
enabled  = true
filter   = named-refused
action   = shorewall
           mail[name=Named, dest=root@localhost, sender=fail2ban@localhost]
logpath  = ${logs}/named/security.log
maxretry = 2
`,
  });
  // The greylisting filter is not in fail2ban's filter.d: the admin added this package's, with the common.conf it includes.
  const filter = readFileSync(join(BUILTIN_FILTER_DIR, 'postfix-greylist.conf'), 'utf8');
  assert.match(filter, /^before = common\.conf$/m);
  writeFileSync(join(cfg, 'filter.d', 'postfix-greylist.conf'), filter.replace(/^before = common\.conf$/m, 'before = node-red-common.conf'));
  copyFileSync(join(BUILTIN_FILTER_DIR, 'common.conf'), join(cfg, 'filter.d', 'node-red-common.conf'));
  mkdirSync(join(logs, 'named'), { recursive: true });
  for (const f of ['auth.log', 'mail.log', 'named/security.log']) writeFileSync(join(logs, f), '');
  return cfg;
}

const JAILS = ['ssh-shorewall', 'greylisting-shorewall', 'named-shorewall'];

test('the classic shorewall jails: the counting, ban times, backend and mail of examples/shorewall-three-jails.json; failures appended to their logs ban the right addresses (dry-run)', { skip, timeout: 120000 }, async () => {
  const work = scratch('f2b-import-sw-');
  cleanups.push(work.remove);
  const logs = join(work.dir, 'log');
  const cfg = shorewallConfig(work.dir, logs);

  const run = runImport(['--from', cfg, '--only', JAILS.join(',')]);
  assert.equal(run.status, 0, run.stderr);
  const flow = JSON.parse(run.stdout) as Node[];
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Node[];
  const ofType = (f: Node[], type: string) => f.filter((n) => n.type === type);
  const seconds = (v: unknown) => parseDuration(v);
  const windows = ofType(flow, 'threshold-window');
  assert.deepEqual(windows.map((w) => w.jail), JAILS);
  assert.deepEqual(
    windows.map((w) => [Number(w.maxretry), seconds(w.findtime), seconds(w.bantime), w.increment]),
    ofType(example, 'threshold-window').map((w) => [Number(w.maxretry), seconds(w.findtime), seconds(w.bantime), w.increment]),
  );
  const bans = ofType(flow, 'firewall-ban');
  assert.deepEqual(
    bans.map((b) => [b.backend, b.ports, b.protocol, seconds(b.bantime)]),
    ofType(example, 'firewall-ban').map((b) => [b.backend, b.ports, b.protocol, seconds(b.bantime)]),
  );
  assert.deepEqual(ofType(flow, 'failregex-match').map((m) => m.filterFile), ['sshd', 'postfix-greylist', 'named-refused'].map((f) => join(cfg, 'filter.d', `${f}.conf`)));
  assert.deepEqual(ofType(flow, 'log-tail').map((t) => t.paths), ['auth.log', 'mail.log', 'named/security.log'].map((f) => join(logs, f)));
  const mailOf = (f: Node[]) => ofType(f, 'mail-notify').map((m) => [m.to, m.from, m.whois, m.skipRestored]);
  assert.deepEqual(mailOf(flow), mailOf(example));
  // Bans only are mailed, through one mail-server on localhost:25.
  assert.deepEqual(ofType(flow, 'switch').map((s) => s.rules), ofType(example, 'switch').map((s) => s.rules));
  const server = (f: Node[]) => ofType(f, 'mail-server').map((s) => [s.host, String(s.port), s.secure, s.starttls]);
  assert.deepEqual(server(flow), server(example));
  assert.ok(ofType(flow, 'mail-notify').every((m) => m.server === ofType(flow, 'mail-server')[0].id));

  // The same with --backend dry-run, its mail to a loopback SMTP server, running in Node-RED.
  const dry = runImport(['--from', cfg, '--only', JAILS.join(','), '--backend', 'dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  const dryFlow = JSON.parse(dry.stdout) as Node[];
  const smtp = await startSmtp();
  cleanups.push(() => smtp.close());
  Object.assign(ofType(dryFlow, 'mail-server')[0], { host: '127.0.0.1', port: String(smtp.port), starttls: 'never' });
  const red = await runFlow(work.dir, dryFlow);
  cleanups.push(() => red.close());
  assert.doesNotMatch(red.output(), /missing types|\[error\]/, red.output());
  await new Promise((r) => setTimeout(r, 1000)); // the followers open their files

  const now = syslogDate();
  const ssh = (ip: string) => `${now} mx sshd[4242]: Failed password for root from ${ip} port 50000 ssh2\n`;
  const grey = (ip: string) => `${now} mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[${ip}]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>\n`;
  const named = (ip: string) => `${now} ns1 named[811]: client ${ip}#4795: query 'example.org/NS/IN' denied\n`;
  appendFileSync(join(logs, 'auth.log'), ssh('203.0.113.10').repeat(3) + ssh('203.0.113.11').repeat(2));
  appendFileSync(join(logs, 'mail.log'), grey('198.51.100.20').repeat(5) + grey('198.51.100.21').repeat(4));
  appendFileSync(join(logs, 'named', 'security.log'), named('192.0.2.30').repeat(2) + named('192.0.2.31'));
  const banned = async (jail: string) =>
    ((await (await fetch(`${red.base}/firewall-ban/${encodeURIComponent(`f2bimp.${jail}.ban`)}/bans`)).json()) as Array<{ ip: string; jail: string }>).map((b) => `${b.jail} ${b.ip}`);
  const want = ['ssh-shorewall 203.0.113.10', 'greylisting-shorewall 198.51.100.20', 'named-shorewall 192.0.2.30'];
  let got: string[] = [];
  await waitFor(async () => {
    got = (await Promise.all(JAILS.map(banned))).flat();
    return got.length >= 3 && smtp.received.length >= 3;
  }, 'three bans and three mails', 15000).catch(() => undefined);
  assert.deepEqual(got, want, red.output());
  await new Promise((r) => setTimeout(r, 500)); // nothing more comes
  assert.deepEqual((await Promise.all(JAILS.map(banned))).flat(), want);
  assert.equal(smtp.received.length, 3, 'one mail per ban');
  for (const ip of ['203.0.113.10', '198.51.100.20', '192.0.2.30']) {
    const mail = smtp.received.find((m) => m.data.includes(ip));
    assert.ok(mail, `a mail about ${ip}`);
    assert.deepEqual([mail.from, mail.to], ['fail2ban@localhost', ['root@localhost']]);
  }
});

test('bad input: a missing directory, a directory without jail files, a syntax error in jail.local, an interpolation loop: exit 1 and what to fix (a jail fail2ban would skip is skipped and named)', { skip }, () => {
  const work = scratch('f2b-import-bad-');
  cleanups.push(work.remove);
  const missing = runImport(['--from', join(work.dir, 'nowhere')]);
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /nowhere: no such directory: give the directory that holds jail\.conf or jail\.local \(--from, default \/etc\/fail2ban\)/);

  mkdirSync(join(work.dir, 'empty'));
  const empty = runImport(['--from', join(work.dir, 'empty')]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /empty: holds no fail2ban configuration/);

  const syntax = stageDebianConfig(join(work.dir, 'syntax'), { 'jail.local': '[sshd]\nenabled = true\n\nmaxretry 3\n' });
  mkdirSync(join(work.dir, 'syntax'), { recursive: true });
  const bad = runImport(['--from', syntax]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /jail\.local: line 4: cannot read "maxretry 3": expected "name = value" or \[section\]/);

  const loop = stageDebianConfig(join(work.dir, 'loop'), { 'jail.local': '[DEFAULT]\nlogdir = %(logfile)s/..\nlogfile = %(logdir)s/auth.log\n\n[sshd]\nlogpath = %(logfile)s\n' });
  const looped = runImport(['--from', loop]);
  assert.equal(looped.status, 1);
  assert.match(looped.stderr, /\[sshd\] logpath: interpolation loop: logfile -> logdir -> logfile; make one of these values plain/);
  assert.match(looped.stderr, /jail\.local/);

  // As fail2ban: a jail that cannot be read is skipped and named; the others are imported.
  const oneLoop = stageDebianConfig(join(work.dir, 'one-loop'), {
    'jail.local': '[sshd]\nbackend = polling\nlogpath = %(sshd_log)s\n\n[looped]\nenabled = true\nfilter = sshd\nlogdir = %(logfile)s/..\nlogfile = %(logdir)s/auth.log\nlogpath = %(logfile)s\n',
  });
  const partly = runImport(['--from', oneLoop, '--backend', 'dry-run']);
  assert.equal(partly.status, 0, partly.stderr);
  assert.deepEqual((JSON.parse(partly.stdout) as Node[]).filter((n) => n.type === 'threshold-window').map((n) => n.jail), ['sshd']);
  assert.match(partly.stderr, /1 jail\(s\) imported \(sshd\), .*, 1 jail\(s\) skipped/);
  assert.match(partly.stderr, /^SKIPPED \[looped\], as fail2ban skips a jail it cannot read: .*interpolation loop: logfile -> logdir -> logfile/m);

  const wrong = runImport(['--from', loop, '--backend', 'iptabels']);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /--backend iptabels is not a firewall-ban backend: choose one of nftables, /);
});

test('a filter that is not in filter.d is named in the report, and that jail\'s failregex-match turns red in Node-RED; the other jails run', { skip, timeout: 60000 }, async () => {
  const work = scratch('f2b-import-nofilter-');
  cleanups.push(work.remove);
  const log = join(work.dir, 'app.log');
  writeFileSync(log, '');
  const cfg = stageDebianConfig(work.dir, { 'jail.local': `[webapp]\nenabled = true\nfilter = webapp-login\nport = http,https\nlogpath = ${log}\n\n[sshd]\nbackend = polling\nlogpath = ${log}\n` });
  const run = runImport(['--from', cfg, '--backend', 'dry-run']);
  assert.equal(run.status, 0, run.stderr);
  const filterFile = join(cfg, 'filter.d', 'webapp-login.conf');
  assert.match(run.stderr, new RegExp(`^  NOT CARRIED filter = webapp-login: ${filterFile.replace(/[.\\/]/g, '\\$&')} does not exist: put the filter there or fix "filter ="`, 'm'));
  const flow = JSON.parse(run.stdout) as Node[];
  const webapp = flow.find((n) => n.type === 'failregex-match' && n.filterFile === filterFile);
  assert.ok(webapp);
  assert.deepEqual(flow.filter((n) => n.type === 'firewall-ban').map((n) => [n.jail, n.ports]), [['sshd', '22'], ['webapp', '80,443']]);
  const red = await runFlow(work.dir, flow);
  cleanups.push(() => red.close());
  await waitFor(() => /\[error\] \[failregex-match:webapp-login\]/.test(red.output()), "the webapp jail's failregex-match error", 10000).catch(() => undefined);
  const errors = red.output().split('\n').filter((l) => l.includes('[error]'));
  assert.equal(errors.length, 1, red.output());
  assert.match(errors[0], /\[failregex-match:webapp-login\] .*webapp-login\.conf: not found/);
});
