/**
 * Runs inside the server namespace (see sshd-attack.test.ts). A real OpenSSH sshd, a real Node-RED
 * running examples/sshd-jail-nftables.json on this namespace's nftables, and a real SMTP server; real
 * `ssh` (with sshpass) and, for user names OpenSSH's client refuses to send, paramiko, run in the
 * attacker's and the friend's namespaces. One scenario per run:
 *
 *   attack     wrong passwords and an unknown user: banned at the third failure, the friend still logs
 *              in with a key, the admin gets a mail, the ban ends after bantime
 *   ipv6       the same over IPv6, from an address in the server's own /64: that address alone is banned
 *   injection  user names that carry another address, control characters or a newline: only the
 *              attacker's own address is ever banned
 *   lockout    failures from ignoreip and from this machine's own addresses (real logins and forged
 *              lines), bans of them by hand: none lands; the attacker is still banned (the jail works)
 *
 * sshd logs to stderr (-e); this script plays syslog: each message sshd writes (ended by "\r\n") goes to
 * the log file behind a syslog header, as rsyslog writes auth.log. On stderr sshd leaves tabs, newlines
 * and carriage returns in user names raw (vis VIS_SAFE), where towards syslog it writes them C-style
 * (VIS_CSTYLE, a newline as "\n"); the stand-in writes them as sshd writes them to syslog. The injection
 * scenario also appends lines with the raw newline, as a daemon that escapes nothing would write them.
 *
 * Usage: node sshd-lab-in-netns.js JSON  ({scenario, server, attacker, friend}: see Args)
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elementsOf } from '../../lib/firewall';
import { connectCommand } from '../support/netns';
import { freePort, installPackage, spawnNodeRed, stopAndWait, syslogDate, waitFor, writeSettings, type NodeRedProcess } from '../support/process';
import { startSmtp, type Smtp } from '../support/smtp';

interface Peer {
  ns: string;
  address: string;
  address6: string;
  /** The server's address as this host reaches it. */
  peer: string;
}
interface Args {
  scenario: 'attack' | 'ipv6' | 'injection' | 'lockout';
  server: { address: string; address6: string };
  attacker: Peer;
  friend: Peer;
}

const args = JSON.parse(process.argv[2]) as Args;
const { attacker, friend } = args;
const root = join(__dirname, '..', '..', '..');
const BANTIME = 8;
const SET = 'f2b-sshd';

const dir = mkdtempSync(join(tmpdir(), 'f2b-sshd-lab-'));
const logFile = join(dir, 'auth.log');
const failuresFile = join(dir, 'failures.jsonl');
const children: ChildProcess[] = [];
let smtp: Smtp | null = null;

function log(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Runs a program (no shell), in another namespace when `ns` is given. */
function run(ns: string | null, argv: string[], timeoutMs = 20000): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  const [cmd, ...rest] = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
  return new Promise((resolve) => {
    execFile(cmd, rest, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr, killed: !!e?.killed });
    });
  });
}

// ---- sshd ------------------------------------------------------------------------------------------

const hostKey = join(dir, 'host_ed25519');
const clientKey = join(dir, 'friend_ed25519');

async function startSshd(): Promise<void> {
  for (const key of [hostKey, clientKey]) assert.equal((await run(null, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key])).code, 0, 'ssh-keygen');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  chmodSync(clientKey, 0o600);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'Port 22',
      'ListenAddress 0.0.0.0',
      'ListenAddress ::',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      // root may log in with the friend's key only; a password for root is always a failed password
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'LogLevel INFO',
      'MaxStartups 100',
      'MaxAuthTries 6',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory (Debian's package makes it at boot)
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(sshd);
  // syslog's part: one line per message, behind a syslog header.
  let pending = '';
  sshd.stderr!.setEncoding('utf8');
  sshd.stderr!.on('data', (chunk: string) => {
    pending += chunk;
    const messages = pending.split('\r\n');
    pending = messages.pop()!;
    for (const m of messages) appendFileSync(logFile, `${syslogDate()} lab sshd[${sshd.pid}]: ${m.replace(/[\t\n\r\b\x07]/g, (c) => CSTYLE[c])}\n`);
  });
  await waitFor(() => readFileSync(logFile, 'utf8').includes('Server listening on 0.0.0.0 port 22'), 'sshd to listen', 15000);
}

