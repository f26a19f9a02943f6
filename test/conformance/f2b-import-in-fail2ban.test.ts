/**
 * f2b-import against fail2ban's own view of a configuration: Debian's /etc/fail2ban as shipped, and with a
 * jail.local, imported by the CLI; the flow must hold exactly the jails `fail2ban-client -d` (from the same
 * unpacked package) starts, with its effective values; and it must run in Node-RED with --backend dry-run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseDuration } from '../../lib/duration';
import { loadFilterFile, parseFilterOptions } from '../../lib/filter';
import { expandPath } from '../../lib/tail';
import { unpackFail2ban } from '../support/fail2ban-corpus';
import { DEBIAN_CONFIG, fail2banView, runFlow, runImport, scratch, stageDebianConfig, type Fail2banJail } from '../support/f2b-import';

type Node = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

function unavailable(): string | false {
  if (spawnSync('python3', ['--version']).error) return 'python3 is not installed';
  return unpackFail2ban() ?? false;
}
const skip = unavailable();
if (skip) console.log(`# SKIPPED: fail2ban's configuration cannot be read by fail2ban itself: ${skip}`);

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** fail2ban's action names and the backend each becomes. */
const BACKEND_OF: Record<string, string> = { 'iptables-multiport': 'iptables', 'nftables-multiport': 'nftables', 'nftables-allports': 'nftables', 'iptables-allports': 'iptables' };
const MAIL_ACTION = /^(mail|sendmail)/;

/** The nodes of one jail's row, by type, found by following the wires from its log-tail. */
function rows(flow: Node[]): Map<string, Record<string, Node>> {
  const byId = new Map(flow.map((n) => [n.id, n]));
  const out = new Map<string, Record<string, Node>>();
  for (const tail of flow.filter((n) => n.type === 'log-tail')) {
    const row: Record<string, Node> = { 'log-tail': tail };
    let next = tail.wires?.[0]?.[0];
    while (next) {
      const n = byId.get(next)!;
      row[n.type] = n;
      next = n.wires?.[0]?.[0];
    }
    out.set(String(row['threshold-window'].jail), row);
  }
  return out;
}

/** Holds one imported row to what fail2ban-client -d does for that jail. */
function sameAsFail2ban(jail: string, row: Record<string, Node>, theirs: Fail2banJail): void {
  const s = theirs.settings;
  const w = row['threshold-window'];
  assert.equal(Number(w.maxretry), s.maxretry, `${jail}: maxretry`);
  for (const key of ['findtime', 'bantime']) assert.equal(parseDuration(w[key], key), parseDuration(s[key], key), `${jail}: ${key}`);
  assert.equal(w.increment, s['bantime.increment'] ?? false, `${jail}: bantime.increment`);
  if (s['bantime.maxtime'] !== undefined) assert.equal(parseDuration(w.maxtime), parseDuration(s['bantime.maxtime']), `${jail}: bantime.maxtime`);
  assert.deepEqual(String(w.ignoreip).split(/\s+/).filter(Boolean), theirs.ignoreip, `${jail}: ignoreip`);
  // The files fail2ban follows are those the log-tail's paths name (globs expanded).
  const tail = row['log-tail'];
  if (tail.source === 'journal') assert.deepEqual([tail.journalMatch], theirs.journalmatch, `${jail}: journalmatch`);
  else assert.deepEqual(String(tail.paths).split('\n').flatMap((p) => expandPath(p)).sort(), [...theirs.logpaths].sort(), `${jail}: logpath`);
  // The filter file with the options given finds what fail2ban's filter finds.
  const match = row['failregex-match'];
  const filter = loadFilterFile(String(match.filterFile), parseFilterOptions(String(match.filterOptions)));
  assert.deepEqual(filter.failregex, theirs.failregex, `${jail}: failregex of ${match.filterFile}[${match.filterOptions}]`);
  // The first ban action is the firewall-ban: backend, ports (numbers, as the C library resolves names), protocol.
  const ban = row['firewall-ban'];
  const firewall = theirs.actions.find((a) => !MAIL_ACTION.test(a.name))!;
  // fail2ban names a second instance of an action file after its name option (iptables-multiport-tcp).
  const file = Object.keys(BACKEND_OF).find((f) => firewall.name === f || firewall.name === `${f}-${firewall.options.name?.split('-').pop()}`);
  assert.equal(ban.backend, file ? BACKEND_OF[file] : 'fail2ban-action', `${jail}: backend of ${firewall.name}`);
  const everyPort = firewall.name.endsWith('allports');
  assert.deepEqual(ban.ports === '' ? [] : String(ban.ports).split(','), everyPort ? [] : firewall.ports, `${jail}: ports of ${firewall.options.port}`);
  assert.equal(ban.protocol, firewall.options.protocol, `${jail}: protocol`);
  assert.equal(ban.jail, jail);
  const mail = theirs.actions.find((a) => MAIL_ACTION.test(a.name));
  if (mail) {
    assert.ok(row['mail-notify'], `${jail}: ${mail.name} has a mail-notify`);
    assert.equal(row['mail-notify'].to, mail.options.dest, `${jail}: mail dest`);
    assert.equal(row['mail-notify'].from, mail.options.sender, `${jail}: mail sender`);
    assert.equal(row['mail-notify'].whois, mail.name.includes('whois'), `${jail}: whois`);
  } else assert.equal(row['mail-notify'], undefined, `${jail}: no mail action, no mail-notify`);
}

