/**
 * f2b-client against a real Node-RED (issue 21): every command, the counters after a scripted attack
 * (equal to what the jail did), an unknown jail, hostile addresses, Node-RED not running; then with
 * adminAuth on: no token, a wrong token, a read-only user, an admin.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, installPackage, resolveNodeRed, spawnNodeRed, stopAndWait, syslogDate, waitFor, writeSettings } from '../support/process';

const CLI = join(__dirname, '..', '..', 'bin', 'f2b-client.js');

/** Runs a command on a pseudo-terminal, answers its Username: and Password: prompts, prints what it wrote. */
const PTY_DRIVER = `import os, pty, select, sys, time
user, password, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b''
def read_until(token, limit):
    global out
    end = time.time() + limit
    while token not in out and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
read_until(b'Username: ', 20)
os.write(fd, user.encode() + b'\\r')
read_until(b'Password: ', 20)
os.write(fd, password.encode() + b'\\r')
read_until(b'\\0', 20)
status = os.waitpid(pid, 0)[1]
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without blocking this process's event loop (a blocked loop would leave
 * fetch's kept-alive connections to Node-RED to go stale unnoticed).
 */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end();
  });
}

/** The environment without F2B_TOKEN and F2B_URL, plus `env`. */
function envWith(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  delete clean.F2B_TOKEN;
  delete clean.F2B_URL;
  return { ...clean, ...env };
}

/** Runs f2b-client with stdin not a terminal and no F2B_TOKEN but the one given. */
function client(url: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(process.execPath, [CLI, ...args], envWith({ F2B_URL: url, ...env }));
}

/** Runs f2b-client and expects exit 0; returns its stdout without the last newline. */
async function ok(url: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await client(url, args, env);
  assert.equal(r.status, 0, `f2b-client ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

/** A Node-RED with two jails: sshd (log-tail → failregex-match → threshold-window → firewall-ban) and manual (a firewall-ban alone). */
async function startJails(settingsExtra = '') {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-client-'));
  cleanups.push(() => rmSync(userDir, { recursive: true, force: true }));
  installPackage(userDir);
  const log = join(userDir, 'auth.log');
  writeFileSync(log, '');
  const port = await freePort();
  writeSettings(userDir, port, settingsExtra);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify([
    { id: 't', type: 'tab', label: 'jails' },
    { id: 'tail', type: 'log-tail', z: 't', paths: log, start: 'beginning', resume: false, wires: [['match']] },
    { id: 'match', type: 'failregex-match', z: 't', filterSource: 'builtin', filterName: 'sshd', wires: [['window']] },
    { id: 'window', type: 'threshold-window', z: 't', name: 'sshd', maxretry: '3', findtime: '10m', bantime: '10m', ignoreip: '127.0.0.1/8 ::1 198.51.100.9', wires: [['ban']] },
    // No name: its jail is that of the threshold-window wired to it.
    { id: 'ban', type: 'firewall-ban', z: 't', name: '', backend: 'dry-run', bantime: '10m', persist: false, wires: [[]] },
    { id: 'hand', type: 'firewall-ban', z: 't', jail: 'manual', name: 'by hand', backend: 'dry-run', bantime: '1h', persist: false, wires: [[]] },
  ]));
  const base = `http://127.0.0.1:${port}`;
  const { child } = await spawnNodeRed(userDir, base, { readyPath: settingsExtra ? '/auth/login' : '/settings' });
  cleanups.push(() => stopAndWait(child));
  return { base, log };
}

const failure = (ip: string, pid: number) => `${syslogDate()} box sshd[${pid}]: Failed password for root from ${ip} port 2222 ssh2\n`;

