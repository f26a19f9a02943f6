/** The built-in filter library as the failregex-match node offers and uses it, in a real Node-RED runtime. */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { builtinFilterNames } from '../../lib/filter';
import { helper, NODES, onTab, received, startRuntime, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.close());
afterEach(() => helper.unload());

test('the editor endpoint lists every built-in filter with what it reads and its options', async () => {
  await helper.load(NODES, onTab([{ id: 'm', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', wires: [] }]));
  const res = await helper.request().get('/failregex-match/filters').expect(200);
  const list = res.body as Array<{ name: string; description: string; options: Record<string, string[]> }>;
  assert.deepEqual(list.map((f) => f.name), builtinFilterNames());
  for (const f of list) assert.ok(f.description.length > 3, `${f.name} has a description`);
  const byName = Object.fromEntries(list.map((f) => [f.name, f]));
  assert.deepEqual(byName.postfix.options, { mode: ['normal', 'auth', 'ddos', 'aggressive'] });
  assert.deepEqual(byName.sshd.options, { mode: ['normal', 'ddos', 'extra', 'aggressive'], publickey: ['ignore', 'any'] });
  assert.deepEqual(byName['nginx-limit-req'].options, { zones: [] });
  assert.deepEqual(byName['postfix-greylist'].options, { reason: [] });
  assert.deepEqual(byName['pure-ftpd'].options, {});
});

test('failregex-match runs library filters by name, with options, and sends the offender', async () => {
  const flow = [
    { id: 'grey', type: 'failregex-match', filterSource: 'builtin', filterName: 'postfix-greylist', wires: [['out']] },
    { id: 'sasl', type: 'failregex-match', filterSource: 'builtin', filterName: 'postfix', filterOptions: 'mode=auth', wires: [['out']] },
    { id: 'nr', type: 'failregex-match', filterSource: 'builtin', filterName: 'node-red-admin', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const got = received('out');
  helper.getNode('grey').receive({ payload: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>' });
  helper.getNode('sasl').receive({ payload: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: warning: unknown[203.0.113.6]: SASL LOGIN authentication failed: UGFzc3dvcmQ6' });
  // mode=auth: a rejected recipient is not counted
  helper.getNode('sasl').receive({ payload: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <a@b>: Relay access denied; from=<x> to=<a@b>' });
  helper.getNode('nr').receive({ payload: '[audit] {"event":"auth.login.fail.http","ip":"203.0.113.7","username":"admin","status":403}' });
  await waitFor(() => got.length >= 3, 'three failures');
  await new Promise((r) => setTimeout(r, 100));
  const seen = got.map((m) => [(m.payload as { filter: string }).filter, m.topic]).sort();
  assert.deepEqual(seen, [
    ['node-red-admin', '203.0.113.7'],
    ['postfix', '203.0.113.6'],
    ['postfix-greylist', '203.0.113.5'],
  ]);
});

test('a mode the built-in filter does not have reaches Catch, naming the modes it has', async () => {
  const flow = [
    { id: 'm', type: 'failregex-match', filterSource: 'builtin', filterName: 'postfix', filterOptions: 'mode=agressive', wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const caught = received('caught');
  const node = helper.getNode('m');
  await waitFor(() => caught.length >= 1, 'a Catch for the configuration error');
  assert.match((caught[0].error as { message: string }).message, /filter postfix: mode=agressive is not one of its values \(normal, auth, ddos, aggressive\)/);
  node.receive({ payload: 'Nov 24 10:00:01 mx postfix/smtpd[1]: warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: x' });
  await waitFor(() => caught.length >= 2, 'a Catch for the line');
  assert.match((caught[1].error as { message: string }).message, /not configured: filter postfix: mode=agressive/);
});

test('a line over the limit is refused whole: no failure, counted in the status, reported to Catch once a minute', async () => {
  const flow = [
    { id: 'm', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', maxLineLength: '200', wires: [['out']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ];
  await helper.load(NODES, onTab(flow));
  const node = helper.getNode('m');
  const got = received('out');
  const caught = received('caught');
  const statuses: string[] = [];
  const n = node as unknown as { status: (s: { text?: string }) => void };
  const status = n.status.bind(node);
  n.status = (s) => {
    statuses.push(s.text ?? '');
    status(s);
  };
  // Cut at 200, the user name would be read as a failure of 10.0.0.1, the innocent address.
  const framing = `Nov 24 10:00:01 box sshd[1]: Invalid user ${'x from 10.0.0.1 port 22 '.repeat(12)}from 203.0.113.9 port 1`;
  node.receive({ payload: framing });
  node.receive({ payload: framing });
  node.receive({ payload: 'Nov 24 10:00:02 box sshd[2]: Invalid user bob from 203.0.113.10 port 1' });
  await waitFor(() => got.length >= 1 && statuses.some((s) => / 2 refused \(over 200 characters\)/.test(s)), 'the short line matched and the status counts the refused ones');
  assert.deepEqual(got.map((m) => m.topic), ['203.0.113.10']);
  // One report for both (rate-limited), with the message that carried the line.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(caught.length, 1);
  assert.match((caught[0].error as { message: string }).message, new RegExp(`a line of ${framing.length} characters, over the limit of 200, was refused unmatched \\(1 refused since the last report, 1 in all\\)`));
  assert.equal(caught[0].payload, framing);
});
