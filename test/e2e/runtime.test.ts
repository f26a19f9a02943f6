/**
 * Node-RED as a user runs it: the packed package (npm pack) installed in a fresh user directory, the
 * example flow deployed through the admin API; and `npm start` as the README says.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, spawnNodeRed, stop, stopAndWait, syslogDate, waitFor, waitForHttp, writeSettings } from '../support/process';

const root = join(__dirname, '..', '..', '..');
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function waitForBan(base: string, id: string, ip: string, ms = 8000): Promise<Array<Record<string, unknown>>> {
  const end = Date.now() + ms;
  for (;;) {
    const bans = (await (await fetch(`${base}/firewall-ban/${id}/bans`)).json()) as Array<Record<string, unknown>>;
    if (Array.isArray(bans) && bans.some((b) => b.ip === ip)) return bans;
    if (Date.now() > end) throw new Error(`no ban of ${ip}: ${JSON.stringify(bans)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function failures(ip: string, n: number): string {
  return Array.from({ length: n }, () => `${syslogDate()} host sshd[77]: Failed password for invalid user admin from ${ip} port 40000 ssh2\n`).join('');
}

test('the packed package loads in Node-RED; the example flow deploys through the admin API and bans', { timeout: 90000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'f2b-pack-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const tarball = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
  const userDir = join(work, 'userdir');
  const pkgDir = join(userDir, 'node_modules', 'node-red-contrib-fail2ban');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', pkgDir, '--strip-components=1']);
  assert.ok(existsSync(join(pkgDir, 'dist', 'nodes', 'log-tail', 'log-tail.html')), 'the tarball holds the built editor files');
  assert.ok(!existsSync(join(pkgDir, 'test')) && !existsSync(join(pkgDir, 'dist', 'test')), 'the tarball leaves the tests out');
  // dist/ comes built (prepack): installing runs nothing, which npm 11 would warn of or skip.
  const packed = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  assert.deepEqual(['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => packed.scripts?.[s]), [], 'no install-time script');
  // Runtime dependencies, as npm would install them beside the package.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies)) symlinkSync(join(root, 'node_modules', dep), join(userDir, 'node_modules', dep), 'dir');

  const port = await freePort();
  const log = join(work, 'auth.log');
  writeFileSync(log, '');
  writeSettings(userDir, port);
  const base = `http://127.0.0.1:${port}`;
  const { child: red, output } = await spawnNodeRed(userDir, base);
  cleanups.push(() => stopAndWait(red));

  const nodes = (await (await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{ id: string; types: string[]; enabled: boolean; err?: string }>;
  const ours = nodes.filter((n) => n.id.startsWith('node-red-contrib-fail2ban/'));
  assert.deepEqual(ours.map((n) => n.types[0]).sort(), ['ban-share', 'crowdsec-alert', 'crowdsec-decisions', 'crowdsec-lapi', 'failregex-match', 'firewall-ban', 'log-tail', 'mail-notify', 'mail-server', 'threshold-window']);
  for (const n of ours) assert.equal(n.err, undefined, `${n.id}: ${n.err}`);

  // What the editor's Import > Examples menu fetches.
  const listing = await (await fetch(`${base}/library/examples/flows/`)).text();
  assert.match(listing, /node-red-contrib-fail2ban/);
  const served = await (await fetch(`${base}/library/examples/flows/node-red-contrib-fail2ban/sshd-jail`)).text();
  const parsed = JSON.parse(served);
  const example = (typeof parsed === 'string' ? JSON.parse(parsed) : parsed) as Array<Record<string, unknown>>;
  const used = new Set(example.map((n) => n.type));
  for (const t of ['log-tail', 'failregex-match', 'threshold-window', 'firewall-ban', 'mail-notify']) assert.ok(used.has(t), `the example uses ${t}`);

  const flow = [{ id: 'tab', type: 'tab', label: 'jail' }, ...example.map((n) => ({ ...n, ...(n.x !== undefined ? { z: 'tab' } : {}), ...(n.type === 'log-tail' ? { paths: log } : {}) }))];
  const deploy = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow) });
  assert.ok(deploy.ok, `deploy answered ${deploy.status}: ${await deploy.text()}`);
  await new Promise((r) => setTimeout(r, 800));
  appendFileSync(log, failures('198.51.100.23', 3) + failures('198.51.100.24', 2));
  const bans = await waitForBan(base, 'f2bex.ban', '198.51.100.23');
  assert.deepEqual(bans.map((b) => b.ip), ['198.51.100.23'], 'the address that failed twice is not banned');
  assert.ok(existsSync(join(userDir, 'fail2ban', 'bans-f2bex.ban.json')), 'the ledger lives under the user directory, in fail2ban/');
  assert.ok(!/TypeError|ReferenceError|Uncaught/.test(output()), output());
});

test('npm start: Node-RED on 127.0.0.1:$PORT with the example jail deployed on dry-run', { timeout: 60000 }, async () => {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-start-'));
  cleanups.push(() => rmSync(userDir, { recursive: true, force: true }));
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.js')], { env: { ...process.env, PORT: String(port), F2B_USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopAndWait(child));
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/flows`, child, () => output);
  const flows = (await (await fetch(`${base}/flows`)).json()) as Array<Record<string, unknown>>;
  const ban = flows.find((n) => n.type === 'firewall-ban')!;
  assert.equal(ban.backend, 'dry-run');
  const log = join(userDir, 'logs', 'auth.log');
  assert.equal(flows.find((n) => n.type === 'log-tail')!.paths, log);
  await new Promise((r) => setTimeout(r, 800));
  const before = output.length;
  appendFileSync(log, failures('203.0.113.77', 3));
  await waitForBan(base, String(ban.id), '203.0.113.77');
  // What the README promises: the console's next word is the ban, in one line (no mail error before it).
  await waitFor(() => /backend dry-run/.test(output.slice(before)), 'the ban in the console', 5000).catch(() => assert.fail(output.slice(before)));
  const said = output.slice(before).split('\n').filter((l) => l.trim());
  assert.match(said[0], /- \[info\] \[firewall-ban:firewall\] ban 203\.0\.113\.77 \(jail sshd\) for 1h, until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, backend dry-run$/, output.slice(before));
  stop(child);
});
