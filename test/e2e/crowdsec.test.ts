/**
 * CrowdSec (issue 20) with the real thing: Debian's crowdsec 1.4 runs its Local API alone (`crowdsec
 * -no-cs`) on a private offline configuration in the "server" namespace (test/support/crowdsec.ts); a real
 * Node-RED runs both examples (crowdsec-bouncer: crowdsec-decisions -> firewall-ban on nftables;
 * crowdsec-watcher: the sshd jail with crowdsec-alert) in the "client" namespace, driven by the
 * fleet-host-in-netns agent. cscli runs in the server namespace; the test never addresses a namespace.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Ledger } from '../../lib/ledger';
import { createLapi, crowdsecUnavailable, type Lapi } from '../support/crowdsec';
import { createLab, type Lab } from '../support/netns';
import { installPackage, syslogDate, waitFor, writeSettings } from '../support/process';

const why = crowdsecUnavailable();
const KEY = 'nodered-bouncer-key-0123456789';
const MACHINE = 'nodered-watcher';
const PASSWORD = 'a-long-watcher-password-42';
const INTERVAL = 2;
const examples = join(__dirname, '..', '..', '..', 'examples');

let lab: Lab;
let lapi: Lapi;
let userDir: string;
let agent: ChildProcess;
let next = 1;
const pending = new Map<number, (m: Record<string, unknown>) => void>();
const figures: string[] = [];

/** An order to the Node-RED agent in the client namespace. */
function ask(op: string, extra: Record<string, unknown> = {}, ms = 60000): Promise<Record<string, unknown>> {
  const id = next++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${op} in ${ms} ms`)), ms);
    pending.set(id, (m) => {
      clearTimeout(timer);
      if (m.ok) resolve(m);
      else reject(new Error(String(m.error)));
    });
    agent.stdin!.write(`${JSON.stringify({ id, op, ...extra })}\n`);
  });
}

/** Both examples on one tab, pointed at the private API, with their credentials (set as the editor deploys them). */
function flows(logPath: string): unknown[] {
  const read = (name: string) => JSON.parse(readFileSync(join(examples, `${name}.json`), 'utf8')) as Array<Record<string, unknown>>;
  const set: Record<string, Record<string, unknown>> = {
    'f2bcsb.lapi': { url: lapi.url, credentials: { apiKey: KEY } },
    'f2bcsw.lapi': { url: lapi.url, credentials: { machineId: MACHINE, password: PASSWORD } },
    'f2bcsb.decisions': { interval: String(INTERVAL) },
    'f2bcsw.tail': { paths: logPath, resume: false },
    'f2bcsw.window': { ignoreip: '127.0.0.1/8 ::1', ignoreself: false },
  };
  return [{ id: 'cs', type: 'tab', label: 'crowdsec' }, ...[...read('crowdsec-bouncer'), ...read('crowdsec-watcher')].map((n) => ({ ...n, ...(n.x !== undefined ? { z: 'cs' } : {}), ...set[String(n.id)] }))];
}

const elements = async (set: string) => (await ask('elements', { set })).elements as string[];
type Ban = { ip: string; jail: string; start: number; until: number | null; origin?: string; scenario?: string };
const bans = async (fw: string) => {
  const r = await ask('http', { path: `/firewall-ban/${fw}/bans` });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as Ban[];
};
interface CsAlert {
  machine_id: string;
  scenario: string;
  decisions: Array<{ value: string; origin: string; scenario: string; type: string }> | null;
}
const alerts = () => lapi.cscliJson<CsAlert[] | null>('alerts', 'list', '-a') ?? [];
const failLogin = (ip: string, n = 3) => {
  let text = '';
  for (let k = 0; k < n; k++) text += `${syslogDate()} box sshd[${5000 + k}]: Failed password for root from ${ip} port ${40000 + k} ssh2\n`;
  appendFileSync(join(userDir, 'auth.log'), text);
};

before(async () => {
  if (why) return;
  lab = createLab('cs');
  try {
    lapi = createLapi(lab.server.ns, lab.server.address);
    await lapi.start();
    lapi.cscli('bouncers', 'add', 'node-red', '-k', KEY);
    lapi.cscli('machines', 'add', MACHINE, '--password', PASSWORD, '-f', join(lapi.dir, 'watcher.yaml'), '--force');
    userDir = mkdtempSync(join(tmpdir(), 'f2b-crowdsec-red-'));
    writeFileSync(join(userDir, 'auth.log'), '');
    installPackage(userDir);
    // Info level: firewall-ban's ban lines are the ban events a restart test counts.
    writeSettings(userDir, 1880, "logging: { console: { level: 'info' } },");
    writeFileSync(join(userDir, 'flows.json'), '[]');
    agent = spawn('ip', ['netns', 'exec', lab.client.ns, process.execPath, join(__dirname, 'fleet-host-in-netns.js'), userDir, '1880'], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: agent.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, unknown>;
      const p = pending.get(Number(m.id));
      if (!p) return;
      pending.delete(Number(m.id));
      p(m);
    });
    await ask('start');
    const r = await ask('http', { method: 'POST', path: '/flows', body: flows(join(userDir, 'auth.log')) });
    assert.equal(r.status, 204, `deploy: ${JSON.stringify(r.json)}`);
  } catch (err) {
    await cleanUp();
    throw err;
  }
});

async function cleanUp(): Promise<void> {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent.once('exit', r));
    agent.stdin!.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15000))]);
  }
  await lapi?.remove();
  lab?.remove();
  if (userDir) rmSync(userDir, { recursive: true, force: true });
}

after(async () => {
  if (figures.length) console.log(figures.join('\n'));
  await cleanUp();
});

test('cscli decisions add bans through nftables within the stream interval; cscli decisions delete lifts it', { skip: why ?? false, timeout: 90000 }, async () => {
  const start = Date.now();
  lapi.cscli('decisions', 'add', '--ip', '203.0.113.10', '--duration', '2h', '--reason', 'e2e test');
  const added = Date.now();
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('203.0.113.10'), '203.0.113.10 in the crowdsec set', (INTERVAL + 3) * 1000, 50);
  const seen = Date.now();
  figures.push(`crowdsec: cscli decisions add to nftables element: ${seen - added} ms after cscli returned (${seen - start} ms with cscli itself; stream interval ${INTERVAL} s)`);
  assert.ok(seen - added <= INTERVAL * 1000 + 1500, `within the interval (${seen - added} ms)`);
  const [ban] = (await bans('f2bcsb.fw')).filter((b) => b.ip === '203.0.113.10');
  assert.equal(ban.jail, 'crowdsec');
  assert.equal(ban.origin, 'cscli');
  const left = (ban.until! - Date.now()) / 1000;
  assert.ok(left > 7000 && left <= 7200, `the time the decision has left, about 2h (${left} s)`);

  // A range, as CrowdSec's Range scope.
  lapi.cscli('decisions', 'add', '--range', '198.51.100.0/24', '--duration', '1h', '--reason', 'e2e range');
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('198.51.100.0/24'), 'the range in the crowdsec set', (INTERVAL + 3) * 1000, 50);

  const del = Date.now();
  lapi.cscli('decisions', 'delete', '--ip', '203.0.113.10');
  await waitFor(async () => !(await elements('f2b-crowdsec')).includes('203.0.113.10'), '203.0.113.10 lifted', (INTERVAL + 3) * 1000, 50);
  figures.push(`crowdsec: cscli decisions delete to element gone: ${Date.now() - del} ms`);
  assert.ok(!(await bans('f2bcsb.fw')).some((b) => b.ip === '203.0.113.10'), 'gone from the ledger too');
  assert.ok((await elements('f2b-crowdsec')).includes('198.51.100.0/24'), 'the range stays');
});

test("a jail's ban is posted as an alert of this watcher and shows in cscli decisions list -a", { skip: why ?? false, timeout: 90000 }, async () => {
  failLogin('192.0.2.77');
  await waitFor(async () => (await elements('f2b-sshd')).includes('192.0.2.77'), 'the sshd jail bans 192.0.2.77', 15000, 50);
  await waitFor(() => alerts().some((a) => a.scenario === 'node-red-fail2ban/sshd'), 'the alert at the API', 15000, 250);
  const a = alerts().find((x) => x.scenario === 'node-red-fail2ban/sshd')!;
  assert.equal(a.machine_id, MACHINE, 'posted as this watcher');
  assert.deepEqual(a.decisions?.map((d) => [d.type, d.value, d.scenario]), [['ban', '192.0.2.77', 'node-red-fail2ban/sshd']]);
  const listed = lapi.cscli('decisions', 'list', '-a');
  assert.match(listed, /192\.0\.2\.77/);
  assert.match(listed, /node-red-fail2ban\/sshd/);
  // The decision comes back through the stream to the bouncer (as it would on every other bouncer).
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('192.0.2.77'), 'the decision back through the stream', (INTERVAL + 3) * 1000, 50);
});

test('the API stopped and started again loses nothing: the alert waits and is delivered, the stream resumes', { skip: why ?? false, timeout: 120000 }, async () => {
  await lapi.stop();
  failLogin('192.0.2.88');
  await waitFor(async () => (await elements('f2b-sshd')).includes('192.0.2.88'), 'the sshd jail bans 192.0.2.88 while the API is down', 15000, 50);
  // Decisions made while this Node-RED cannot ask: cscli writes them to the database.
  await new Promise((r) => setTimeout(r, 3000));
  await lapi.start();
  const restarted = Date.now();
  lapi.cscli('decisions', 'add', '--ip', '203.0.113.20', '--duration', '1h', '--reason', 'after the restart');
  await waitFor(() => alerts().some((a) => a.decisions?.some((d) => d.value === '192.0.2.88') ?? false), 'the queued alert delivered', 45000, 250);
  figures.push(`crowdsec: queued alert delivered ${Date.now() - restarted} ms after the Local API started again (the JWT of the old start is void: logged in again)`);
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('203.0.113.20'), 'the stream resumes', 45000, 100);
  assert.equal(alerts().filter((a) => a.decisions?.some((d) => d.value === '192.0.2.88')).length, 1, 'delivered once');
});

test('after a Node-RED restart the ledger and the stream agree: no duplicate ban, a decision deleted meanwhile is lifted', { skip: why ?? false, timeout: 120000 }, async () => {
  const before = (await bans('f2bcsb.fw')).find((b) => b.ip === '198.51.100.0/24')!;
  assert.ok(before, 'the range is banned');
  await ask('stop');
  lapi.cscli('decisions', 'delete', '--ip', '203.0.113.20');
  lapi.cscli('decisions', 'add', '--ip', '203.0.113.30', '--duration', '30m', '--reason', 'while Node-RED was down');
  await ask('start');
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('203.0.113.30'), 'the decision made meanwhile', 20000, 100);
  await waitFor(async () => !(await elements('f2b-crowdsec')).includes('203.0.113.20'), 'the decision deleted meanwhile lifted', 20000, 100);
  const after = await bans('f2bcsb.fw');
  const range = after.filter((b) => b.ip === '198.51.100.0/24');
  assert.equal(range.length, 1);
  assert.equal(range[0].start, before.start, 'restored from the ledger, not banned again');
  assert.ok(!after.some((b) => b.ip === '203.0.113.20'), 'gone from the ledger');
});

/** firewall-ban's ban events for `ip` in the log of this Node-RED start (a restore is not one). */
const banEvents = async (ip: string) => {
  const output = String((await ask('output')).output);
  return output.split('\n').filter((l) => l.includes(`] ban ${ip} (jail crowdsec)`)).length;
};
const LEDGER = () => join(userDir, 'fail2ban', 'bans-f2bcsb.fw.json');
const CS_SETS = ['f2b-crowdsec', 'f2b-crowdsec-v6', 'f2b-crowdsec-net', 'f2b-crowdsec-net6'];

test('after a Node-RED restart a ban firewall-ban lost is sent again, once; one its ledger holds is not banned twice', { skip: why ?? false, timeout: 120000 }, async () => {
  lapi.cscli('decisions', 'add', '--ip', '203.0.113.40', '--duration', '2h', '--reason', 'lost ban');
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('203.0.113.40'), '203.0.113.40 banned', (INTERVAL + 3) * 1000, 50);
  const range = (await bans('f2bcsb.fw')).find((b) => b.ip === '198.51.100.0/24')!;
  assert.ok(range, 'the range is banned');
  await ask('stop');
  // A crash between the bouncer's file and firewall-ban's ledger: the file says applied, the ledger and the set lack it.
  const saved = JSON.parse(readFileSync(join(userDir, 'fail2ban', 'crowdsec-f2bcsb.decisions.json'), 'utf8')) as { held: Record<string, unknown> };
  assert.ok(saved.held['203.0.113.40'], 'the bouncer saved it as applied');
  const ledger = new Ledger(LEDGER());
  ledger.load();
  assert.ok(ledger.get('203.0.113.40'), 'in the ledger before');
  ledger.remove(['203.0.113.40']);
  assert.equal(lab.exec(lab.client, ['nft', 'delete', 'element', 'inet', 'fail2ban', 'f2b-crowdsec', '{ 203.0.113.40 }']).status, 0);
  assert.ok(!(await elements('f2b-crowdsec')).includes('203.0.113.40'));
  await ask('start');
  await waitFor(async () => (await elements('f2b-crowdsec')).includes('203.0.113.40'), 'the lost ban sent again', 20000, 100);
  await new Promise((r) => setTimeout(r, (INTERVAL + 1) * 1000)); // a poll of changes after the full answer
  assert.equal(await banEvents('203.0.113.40'), 1, 'one ban event');
  assert.equal(await banEvents('198.51.100.0/24'), 0, 'the range its ledger holds: restored, not banned again');
  assert.equal(await banEvents('203.0.113.30'), 0);
  assert.match(String((await ask('output')).output), /firewall-ban did not hold 1 address\(es\) applied before this start \(203\.0\.113\.40\)/);
  const after = await bans('f2bcsb.fw');
  const lost = after.filter((b) => b.ip === '203.0.113.40');
  assert.equal(lost.length, 1);
  const left = (lost[0].until! - Date.now()) / 1000;
  assert.ok(left > 7000 && left <= 7200, `for the time the decision has left (${left} s)`);
  assert.equal(after.find((b) => b.ip === '198.51.100.0/24')!.start, range.start, 'the range restored from the ledger');

  // The whole ledger lost and the sets flushed: every decision still listed is banned again, each once.
  await ask('stop');
  for (const f of [LEDGER(), `${LEDGER()}.journal`]) rmSync(f, { force: true });
  for (const set of CS_SETS) lab.exec(lab.client, ['nft', 'flush', 'set', 'inet', 'fail2ban', set]);
  assert.deepEqual(await elements('f2b-crowdsec'), []);
  await ask('start');
  const again = ['203.0.113.40', '203.0.113.30', '198.51.100.0/24'];
  await waitFor(async () => { const e = await elements('f2b-crowdsec'); return again.every((ip) => e.includes(ip)); }, 'every lost ban sent again', 20000, 100);
  await new Promise((r) => setTimeout(r, (INTERVAL + 1) * 1000));
  const e = await elements('f2b-crowdsec');
  for (const ip of again) {
    assert.equal(e.filter((x) => x === ip).length, 1, `one element for ${ip}`);
    assert.equal(await banEvents(ip), 1, `one ban event for ${ip}`);
  }
  assert.equal((await bans('f2bcsb.fw')).filter((b) => again.includes(b.ip)).length, again.length);
});

test('an alert queued while the API is down survives a Node-RED restart and is delivered once the API is back', { skip: why ?? false, timeout: 120000 }, async () => {
  await lapi.stop();
  failLogin('192.0.2.99');
  await waitFor(async () => (await elements('f2b-sshd')).includes('192.0.2.99'), 'the sshd jail bans 192.0.2.99 while the API is down', 15000, 50);
  await new Promise((r) => setTimeout(r, 1500)); // tried, failed, saved
  await ask('stop');
  const saved = JSON.parse(readFileSync(join(userDir, 'fail2ban', 'crowdsec-alerts-f2bcsw.alert.json'), 'utf8')) as { items: Array<{ ip: string }> };
  assert.deepEqual(saved.items.map((a) => a.ip), ['192.0.2.99'], 'the queue on disk');
  await ask('start');
  await lapi.start();
  const started = Date.now();
  await waitFor(() => alerts().some((a) => a.decisions?.some((d) => d.value === '192.0.2.99') ?? false), 'the alert delivered after both restarts', 45000, 250);
  figures.push(`crowdsec: alert queued across a Node-RED restart delivered ${Date.now() - started} ms after the Local API started`);
});

test('a wrong bouncer key: the stream is refused (403) and the status says to make a key with cscli bouncers add', { skip: why ?? false, timeout: 60000 }, async () => {
  const script = `const { DecisionSet, DecisionStream } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'crowdsec'))});
