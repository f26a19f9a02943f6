/**
 * Issue 17, part 1, through a whole jail: over-long sshd lines whose user name frames an innocent
 * address, written to a followed log. log-tail drops lines over 64 KiB whole; failregex-match refuses
 * lines over its own limit whole (here 4096, so that log-tail hands them on). No framed address is
 * ever banned; the jail still bans a real offender.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { framingLines, tables } from '../support/filter-samples';
import { helper, NODES, onTab, received, type FlowNode, startRuntime, syslogDate, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

const frame = (innocent: string, bytes: number) => `x from ${innocent} port 22 `.repeat(Math.ceil(bytes / `x from ${innocent} port 22 `.length));

test('framing lines of 5 KB and 70 KB ban nobody innocent; a real offender is banned', async () => {
  const log = join(rt.userDir, 'long-auth.log');
  writeFileSync(log, '');
  const flow: FlowNode[] = [
    { id: 'tail', type: 'log-tail', paths: log, start: 'end', wires: [['match', 'lines']] },
    { id: 'match', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', filterOptions: 'mode=aggressive', maxLineLength: '4096', wires: [['window', 'failures']] },
    { id: 'window', type: 'threshold-window', name: 'sshd', maxretry: '1', findtime: '10m', bantime: '10m', ignoreself: false, wires: [['ban']] },
    { id: 'ban', type: 'firewall-ban', name: 'sshd', backend: 'dry-run', bantime: '10m', wires: [['events']] },
    { id: 'lines', type: 'helper' },
    { id: 'failures', type: 'helper' },
    { id: 'events', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const lines = received('lines');
  const failures = received('failures');
  const events = received('events');
  await new Promise((r) => setTimeout(r, 500)); // the follower opens the file

  const head = (pid: number) => `${syslogDate()} box sshd[${pid}]: `;
  appendFileSync(
    log,
    [
      // Over failregex-match's limit (4096), under log-tail's (64 KiB): handed on, refused whole.
      `${head(1)}Failed password for invalid user ${frame('10.0.0.1', 5000)}from 198.51.100.50 port 4444 ssh2`,
      `${head(2)}Invalid user ${frame('10.0.0.2', 5000)}from 198.51.100.51 port 4445`,
      `${head(3)}Disconnected from invalid user ${frame('10.0.0.3', 5000)}198.51.100.52 port 4446 [preauth]`,
      // Over log-tail's limit: dropped whole by log-tail.
      `${head(4)}Failed password for invalid user ${frame('10.0.0.4', 70_000)}from 198.51.100.53 port 4447 ssh2`,
      `${head(5)}Failed password for root from 203.0.113.77 port 50000 ssh2`,
    ].join('\n') + '\n',
  );
  await waitFor(() => events.length >= 1, 'the real offender banned');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(lines.length, 4, 'log-tail handed on every line but the one over 64 KiB');
  assert.deepEqual(failures.map((m) => m.topic), ['203.0.113.77']);
  assert.deepEqual(events.map((m) => (m.payload as { ip: string }).ip), ['203.0.113.77']);
  const bans = await helper.request().get('/firewall-ban/ban/bans').expect(200);
  assert.deepEqual(bans.body.map((b: { ip: string }) => b.ip), ['203.0.113.77']);
});

test('every built-in filter, deployed: over-long lines framing an address give no failure and are counted', async () => {
  const flow: FlowNode[] = tables.map((t, i) => ({
    id: `m${i}`,
    type: 'failregex-match',
    filterSource: 'builtin',
    filterName: t.filter,
    filterOptions: Object.entries(t.options ?? {}).map(([k, v]) => `${k}=${v}`).join(', '),
    wires: [['out']],
  }));
  flow.push({ id: 'out', type: 'helper' });
  await helper.load(NODES, onTab(flow));
  const out = received('out');
  const counted: Record<string, string> = {};
  let sent = 0;
  tables.forEach((t, i) => {
    const node = helper.getNode(`m${i}`);
    const n = node as unknown as { status: (s: { text?: string }) => void };
    const status = n.status.bind(node);
    n.status = (st) => {
      counted[`m${i}`] = st.text ?? '';
      status(st);
    };
    for (const line of framingLines(t.match)) {
      node.receive({ payload: line });
      sent++;
    }
  });
  await waitFor(() => Object.keys(counted).length === tables.length && Object.values(counted).every((s) => / refused \(over 65536 characters\)/.test(s)), 'every node counting refused lines', 10000);
  const total = Object.values(counted).reduce((sum, s) => sum + Number(/ (\d+) refused/.exec(s)![1]), 0);
  assert.equal(total, sent);
  assert.deepEqual(out, []);
});
