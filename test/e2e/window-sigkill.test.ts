/**
 * threshold-window keeps its failure windows and ban counts when Node-RED is killed with SIGKILL:
 * a real Node-RED process, failures posted to it over loopback HTTP, killed, started again.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, installPackage, spawnNodeRed, stop, writeSettings } from '../support/process';

const cleanups: Array<() => void> = [];
after(() => {
  for (const c of cleanups.reverse()) c();
});

test('failure windows and ban counts survive SIGKILL of Node-RED; what was counted over a second before the kill is kept', { timeout: 90000 }, async () => {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-sigkill-'));
  cleanups.push(() => rmSync(userDir, { recursive: true, force: true }));
  installPackage(userDir);
  const port = await freePort();
  writeSettings(userDir, port);
  const decisions = join(userDir, 'decisions.jsonl');
  const base = `http://127.0.0.1:${port}`;

  let output = '';
  const startRed = async (): Promise<ChildProcess> => {
    const { child } = await spawnNodeRed(userDir, base, { onOutput: (d) => (output += d) });
    cleanups.push(() => stop(child));
    return child;
  };
  const post = async (host: string) => {
    const res = await fetch(`${base}/fail`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ host, line: `failure from ${host}` }) });
    assert.equal(res.status, 200, await res.text());
  };
  const read = (): Array<Record<string, unknown>> => (existsSync(decisions) ? readFileSync(decisions, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  const waitForDecisions = async (n: number) => {
    const end = Date.now() + 10000;
    while (read().length < n) {
      if (Date.now() > end) throw new Error(`expected ${n} decisions, have ${JSON.stringify(read())}\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  let red = await startRed();
  const flow = [
    { id: 'tab', type: 'tab', label: 'jail' },
    { id: 'in', type: 'http in', z: 'tab', url: '/fail', method: 'post', x: 100, y: 40, wires: [['win', 'resp']] },
    { id: 'resp', type: 'http response', z: 'tab', statusCode: '200', x: 300, y: 80, wires: [] },
    { id: 'win', type: 'threshold-window', z: 'tab', name: 'web', maxretry: '3', findtime: '10m', bantime: '1', increment: true, ignoreip: '', ignoreself: false, x: 300, y: 40, wires: [['file']] },
    { id: 'file', type: 'file', z: 'tab', filename: decisions, filenameType: 'str', appendNewline: true, createDir: false, overwriteFile: 'false', encoding: 'none', x: 500, y: 40, wires: [] },
  ];
  const deploy = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow) });
  assert.ok(deploy.ok, `deploy answered ${deploy.status}: ${await deploy.text()}`);
  await new Promise((r) => setTimeout(r, 300));

  for (const host of ['192.0.2.7', '192.0.2.7', '192.0.2.8', '192.0.2.9', '192.0.2.9', '192.0.2.9']) await post(host);
  await waitForDecisions(1);
  assert.deepEqual(read().map((d) => [d.host, d.banCount, d.bantime]), [['192.0.2.9', 1, 1]]);
  await new Promise((r) => setTimeout(r, 1100)); // more than one second: all of it must be on disk by now
  red.kill('SIGKILL');
  await new Promise((r) => red.once('exit', r));
  assert.equal(red.signalCode, 'SIGKILL');
  assert.ok(readdirSync(join(userDir, 'fail2ban')).some((n) => n.startsWith('windows-win.json')), 'state under <userDir>/fail2ban');

  red = await startRed();
  await new Promise((r) => setTimeout(r, 500));
  await post('192.0.2.7'); // its third failure: two were counted before the kill
  await waitForDecisions(2);
  await post('192.0.2.9'); // banned once before: a failure now weighs 2
  await post('192.0.2.9');
  await waitForDecisions(3);
  await post('192.0.2.8');
  await post('192.0.2.8');
  await waitForDecisions(4);
  const after = read().slice(1).map((d) => [d.host, d.failures, d.banCount, d.bantime]);
  assert.deepEqual(after, [
    ['192.0.2.7', 3, 1, 1],
    ['192.0.2.9', 2, 2, 2],
    ['192.0.2.8', 3, 1, 1],
  ]);
  assert.deepEqual(read()[1].matches, ['failure from 192.0.2.7', 'failure from 192.0.2.7', 'failure from 192.0.2.7'], 'the lines counted before the kill are in the decision');
  stop(red);
  await new Promise((r) => red.once('exit', r));
});