/** What sshd's vis(3) VIS_CSTYLE writes for the control characters VIS_SAFE leaves raw. */
const CSTYLE: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\x07': '\\a' };

const sshOptions = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=3', '-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=3'];

type Outcome = 'denied' | 'unreachable';

/** One password login with OpenSSH's client; `config` is an ssh_config text (user names -l refuses). */
async function passwordLogin(ns: string | null, server: string, user: string, config?: string): Promise<Outcome> {
  const argv = ['sshpass', '-p', 'not-the-password', 'ssh', ...sshOptions, '-o', 'NumberOfPasswordPrompts=1', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password'];
  if (config !== undefined) {
    const file = join(dir, `ssh_config_${Date.now()}`);
    writeFileSync(file, config);
    argv.push('-F', file, server, 'true');
  } else {
    argv.push('-l', user, server, 'true');
  }
  const r = await run(ns, argv);
  if (r.code === 0) throw new Error(`a wrong password was accepted for ${JSON.stringify(user)}`);
  if (/Permission denied/.test(r.stderr)) return 'denied';
  return 'unreachable';
}

/** A password login with paramiko, which sends any user name (OpenSSH's client refuses newlines). */
async function paramikoLogin(ns: string, server: string, user: string): Promise<Outcome> {
  const script = [
    'import socket, sys, paramiko',
    'sock = socket.create_connection((sys.argv[1], 22), timeout=4)',
    't = paramiko.Transport(sock)',
    't.start_client(timeout=4)',
    'try:',
    '    t.auth_password(sys.argv[2], "not-the-password")',
    '    print("accepted")',
    'except paramiko.AuthenticationException:',
    '    print("denied")',
    't.close()',
  ].join('\n');
  const r = await run(ns, ['/usr/bin/python3', '-c', script, server, user]);
  if (r.stdout.includes('accepted')) throw new Error('paramiko: a wrong password was accepted');
  return r.stdout.includes('denied') ? 'denied' : 'unreachable';
}

/** The friend logs in with its key and runs a command. */
async function keyLogin(host: Peer): Promise<boolean> {
  const r = await run(host.ns, ['ssh', ...sshOptions, '-o', 'BatchMode=yes', '-o', 'PasswordAuthentication=no', '-i', clientKey, `root@${host.peer}`, 'echo', 'key-login-ok']);
  return r.code === 0 && r.stdout.includes('key-login-ok');
}

/** A plain TCP connection to port 22 from `host` (to `to`, its peer by default), 1.5 s to connect. */
async function tcpConnects(host: Peer, to = host.peer): Promise<boolean> {
  return (await run(null, connectCommand(host.ns, to, 22), 10000)).code === 0;
}

// ---- nftables, Node-RED -------------------------------------------------------------------------

async function banned(): Promise<string[]> {
  const out: string[] = [];
  for (const set of [SET, `${SET}-v6`]) {
    const r = await run(null, ['nft', '-j', 'list', 'set', 'inet', 'fail2ban', set]);
    if (r.code === 0) out.push(...elementsOf(r.stdout));
  }
  return out;
}

let base = '';
let red: NodeRedProcess | null = null;
const redOutput = () => red?.output() ?? '';

async function startRed(ignoreip: string, maxretry: number): Promise<void> {
  const userDir = join(dir, 'red');
  installPackage(userDir);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  writeSettings(userDir, port);
  // The example as a user imports it, pointed at this lab: its log, a short bantime, the lab's mail server.
  const flow = JSON.parse(readFileSync(join(root, 'examples', 'sshd-jail-nftables.json'), 'utf8')) as Array<Record<string, unknown>>;
  const byId = (id: string) => flow.find((n) => n.id === id)!;
  Object.assign(byId('f2bnft.tail'), { paths: logFile });
  Object.assign(byId('f2bnft.window'), { maxretry: String(maxretry), bantime: `${BANTIME}s`, ignoreip });
  Object.assign(byId('f2bnft.ban'), { bantime: `${BANTIME}s` });
  Object.assign(byId('f2bnft.smtp'), { host: '127.0.0.1', port: String(smtp!.port) });
  // What the filter reported, one JSON line per failure, through Node-RED's own file node.
  (byId('f2bnft.match').wires as string[][])[0].push('lab.failures');
  flow.push({ id: 'lab.failures', type: 'file', name: 'failures', filename: failuresFile, filenameType: 'str', appendNewline: true, createDir: false, overwriteFile: 'false', encoding: 'none', x: 470, y: 180, wires: [[]] });
  const tab = { id: 'f2bnft.tab', type: 'tab', label: 'sshd jail' };
  const nodes = [tab, ...flow.map((n) => (n.type === 'mail-server' ? n : { ...n, z: tab.id }))];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(nodes));
  red = await spawnNodeRed(userDir, base);
  children.push(red.child);
  await waitFor(async () => (await run(null, ['nft', 'list', 'set', 'inet', 'fail2ban', SET])).code === 0, 'the jail\'s nftables set', 15000);
  await waitFor(async () => (await fetch(`${base}/firewall-ban/f2bnft.ban/bans`)).ok, 'the firewall-ban node', 15000);
  await new Promise((r) => setTimeout(r, 500)); // log-tail opens the log at its end
}