test("Debian's configuration as shipped: the one jail fail2ban starts (sshd), with its values", { skip }, () => {
  const run = runImport(['--from', DEBIAN_CONFIG]);
  assert.equal(run.status, 0, run.stderr);
  const flow = JSON.parse(run.stdout) as Node[];
  const theirs = fail2banView(DEBIAN_CONFIG);
  assert.deepEqual([...rows(flow).keys()], theirs.order);
  const row = rows(flow).get('sshd')!;
  sameAsFail2ban('sshd', row, theirs.jails.sshd);
  assert.equal(row['firewall-ban'].backend, 'iptables');
  assert.equal(row['firewall-ban'].ports, '22');
  assert.match(run.stderr, /^\[sshd\] \(jail\.conf, jail\.d\/defaults-debian\.conf\)$/m);
  assert.match(run.stderr, /maxmatches = 5: threshold-window keeps/);
  for (const n of flow.filter((x) => x.type === 'comment')) assert.match(String(n.name), /^\[sshd\] from jail\.conf, jail\.d\/defaults-debian\.conf$/);
});

test("Debian's configuration with a jail.local: exactly the jails fail2ban-client -d starts, with fail2ban's effective values; runs in Node-RED with --backend dry-run", { skip, timeout: 120000 }, async () => {
  const work = scratch('f2b-import-');
  cleanups.push(work.remove);
  const logs = join(work.dir, 'log');
  mkdirSync(logs);
  for (const f of ['auth.log', 'mail.log', 'fail2ban.log', 'nginx-error.log', 'apache-error.log', 'nsd.log']) writeFileSync(join(logs, f), '');
  const cfg = stageDebianConfig(work.dir, {
    // Debian's own hook for local paths (paths-debian.conf includes it): the logs live in the scratch directory.
    'paths-overrides.local': `[DEFAULT]\nsyslog_authpriv = ${logs}/auth.log\nsyslog_mail = ${logs}/mail.log\n`,
    'jail.local': `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports
destemail = admin@example.org
sender = fail2ban@example.org
bantime.increment = true
bantime.maxtime = 1w

[sshd]
mode = aggressive
maxretry = 3
ignoreip = 192.0.2.0/24 198.51.100.7

[postfix]
enabled = true

[recidive]
enabled = true
logpath = ${logs}/fail2ban.log

[dovecot]
enabled = true
action = %(action_mwl)s

[nsd]
enabled = true
logpath = ${logs}/nsd.log

[nginx-http-auth]
enabled = true
banaction = iptables-multiport
port = http,https,8080
logpath = ${logs}/nginx-error.log

[apache-auth]
enabled = true
logpath = ${logs}/apache-error.log
action = %(action_)s
         cloudflare[cfuser="cf@example.org", cftoken="not-a-token"]
`,
  });
  const started = Date.now();
  const run = runImport(['--from', cfg]);
  const took = Date.now() - started;
  assert.equal(run.status, 0, run.stderr);
  const flow = JSON.parse(run.stdout) as Node[];
  const theirs = fail2banView(cfg);
  const ours = rows(flow);
  assert.deepEqual([...ours.keys()], theirs.order, 'the enabled jails, in fail2ban order');
  assert.deepEqual(theirs.order, ['sshd', 'apache-auth', 'nginx-http-auth', 'postfix', 'dovecot', 'nsd', 'recidive']);
  for (const jail of theirs.order) sameAsFail2ban(jail, ours.get(jail)!, theirs.jails[jail]);
  // What the jail.local chose, seen in the flow as well as in fail2ban's view.
  assert.equal(ours.get('nginx-http-auth')!['firewall-ban'].backend, 'iptables');
  assert.equal(ours.get('nginx-http-auth')!['firewall-ban'].ports, '80,443,8080');
  assert.equal(ours.get('recidive')!['firewall-ban'].ports, '');
  // nsd bans tcp and udp through two actions; the jail's one firewall-ban carries the first, the report names the second.
  assert.deepEqual(theirs.jails.nsd.actions.map((a) => a.options.protocol), ['tcp', 'udp']);
  assert.equal(ours.get('nsd')!['firewall-ban'].setName, `f2b-${theirs.jails.nsd.actions[0].options.name}`);
  assert.match(run.stderr, /^  NOT CARRIED action nftables-multiport = nftables-multiport\[port="53", protocol="tcp", chain="<known\/chain>"\]\[name=nsd-udp, protocol="udp"\]: a second ban action/m);
  assert.equal(ours.get('sshd')!['failregex-match'].filterOptions, 'mode=aggressive');
  assert.equal(ours.get('dovecot')!['mail-notify'].body, '', 'mwl: the default body, with the log lines');
  // One mail-server for every mail-notify; the unsupported cloudflare action is named in the report.
  const servers = flow.filter((n) => n.type === 'mail-server');
  assert.equal(servers.length, 1);
  assert.deepEqual([servers[0].host, servers[0].port], ['localhost', '25']);
  assert.match(run.stderr, /^\[apache-auth\] .*\n(?:.*\n)*?  NOT CARRIED action cloudflare = cloudflare\[cfuser="cf@example\.org", cftoken="not-a-token"\]: a second ban action/m);
  assert.match(run.stderr, /7 jail\(s\) imported \(sshd, apache-auth, nginx-http-auth, postfix, dovecot, nsd, recidive\)/);
  // One row per jail, each under its comment, none overlapping.
  const ys = flow.filter((n) => n.type === 'log-tail').map((n) => Number(n.y));
  assert.equal(new Set(ys).size, ys.length);
  assert.equal(flow.filter((n) => n.type === 'comment').length, 7);
  console.log(`# imported ${ours.size} jails from ${cfg} in ${took} ms`);

  // --backend dry-run: the same flow, every firewall dry-run; Node-RED starts it with no error and no unknown type.
  const dry = runImport(['--from', cfg, '--backend', 'dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  const dryFlow = JSON.parse(dry.stdout) as Node[];
  assert.deepEqual(dryFlow.filter((n) => n.type === 'firewall-ban').map((n) => n.backend), Array(7).fill('dry-run'));
  const red = await runFlow(work.dir, dryFlow);
  cleanups.push(() => red.close());
  await new Promise((r) => setTimeout(r, 1500));
  assert.doesNotMatch(red.output(), /missing types|\[error\]/, red.output());
  assert.match(red.output(), /Started flows/);
  const deployed = (await (await fetch(`${red.base}/flows`)).json()) as Node[];
  assert.equal(deployed.length, dryFlow.length);
});