const s = new DecisionStream(${JSON.stringify(lapi.url)}, 'not-a-key', new DecisionSet(), 1000);
s.on('failed', (err, advice) => { console.log(JSON.stringify({ status: err.status, message: err.message, advice })); s.stop(); });
s.start();`;
  const r = lab.exec(lab.client, [process.execPath, '-e', script]);
  const out = JSON.parse(r.stdout.trim().split('\n')[0]);
  assert.equal(out.status, 403);
  assert.match(out.advice, /cscli bouncers add/);
});

test('the watcher logs in again when a restarted API voids its token (a new JWT secret per start)', { skip: why ?? false, timeout: 60000 }, async () => {
  const script = `const { Watcher, alertBody, pendingAlertOf } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'crowdsec'))});
const w = new Watcher(${JSON.stringify(lapi.url)}, ${JSON.stringify(MACHINE)}, ${JSON.stringify(PASSWORD)});
const post = (ip) => w.postAlerts([alertBody(pendingAlertOf({ ip, bantime: 600, jail: 'relogin' }))]);
(async () => {
  await post('192.0.2.101');
  console.log(JSON.stringify({ logins: w.logins }));
  await new Promise((r) => process.stdin.once('data', r));
  await post('192.0.2.102');
  console.log(JSON.stringify({ logins: w.logins }));
  process.exit(0);
})().catch((e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1); });`;
  const child = spawn('ip', ['netns', 'exec', lab.client.ns, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor(() => lines.length === 1, 'the first alert posted', 15000);
    assert.deepEqual(lines[0], { logins: 1 });
    await lapi.stop();
    await lapi.start();
    child.stdin!.write('go\n');
    await exited;
    assert.deepEqual(lines[1], { logins: 2 }, 'a 401, then a new login and the alert posted');
    assert.ok(alerts().some((a) => a.decisions?.some((d) => d.value === '192.0.2.102')));
  } finally {
    child.kill();
  }
});
