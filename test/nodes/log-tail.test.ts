import assert from 'node:assert/strict';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

test('a file missing at deploy: yellow status, then followed from its first line once it appears', async () => {
  const log = join(rt.userDir, 'later.log');
  await helper.load(NODES, onTab([
    { id: 'tail', type: 'log-tail', paths: log, start: 'end', wires: [['out']] },
    { id: 'watcher', type: 'status', scope: null, wires: [['statuses']] },
    { id: 'out', type: 'helper' },
    { id: 'statuses', type: 'helper' },
  ]));
  const out = received('out');
  const statuses = received('statuses');
  await waitFor(() => statuses.some((s) => (s.status as { fill: string }).fill === 'yellow'), 'a yellow status', 3000).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(statuses.map((s) => s.status))}`);
  });
  assert.match((statuses.at(-1)!.status as { text: string }).text, /waiting for .*later\.log/);
  writeFileSync(log, 'first\nsecond\n');
  await waitFor(() => out.length === 2, 'both lines of the new file', 5000);
  assert.deepEqual(out.map((m) => m.payload), ['first', 'second']);
  assert.equal(out[0].topic, log);
});

test('a missing /var/log file (a journald-only system) is told in the log once, naming the journal source as the fix', async () => {
  // Under /var/log, where a system without rsyslog has no auth.log; a name that no system has.
  const missing = `/var/log/f2b-test-${process.pid}-${Date.now()}/auth.log`;
  const elsewhere = join(rt.userDir, 'not-yet.log');
  await helper.load(NODES, onTab([{ id: 'tail', type: 'log-tail', paths: `${missing}\n${elsewhere}`, start: 'end', wires: [[]] }]));
  const warn = (helper.getNode('tail') as unknown as { warn: { args: unknown[][] } }).warn;
  const warned = () => warn.args.map((a) => String(a[0]));
  await waitFor(() => warned().length === 2, 'a warning for each missing file', 5000).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(warned())}`));
  const [forMissing, forElsewhere] = [warned().find((w) => w.startsWith(missing)), warned().find((w) => w.startsWith(elsewhere))];
  assert.match(forMissing ?? '', /does not exist.*systemd journal.*set Source to "journal".*_SYSTEMD_UNIT=ssh\.service/);
  assert.equal(forElsewhere, `${elsewhere} does not exist: waiting for it to be created`, 'outside /var/log, no journal advice');
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal(warned().length, 2, 'told once, not every second');
});

test('globs follow every matching file; a renamed (rotated) file is finished and the new one followed', async () => {
  const a = join(rt.userDir, 'a.log');
  const b = join(rt.userDir, 'b.log');
  writeFileSync(a, 'old a\n');
  writeFileSync(b, 'old b\n');
  await helper.load(NODES, onTab([
    { id: 'tail', type: 'log-tail', paths: join(rt.userDir, '*.log'), start: 'end', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]));
  const out = received('out');
  await new Promise((r) => setTimeout(r, 500));
  appendFileSync(a, 'new a\r\n');
  appendFileSync(b, 'new b\n');
  await waitFor(() => out.length === 2, 'a line from each file');
  assert.deepEqual(out.map((m) => `${m.payload}@${String(m.filename).slice(-5)}`).sort(), ['new a@a.log', 'new b@b.log']);
  renameSync(a, `${a}.1`);
  appendFileSync(`${a}.1`, 'late a\n');
  writeFileSync(a, 'fresh a\n');
  await waitFor(() => out.length >= 4, 'the late line and the fresh file', 5000);
  assert.deepEqual(out.slice(2).map((m) => m.payload), ['late a', 'fresh a']);
});

test('status: files followed, lines per second, rotations seen', async () => {
  const log = join(rt.userDir, 'status.log');
  writeFileSync(log, '');
  await helper.load(NODES, onTab([
    { id: 'tail', type: 'log-tail', paths: log, start: 'end', wires: [['out']] },
    { id: 'watcher', type: 'status', scope: null, wires: [['statuses']] },
    { id: 'out', type: 'helper' },
    { id: 'statuses', type: 'helper' },
  ]));
  const texts: string[] = [];
  const out = received('out');
  helper.getNode('statuses').on('input', (m: NodeMessage) => texts.push(String((m.status as { text: string }).text)));
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(log, 'a\nb\nc\n');
  await waitFor(() => out.length === 3, 'three lines');
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'd\n');
  await waitFor(() => out.length === 4, 'the line of the new file');
  await waitFor(() => texts.some((t) => /^1 file, \d+ lines\/s, 1 rotation$/.test(t)), 'a status with the rotation', 3000).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(texts)}`));
  assert.ok(texts.some((t) => /^1 file, [1-9]\d* lines\/s/.test(t)), JSON.stringify(texts));
});
