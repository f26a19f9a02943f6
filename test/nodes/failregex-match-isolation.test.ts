/**
 * failregex-match matching off Node-RED's event loop, in a real Node-RED runtime: a line that makes a
 * careless pattern backtrack is skipped and reported at Catch, the lines around it still match, in order;
 * the waiting lines are bounded; redeploys leave no thread behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

/** Backtracks for minutes against ^(\w+\s?)*from <HOST>$: it holds the pattern's literal text ("from "), so the engine is run on it. */
const HANGS = `${'a'.repeat(40)}! from x`;

/** Threads of this process now. */
function threads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

/** Records what a node says (warnings, statuses) on top of what it does. */
function spy(id: string): { warnings: string[]; statuses: Array<{ fill?: string; text?: string }> } {
  const node = helper.getNode(id) as unknown as { warn: (w: unknown) => void; status: (s: { fill?: string; text?: string }) => void };
  const out = { warnings: [] as string[], statuses: [] as Array<{ fill?: string; text?: string }> };
  const warn = node.warn.bind(node);
  const status = node.status.bind(node);
  node.warn = (w) => {
    out.warnings.push(String(w));
    warn(w);
  };
  node.status = (s) => {
    out.statuses.push(s);
    status(s);
  };
  return out;
}

test('a line that backtracks is skipped after matchTimeout and reported at Catch; the lines around it match, in order, and the event loop runs on', { timeout: 20000 }, async () => {
  const flow = [
    { id: 'm', type: 'failregex-match', filterSource: 'inline', failregex: String.raw`^(\w+\s?)*from <HOST>$`, matchTimeout: '200', wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: ['m'], uncaught: false, wires: [['caught']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const said = spy('m');
  const got = received('out');
  const caught = received('caught');
  const node = helper.getNode('m');
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  node.receive({ payload: 'user a from 203.0.113.1', topic: 'first' });
  node.receive({ payload: HANGS, topic: 'hostile' });
  node.receive({ payload: 'user b from 203.0.113.2', topic: 'after' });
  node.receive({ payload: HANGS, topic: 'hostile again' });
  node.receive({ payload: 'user c from 203.0.113.3', topic: 'last' });
  await waitFor(() => got.length >= 3, 'the three good lines', 10000);
  await waitFor(() => said.statuses.some((s) => /2 lines skipped: over 200 ms to match/.test(s.text ?? '')), 'the status counting both skipped lines', 3000);
  delay.disable();
  assert.deepEqual(got.map((m) => m.topic), ['203.0.113.1', '203.0.113.2', '203.0.113.3']);
  assert.deepEqual(got.map((m) => (m.payload as { line: string }).line), ['user a from 203.0.113.1', 'user b from 203.0.113.2', 'user c from 203.0.113.3']);
  // Reported once a minute: the first skipped line, with the message that carried it.
  assert.equal(caught.length, 1);
  assert.equal(caught[0].topic, 'hostile');
  assert.match((caught[0].error as { message: string }).message, /a line of 48 characters took over 200 ms to match and was skipped \(1 skipped since the last report, 1 in all\)/);
  assert.equal(said.statuses.at(-1)!.fill, 'yellow');
  const stall = delay.max / 1e6;
  console.log(`failregex-match isolation: longest event-loop delay while two lines hung the pattern: ${stall.toFixed(1)} ms`);
  assert.ok(stall < 100, `the event loop stalled ${stall} ms`);
});

test('matchTimeout must be a positive whole number of milliseconds', async () => {
  const flow = [
    { id: 'zero', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', matchTimeout: '0', wires: [[]] },
    { id: 'ok', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', matchTimeout: 1000, wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const caught = received('caught');
  await waitFor(() => caught.length >= 1, 'a Catch for the configuration error');
  assert.match((caught[0].error as { message: string }).message, /matchTimeout must be a whole number of milliseconds from 1 to 60000 \(got 0\)/);
  const got = received('out');
  helper.getNode('ok').receive({ payload: 'Nov 24 10:00:01 box sshd[1]: Invalid user bob from 203.0.113.10 port 1' });
  await waitFor(() => got.length === 1, 'the failure through the node with matchTimeout 1000');
});

test('more lines than can wait are dropped, counted and warned about; the rest are matched', { timeout: 20000 }, async () => {
  const flow = [{ id: 'm', type: 'failregex-match', filterSource: 'inline', failregex: '^x from <HOST>$', wires: [['out']] }, { id: 'out', type: 'helper' }];
  await helper.load(NODES, onTab(flow));
  const said = spy('m');
  let got = 0;
  helper.getNode('out').on('input', () => got++);
  const node = helper.getNode('m');
  // One turn of the event loop: nothing can be matched before the last line is given.
  for (let i = 0; i < 10_050; i++) node.receive({ payload: `x from 10.0.${i >> 8}.${i & 255}` });
  await waitFor(() => got === 10_000, '10,000 failures', 15000);
  await waitFor(() => said.statuses.some((s) => /50 dropped \(queue full\)/.test(s.text ?? '')), 'the status counting 50 dropped lines');
  assert.equal(said.warnings.length, 1);
  // Warned at the first dropped line, then at most once a minute.
  assert.match(said.warnings[0], /1 line dropped unmatched \(1 in all\): more than 10000 lines were waiting to be matched/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(got, 10_000);
});

test('20 redeploys leave no matching thread behind', { timeout: 30000 }, async () => {
  const before = threads();
  for (let i = 0; i < 20; i++) {
    const flow = [
      { id: 'm1', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', name: `deploy ${i}`, wires: [['out']] },
      { id: 'm2', type: 'failregex-match', filterSource: 'inline', failregex: String.raw`^(\w+\s?)*from <HOST>$`, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(NODES, onTab(flow));
    let got = 0;
    helper.getNode('out').on('input', () => got++);
    // Lines in flight at the redeploy, one of them hanging.
    helper.getNode('m2').receive({ payload: HANGS });
    helper.getNode('m1').receive({ payload: 'Nov 24 10:00:01 box sshd[1]: Invalid user bob from 203.0.113.10 port 1' });
    if (i === 0) {
      await waitFor(() => got === 1, 'a failure through the first deploy');
      // The check below can fail: each node runs a thread while deployed.
      assert.ok(threads() >= before + 2, `${threads()} threads with two nodes deployed, ${before} before`);
    }
    await helper.unload();
  }
  const grown = () => threads() - before;
  await waitFor(() => grown() <= 1, 'the threads of 40 nodes to end', 10000).catch(() => undefined);
  console.log(`failregex-match isolation: threads before 20 deploys of 2 nodes: ${before}, after: ${threads()}`);
  assert.ok(grown() <= 1, `${grown()} threads more than before 20 deploys`);
});