/** The offenders failregex-match reported, in order. */
function failureHosts(): string[] {
  if (!existsSync(failuresFile)) return [];
  return readFileSync(failuresFile, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { host: string }).host);
}

async function bansListed(): Promise<string[]> {
  return ((await (await fetch(`${base}/firewall-ban/f2bnft.ban/bans`)).json()) as Array<{ ip: string }>).map((b) => b.ip);
}

// ---- scenarios ------------------------------------------------------------------------------------

async function attack(): Promise<void> {
  await startRed('127.0.0.1/8 ::1', 3);
  const a = attacker.peer;
  assert.equal(await passwordLogin(attacker.ns, a, 'root'), 'denied', 'failure 1: a wrong password for root');
  assert.equal(await passwordLogin(attacker.ns, a, 'root'), 'denied', 'failure 2: a wrong password for root');
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(failureHosts(), [attacker.address, attacker.address], 'the filter found two failures, from the attacker');
  assert.deepEqual(await banned(), [], 'two failures ban nobody');
  assert.ok(await tcpConnects(attacker), 'after two failures the attacker still connects');
  // An unknown user: sshd logs "Invalid user oracle" (failure 3) and then its failed password.
  const third = Date.now();
  await passwordLogin(attacker.ns, a, 'oracle');
  const took = await waitFor(async () => (await banned()).includes(attacker.address), 'the attacker in the nftables set', 10000);
  log(`attack: banned ${Date.now() - third} ms after the third failure's login began (${took} ms after it ended)`);
  assert.deepEqual(await banned(), [attacker.address], 'only the attacker is banned');
  assert.equal(await tcpConnects(attacker), false, 'banned: the attacker\'s next TCP connection is refused or times out');
  assert.equal(await passwordLogin(attacker.ns, a, 'root'), 'unreachable', 'banned: ssh cannot reach sshd');
  assert.ok(await keyLogin(friend), 'the friend, from a third address, still logs in with its key');

  await waitFor(() => smtp!.received.some((m) => m.data.includes(attacker.address)), 'the ban mail at the SMTP server', 15000);
  const mail = smtp!.received.find((m) => m.data.includes(attacker.address))!;
  assert.deepEqual(mail.to, ['root@localhost']);
  assert.match(mail.data, /sshd/, 'the mail names the jail');
  log(`attack: mail "${/^Subject: (.*)$/m.exec(mail.data)?.[1] ?? '?'}" received`);

  const lifted = await waitFor(async () => (await banned()).length === 0 && (await tcpConnects(attacker)), 'the ban to end', (BANTIME + 12) * 1000);
  log(`attack: ban lifted, attacker connects again (${lifted} ms after the checks above)`);
  assert.equal(await passwordLogin(attacker.ns, a, 'root'), 'denied', 'after bantime the attacker reaches sshd again');
  assert.deepEqual(await bansListed(), [], 'firewall-ban lists no ban');
}