test('f2b-client without adminAuth: every command, the counters after an attack, unknown jail, hostile addresses, Node-RED not running', { timeout: 90000 }, async () => {
  const { base, log } = await startJails();
  const bans = async (id: string) => {
    const body = (await (await fetch(`${base}/firewall-ban/${id}/bans`)).json()) as unknown;
    assert.ok(Array.isArray(body), `the bans of ${id}: ${JSON.stringify(body)}`);
    return (body as Array<{ ip: string }>).map((b) => b.ip).sort();
  };

  // The attack: three failures of 203.0.113.7 (banned at the third), two of 203.0.113.8 (still counting),
  // one of an ignoreip address (not counted).
  let pid = 100;
  for (const ip of ['203.0.113.7', '203.0.113.8', '203.0.113.7', '198.51.100.9', '203.0.113.8', '203.0.113.7']) appendFileSync(log, failure(ip, pid++));
  const jailNow = async () => JSON.parse(await ok(base, ['--json', 'status', 'sshd'])) as Record<string, unknown>;
  await waitFor(async () => {
    const j = await jailNow();
    return j.totalFailed === 5 && j.currentlyBanned === 1;
  }, 'the attack counted and banned', 20000, 200);

  assert.equal(await ok(base, ['status']), 'Status\n|- Number of jail:\t2\n`- Jail list:\tmanual, sshd');
  assert.deepEqual(JSON.parse(await ok(base, ['status', '--json'])), { jails: ['manual', 'sshd'] });
  assert.equal(
    await ok(base, ['status', 'sshd']),
    [
      'Status for the jail: sshd',
      '|- Filter',
      '|  |- Currently failed:\t1',
      '|  |- Total failed:\t5',
      `|  \`- File list:\t${log}`,
      '`- Actions',
      '   |- Currently banned:\t1',
      '   |- Total banned:\t1',
      '   `- Banned IP list:\t203.0.113.7',
    ].join('\n'),
  );
  // The counters are what the jail's nodes did: the firewall-ban node holds exactly that ban.
  assert.deepEqual(await bans('ban'), ['203.0.113.7']);
  const json = await jailNow();
  assert.deepEqual([json.jail, json.currentlyFailed, json.totalFailed, json.currentlyBanned, json.totalBanned, json.banned, json.files], ['sshd', 1, 5, 1, 1, ['203.0.113.7'], [log]]);
  assert.equal((json.bans as Array<{ failures: number }>)[0].failures, 3);
  // A jail with no threshold-window: no filter counters of its own, no file list.
  assert.equal(await ok(base, ['status', 'manual']), 'Status for the jail: manual\n|- Filter\n|  |- Currently failed:\t0\n|  `- Total failed:\t0\n`- Actions\n   |- Currently banned:\t0\n   |- Total banned:\t0\n   `- Banned IP list:\t');

  // banip goes through the jail's firewall-ban node, with its bantime.
  assert.equal(await ok(base, ['set', 'sshd', 'banip', '203.0.113.20', '2001:db8::/64']), '2');
  assert.deepEqual(await bans('ban'), ['2001:db8::/64', '203.0.113.20', '203.0.113.7']);
  assert.deepEqual(await bans('hand'), []);
  const after2 = await jailNow();
  assert.deepEqual([after2.currentlyBanned, after2.totalBanned], [3, 3]);
  assert.equal(await ok(base, ['--bantime', '2h', 'set', 'manual', 'banip', '203.0.113.30']), '1');
  assert.deepEqual(await bans('hand'), ['203.0.113.30']);
  assert.equal(await ok(base, ['banned', '203.0.113.20', '203.0.113.30', '203.0.113.99']), "[['sshd'], ['manual'], []]");
  assert.deepEqual(JSON.parse(await ok(base, ['--json', 'banned', '203.0.113.20'])), { '203.0.113.20': ['sshd'] });
  const all = JSON.parse(await ok(base, ['--json', 'banned'])) as Record<string, string[]>;
  assert.deepEqual({ manual: all.manual, sshd: [...all.sshd].sort() }, { manual: ['203.0.113.30'], sshd: ['2001:db8::/64', '203.0.113.20', '203.0.113.7'] });
  assert.match(await ok(base, ['banned']), /^\[\{'manual': \['203\.0\.113\.30'\]\}, \{'sshd': \['203\.0\.113\.7', '(203\.0\.113\.20|2001:db8::\/64)', '(203\.0\.113\.20|2001:db8::\/64)'\]\}\]$/);

  // unbanip lifts in that jail only; unban in every jail; lifting what is not banned counts 0.
  assert.equal(await ok(base, ['set', 'manual', 'unbanip', '203.0.113.20']), '0');
  assert.equal(await ok(base, ['set', 'sshd', 'unbanip', '203.0.113.20']), '1');
  assert.equal(await ok(base, ['unban', '203.0.113.30', '2001:db8::/64', '203.0.113.99']), '2');
  assert.deepEqual(JSON.parse(await ok(base, ['--json', 'unban', '203.0.113.30'])), { action: 'unban', changed: [], count: 0 });
  assert.deepEqual(await bans('ban'), ['203.0.113.7']);
  assert.deepEqual(await bans('hand'), []);
  const end = await jailNow();
  assert.deepEqual([end.currentlyBanned, end.totalBanned, end.banned], [1, 3, ['203.0.113.7']]);

  // An unknown jail names the known ones, for reading and for changing.
  for (const args of [['status', 'nope'], ['set', 'nope', 'banip', '203.0.113.40']]) {
    const r = await client(base, args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, /jail "nope" does not exist; the jails are: manual, sshd/);
  }
  // Hostile or protected addresses: the whole request is refused, nothing is banned, nothing runs.
  const marker = join(tmpdir(), `f2b-client-pwned-${process.pid}`);
  for (const [ip, why] of [
    ['203.0.113.41;reboot', /not an IPv4\/IPv6 address/],
    [`$(touch ${marker})`, /not an IPv4\/IPv6 address/],
    ['203.0.113.42\n203.0.113.43', /not an IPv4\/IPv6 address/],
    ['-1', /not an IPv4\/IPv6 address/],
    ['198.51.100.9', /ignoreip of jail sshd/],
    ['127.0.0.1', /lock this machine out of itself/],
    ['10.0.0.0/4', /refused to ban/],
  ] as const) {
    const r = await client(base, ['set', 'sshd', 'banip', '203.0.113.44', '--', ip]);
    assert.equal(r.status, 1, `banip ${JSON.stringify(ip)}: ${r.stdout}`);
    assert.match(r.stderr, why, JSON.stringify(ip));
    const u = await client(base, ['unban', '--', ip]);
    if (why.source.includes('IPv4')) assert.equal(u.status, 1, `unban ${JSON.stringify(ip)}`);
  }
  assert.deepEqual(await bans('ban'), ['203.0.113.7']);
  assert.equal(existsSync(marker), false, 'no shell ran the argument');
  // Usage errors exit 2.
  assert.equal((await client(base, ['set', 'sshd', 'banip'])).status, 2);
  assert.equal((await client(base, ['frobnicate'])).status, 2);
  // Node-RED not running.
  const dead = `http://127.0.0.1:${await freePort()}`;
  const r = await client(dead, ['status']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`cannot reach Node-RED at ${dead.replace(/[.]/g, '\\.')} \\(connection refused\\): is it running\\?.*--url or F2B_URL`));
});

