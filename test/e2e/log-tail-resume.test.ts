/**
 * log-tail's saved read positions in a spawned Node-RED that is killed with SIGKILL: lines written while
 * it was dead (some to the old file after a rename rotation, some to the new file) are delivered at the
 * next start, none twice. Deleting the node from the flow removes its position file.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, installPackage, spawnNodeRed, waitFor, writeSettings } from '../support/process';

const cleanups: Array<() => void> = [];
after(() => {
  for (const c of cleanups.reverse()) c();
});

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');

function outLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

test('resume after SIGKILL: lines written while Node-RED was dead, across a rename rotation, arrive once', { timeout: 90000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'f2b-resume-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const userDir = join(work, 'userdir');
  installPackage(userDir);
  const log = join(work, 'auth.log');
  const out = join(work, 'out.txt');
  writeFileSync(log, lines(1, 100));
  const port = await freePort();
  writeSettings(userDir, port);
  const flow = [
    { id: 'tab', type: 'tab', label: 'resume' },
    { id: 'tail1', type: 'log-tail', z: 'tab', x: 100, y: 40, paths: log, start: 'end', resume: true, source: 'file', encoding: 'utf8', wires: [['file1']] },
    { id: 'file1', type: 'file', z: 'tab', x: 300, y: 40, filename: out, filenameType: 'str', appendNewline: true, createDir: false, overwriteFile: 'false', encoding: 'none', wires: [] },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
  const base = `http://127.0.0.1:${port}`;

  let output = '';
  const startRed = async (): Promise<ChildProcess> => {
    const { child: red } = await spawnNodeRed(userDir, base, { readyPath: '/flows', onOutput: (d) => (output += d) });
    cleanups.push(() => {
      if (red.exitCode === null && red.signalCode === null) red.kill('SIGKILL');
    });
    // The flow has started once log-tail reports a status.
    await new Promise((r) => setTimeout(r, 1500));
    return red;
  };
  const kill = async (red: ChildProcess) => {
    const gone = new Promise((r) => red.once('exit', r));
    red.kill('SIGKILL');
    await gone;
  };

  let red = await startRed();
  appendFileSync(log, lines(101, 200));
  await waitFor(() => outLines(out).length === 100, 'lines 101-200', 15000);
  const positions = join(userDir, 'fail2ban', 'tail-tail1.json');
  assert.ok(existsSync(positions), 'positions are kept under the user directory, in fail2ban/');
  await kill(red);

  // While dead: more lines, a rename rotation, lines still written to the old file, then the new file.
  appendFileSync(log, lines(201, 300));
  renameSync(log, `${log}.1`);
  appendFileSync(`${log}.1`, lines(301, 350));
  writeFileSync(log, lines(351, 400));

  red = await startRed();
  await waitFor(() => outLines(out).length >= 300, 'lines 201-400', 20000).catch((e) => assert.fail(`${e.message}: ${outLines(out).length} lines\n${output}`));
  appendFileSync(log, lines(401, 410));
  await waitFor(() => outLines(out).length >= 310, 'lines 401-410', 15000);
  await kill(red);

  // Killed right after the last delivery; nothing written since: nothing again at the next start.
  red = await startRed();
  appendFileSync(log, lines(411, 420));
  await waitFor(() => outLines(out).length >= 320, 'lines 411-420', 15000);
  await new Promise((r) => setTimeout(r, 500));
  const expected = Array.from({ length: 320 }, (_, i) => `line ${101 + i}`);
  assert.deepEqual(outLines(out), expected);

  // The node deleted from the flow: its positions go.
  const res = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify([{ id: 'tab', type: 'tab', label: 'resume' }]) });
  assert.ok(res.ok, `deploy answered ${res.status}`);
  await waitFor(() => !existsSync(positions), 'the position file to be removed', 5000);
  assert.ok(!/TypeError|ReferenceError|Uncaught/.test(output), output);
  red.kill('SIGTERM');
});