async function ipv6(): Promise<void> {
  await startRed('127.0.0.1/8 ::1', 3);
  const a = args.server.address6;
  for (let i = 0; i < 3; i++) assert.equal(await passwordLogin(attacker.ns, a, 'root'), 'denied', `failure ${i + 1} over IPv6`);
  // The attacker shares the server's /64 (fd00:f2b::/64): threshold-window counts IPv6 offenders per /64,
  // but a /64 that holds this machine is not banned whole; the attacker's address is.
  await waitFor(async () => (await banned()).includes(attacker.address6), 'the attacker\'s IPv6 address in the nftables set', 10000);
  assert.deepEqual(await banned(), [attacker.address6], 'only the attacker\'s IPv6 address is banned, not its /64');
  assert.equal(await tcpConnects(attacker, a), false, 'banned: no TCP connection over IPv6');
  assert.equal(await tcpConnects(attacker), true, 'its IPv4 address was not banned');
  assert.ok(await keyLogin(friend), 'the friend still logs in with its key');
  await waitFor(() => smtp!.received.some((m) => m.data.includes(attacker.address6)), 'the ban mail at the SMTP server', 15000);
}

async function injection(): Promise<void> {
  // maxretry high enough that every hostile name gets logged before the ban: each unknown user is two failures.
  await startRed('127.0.0.1/8 ::1', 12);
  const a = attacker.peer;
  const framed = ['10.0.0.9', '10.0.0.8', '10.0.0.7', '10.0.0.6', '10.0.0.5'];
  const outcomes = [
    await passwordLogin(attacker.ns, a, 'root from 10.0.0.9 port 22'),
    await passwordLogin(attacker.ns, a, 'admin from 10.0.0.9 port 22 ssh2'),
    await passwordLogin(attacker.ns, a, '', `Host ${a}\n  User "guest from 10.0.0.7 port 22 ssh2\\t on eth0 ssh2 [preauth]"\n`),
    await passwordLogin(attacker.ns, a, '', `Host ${a}\n  User "x from 10.0.0.6\r port 22\x1b[2K"\n`),
    // A newline: the rest of the name becomes a line of its own, written as sshd would for 10.0.0.8.
    await paramikoLogin(attacker.ns, a, 'x\nFailed password for root from 10.0.0.8 port 22 ssh2'),
    await paramikoLogin(attacker.ns, a, 'y\nInvalid user z from 10.0.0.5'),
  ];
  assert.deepEqual(outcomes, Array(outcomes.length).fill('denied'), 'every hostile login reached sshd');
  const text = readFileSync(logFile, 'utf8');
  for (const ip of framed) assert.ok(text.includes(ip), `the log carries ${ip} (the test is not vacuous)`);
  assert.ok(text.includes('invalid user x\\nFailed password for root from 10.0.0.8 port 22 ssh2 from '), 'sshd wrote the newline in the user name as \\n');
  await waitFor(async () => (await banned()).includes(attacker.address), 'the attacker banned for the hostile logins', 10000);
  // A daemon that escapes nothing: the newline starts a physical line of the attacker's choosing.
  for (let i = 0; i < 3; i++) {
    appendFileSync(logFile, `${syslogDate()} lab sshd[4242]: Failed password for invalid user x\nFailed password for root from 10.0.0.4 port 22 ssh2 from ${attacker.address} port ${50000 + i} ssh2\n`);
    appendFileSync(logFile, `${syslogDate()} lab sshd[4242]: Invalid user x\n${syslogDate()} lab sshd[4242]: Failed password for root from 10.0.0.3 port 22 ssh2 from ${attacker.address} port ${50000 + i}\n`);
  }
  framed.push('10.0.0.4', '10.0.0.3');
  await waitFor(() => failureHosts().length >= 15, 'the failures of the raw lines', 5000);
  await new Promise((r) => setTimeout(r, 1000));
  const held = await banned();
  const listed = await bansListed();
  log(`injection: nftables holds ${JSON.stringify(held)}; firewall-ban lists ${JSON.stringify(listed)}`);
  const hosts = failureHosts();
  log(`injection: the filter reported ${hosts.length} failures, from ${JSON.stringify([...new Set(hosts)])}`);
  assert.deepEqual([...new Set(hosts)], [attacker.address], 'every failure the filter reported is the real client address');
  for (const ip of framed) {
    assert.ok(!held.includes(ip), `${ip}, written into a user name, is not in the firewall`);
    assert.ok(!listed.includes(ip), `${ip} is not listed as banned`);
  }
  assert.deepEqual(held, [attacker.address], 'the real client address is banned, and only it');
}