test('f2b-client with adminAuth: no token (not on a terminal), a wrong token, a read-only user, an admin', { timeout: 90000 }, async () => {
  // bcryptjs comes with Node-RED; the hash is of "secret".
  const bcrypt = require(require.resolve('bcryptjs', { paths: [resolveNodeRed('@node-red/editor-api/package.json')] })) as { hashSync(s: string, r: number): string };
  const hash = bcrypt.hashSync('secret', 4);
  const { base } = await startJails(`adminAuth: { type: 'credentials', users: [
    { username: 'admin', password: '${hash}', permissions: '*' },
    { username: 'viewer', password: '${hash}', permissions: 'read' } ] }`);
  const login = async (username: string) => {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: username === 'viewer' ? 'read' : '*', username, password: 'secret' }),
    });
    assert.equal(res.status, 200, `login of ${username}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const admin = await login('admin');
  const viewer = await login('viewer');

  // The endpoints: read needs firewall-ban.read, change needs firewall-ban.write.
  const call = async (token: string | null, body?: unknown) =>
    (await fetch(`${base}/firewall-ban/jails`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })).status;
  const change = { action: 'banip', jail: 'sshd', ips: ['203.0.113.50'] };
  assert.deepEqual([await call(null), await call(viewer), await call(admin)], [401, 200, 200]);
  // (Node-RED answers 401, not 403, to a user who lacks the permission.)
  assert.deepEqual([await call(null, change), await call(viewer, change), await call(admin, change)], [401, 401, 200]);

  // No token and stdin not a terminal: says to pass one.
  const none = await client(base, ['status']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /asks for a login \(adminAuth is on\): pass a token with --token or F2B_TOKEN/);
  // On a terminal it asks for a login, the password not echoed (a pseudo-terminal through Python's pty).
  if (existsSync('/usr/bin/python3')) {
    const dir = mkdtempSync(join(tmpdir(), 'f2b-client-tty-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'answer-login.py'), PTY_DRIVER);
    const asked = (password: string) => run('/usr/bin/python3', [join(dir, 'answer-login.py'), 'admin', password, process.execPath, CLI, 'status', 'sshd'], envWith({ F2B_URL: base }));
    const tty = await asked('secret');
    assert.equal(tty.status, 0, `${tty.stdout}\n${tty.stderr}`);
    assert.match(tty.stdout, /asks for a login[\s\S]*Username: [\s\S]*Password: [\s\S]*Status for the jail: sshd\r?\n\|- Filter/);
    assert.doesNotMatch(tty.stdout, /secret/, 'the password is not echoed');
    const wrong = await asked('guess');
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /login as "admin" at .* refused: check the user name and password/);
    assert.doesNotMatch(wrong.stdout, /guess/);
  }
  // A wrong token, by option and by environment.
  for (const [args, env] of [[['--token', 'not-a-token', 'status'], {}], [['status'], { F2B_TOKEN: 'not-a-token' }]] as const) {
    const r = await client(base, [...args], env);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refused the token \(wrong or expired\)/);
  }
  // A read-only user reads, and is told which permission a change needs.
  assert.equal(await ok(base, ['status'], { F2B_TOKEN: viewer }), 'Status\n|- Number of jail:\t2\n`- Jail list:\tmanual, sshd');
  const denied = await client(base, ['set', 'sshd', 'banip', '203.0.113.51'], { F2B_TOKEN: viewer });
  assert.equal(denied.status, 1);
  assert.match(denied.stderr, /needs the firewall-ban\.write permission/);
  // An admin does everything.
  assert.equal(await ok(base, ['--token', admin, 'set', 'sshd', 'banip', '203.0.113.51']), '1');
  assert.equal(await ok(base, ['--token', admin, 'banned', '203.0.113.50', '203.0.113.51']), "[['sshd'], ['sshd']]");
  assert.match(await ok(base, ['--token', admin, 'status', 'sshd']), /Currently banned:\t2\n {3}\|- Total banned:\t2\n {3}`- Banned IP list:\t203\.0\.113\.50 203\.0\.113\.51$/);
  assert.equal(await ok(base, ['--token', admin, 'set', 'sshd', 'unbanip', '203.0.113.50']), '1');
  assert.equal(await ok(base, ['--token', admin, 'unban', '203.0.113.51']), '1');
  const unknown = await client(base, ['--token', admin, 'set', 'nope', 'unbanip', '203.0.113.51']);
  assert.match(unknown.stderr, /jail "nope" does not exist; the jails are: manual, sshd/);
});
