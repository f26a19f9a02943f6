/**
 * The CrowdSec nodes in a real Node-RED runtime, without the API (test/e2e/crowdsec.test.ts has the real
 * one): their configuration errors, what crowdsec-alert takes and refuses, and its queue saved under the
 * user directory while the API does not answer (a loopback port nothing listens on).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { freePort } from '../support/process';
import { helper, NODES, onTab, startRuntime, waitFor, type Runtime } from '../support/red';
import type { NodeMessage } from '../../nodes/node-red';

let rt: Runtime;
let closed = '';
before(async () => {
  rt = await startRuntime();
  closed = `http://127.0.0.1:${await freePort()}`;
});
after(() => rt.close());
afterEach(() => helper.unload());

type Status = { fill?: string; text?: string };
async function load(nodes: Array<Record<string, unknown>>, credentials: Record<string, Record<string, string>> = {}) {
  await helper.load(
    NODES,
    onTab([
      ...(nodes as Array<{ id: string; type: string }>),
      { id: 'catcher', type: 'catch', uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      { id: 'st', type: 'status', wires: [['statuses']] },
      { id: 'statuses', type: 'helper' },
    ]),
    credentials,
  );
  const statuses: Array<Status & { id: string }> = [];
  helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push({ ...(m.status as Status), id: String((m.status as { source?: { id?: string } }).source?.id) }));
  const caught: NodeMessage[] = [];
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push(m));
  return { statuses, caught };
}

test('configuration errors reach Catch nodes and say what to do', async () => {
  const { caught } = await load([
    { id: 'nolapi', type: 'crowdsec-decisions', lapi: '', wires: [[]] },
    { id: 'badurl', type: 'crowdsec-decisions', lapi: 'ftp', wires: [[]] },
    { id: 'nologin', type: 'crowdsec-alert', lapi: 'lapi' },
    { id: 'lapi', type: 'crowdsec-lapi', url: 'http://127.0.0.1:8080', config: true },
    { id: 'ftp', type: 'crowdsec-lapi', url: 'ftp://127.0.0.1', config: true },
  ]);
  const of = (id: string) => caught.find((m) => (m.error as { source?: { id?: string } }).source?.id === id);
  await waitFor(() => ['nolapi', 'badurl', 'nologin'].every((id) => of(id)), 'three errors caught');
  const text = (id: string) => String((of(id)!.error as { message?: string }).message);
  assert.match(text('nolapi'), /no crowdsec-lapi node/);
  assert.match(text('badurl'), /http:\/\/ or https:\/\//);
  assert.match(text('nologin'), /cscli machines add/);
});

test('crowdsec-alert: ban decisions wait in a queue saved under fail2ban/ while the API is away; fleet and CrowdSec bans and unbans are not posted', async () => {
  const { statuses, caught } = await load(
    [
      { id: 'alert', type: 'crowdsec-alert', lapi: 'lapi', maxQueued: '100' },
      { id: 'lapi', type: 'crowdsec-lapi', url: closed, config: true },
    ],
    { lapi: { machineId: 'node-red', password: 'secret' } },
  );
  const alert = helper.getNode('alert');
  alert.receive({ payload: { action: 'ban', host: '203.0.113.5', ip: '203.0.113.5', bantime: 600, jail: 'sshd', failures: 3, matches: ['line'], banCount: 1 } });
  alert.receive({ payload: { action: 'ban', ip: '203.0.113.6', bantime: 600, jail: 'crowdsec', origin: 'cscli' } });
  alert.receive({ payload: { action: 'ban', ip: '203.0.113.7', bantime: 600, jail: 'sshd', origin: 'hostB' } });
  alert.receive({ payload: { event: 'unban', ip: '203.0.113.5', jail: 'sshd' } });
  await waitFor(() => caught.length === 1, 'the unban event refused to Catch');
  assert.match(String((caught[0].error as { message?: string }).message), /unban event is not a ban decision/);
  await waitFor(() => statuses.some((s) => s.id === 'alert' && s.fill === 'red' && /1 waiting: .*unreachable/.test(s.text ?? '')), 'the status: 1 waiting, the API unreachable', 8000);
  await helper.unload();
  const file = join(rt.userDir, 'fail2ban', 'crowdsec-alerts-alert.json');
  assert.ok(existsSync(file), 'saved as the node closed');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(saved.items.map((a: { ip: string; jail: string }) => [a.ip, a.jail]), [['203.0.113.5', 'sshd']]);
});

test('crowdsec-decisions: an API that does not answer turns the status red with what to do, told to Catch once', async () => {
  const { statuses, caught } = await load(
    [
      { id: 'dec', type: 'crowdsec-decisions', lapi: 'lapi', interval: '1', wires: [[]] },
      { id: 'lapi', type: 'crowdsec-lapi', url: closed, config: true },
    ],
    { lapi: { apiKey: 'key' } },
  );
  await waitFor(() => statuses.some((s) => s.id === 'dec' && s.fill === 'red' && /not answering: is crowdsec running/.test(s.text ?? '')), 'the red status', 8000);
  await new Promise((r) => setTimeout(r, 2500)); // two more polls fail the same way
  assert.equal(caught.filter((m) => /unreachable/.test(String((m.error as { message?: string }).message))).length, 1, 'one error for the whole spell');
});