async function lockout(): Promise<void> {
  const self4 = args.server.address;
  const self6 = args.server.address6;
  await startRed(`127.0.0.1/8 ::1 ${friend.address}`, 3);
  // Real failed logins from this machine to itself, and from the friend's (ignoreip) address.
  for (const target of ['127.0.0.1', '::1', self4, self6]) {
    for (let i = 0; i < 3; i++) assert.equal(await passwordLogin(null, target, 'root'), 'denied', `login from this machine to ${target}`);
  }
  for (let i = 0; i < 4; i++) assert.equal(await passwordLogin(friend.ns, friend.peer, 'root'), 'denied', 'the friend mistypes its password');
  // Forged lines naming this machine in every spelling, and the ignoreip address.
  const forged = [self4, self6, `::ffff:${self4}`, '127.0.0.2', '::1', friend.address, friend.peer, `::ffff:${friend.address}`];
  for (const ip of forged) {
    for (let i = 0; i < 4; i++) appendFileSync(logFile, `${syslogDate()} lab sshd[4242]: Failed password for root from ${ip} port ${40000 + i} ssh2\n`);
  }
  // Bans by hand of this machine's own addresses and of a prefix that holds one are refused.
  for (const ip of [self4, self6, `${self4.replace(/\.\d+$/, '.0')}/24`, '127.0.0.1']) {
    const res = await fetch(`${base}/firewall-ban/f2bnft.ban/ban`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ip }) });
    const body = await res.text();
    assert.ok(!res.ok, `a ban by hand of ${ip} is refused (answered ${res.status} ${body})`);
    log(`lockout: ban by hand of ${ip}: ${res.status} ${body}`);
  }
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await banned(), [], 'neither this machine nor the ignoreip address is banned');
  assert.ok(await keyLogin(friend), 'the friend still logs in with its key');
  // The jail works: the attacker's three failures ban it.
  for (let i = 0; i < 3; i++) await passwordLogin(attacker.ns, attacker.peer, 'root');
  await waitFor(async () => (await banned()).includes(attacker.address), 'the attacker banned', 10000);
  assert.deepEqual(await banned(), [attacker.address], 'only the attacker is banned');
  assert.ok(await keyLogin(friend), 'the friend still logs in with its key');
  assert.equal(await passwordLogin(null, self4, 'root'), 'denied', 'this machine still reaches its own sshd');
}

async function main(): Promise<void> {
  writeFileSync(logFile, '');
  smtp = await startSmtp({ disabledCommands: ['STARTTLS'] }); // a plain local MTA
  await startSshd();
  await { attack, ipv6, injection, lockout }[args.scenario]();
  assert.ok(!/TypeError|ReferenceError|Uncaught/.test(redOutput()), redOutput());
  log(`${args.scenario}: all checks passed`);
}

main()
  .catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n--- log ---\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}\n--- Node-RED ---\n${redOutput()}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children.reverse()) await stopAndWait(c, 5000);
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit();
  });
