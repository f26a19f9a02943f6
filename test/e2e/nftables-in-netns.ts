/**
 * Runs inside the server namespace (see nftables.test.ts): a real Node-RED with a firewall-ban node on
 * the nftables backend, a TCP listener, and a client in the client namespace that tries to connect.
 * Exits 0 when every check holds; prints what failed otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { elementsOf } from '../../lib/firewall';
import { connectsFrom } from '../support/netns';
import { helper, NODES, onTab, received, startRuntime, waitFor } from '../support/red';

const [serverAddress, clientNs, clientAddress] = process.argv.slice(2);
const PORT = 2222;

/** Can the client namespace open a TCP connection to the listener? */
const clientConnects = () => connectsFrom(clientNs, serverAddress, PORT);

const setElements = () => elementsOf(execFileSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', 'f2b-lab'], { encoding: 'utf8' }));

async function main(): Promise<void> {
  const listener = createServer((s) => s.end('SSH-2.0-test\r\n'));
  await new Promise<void>((r) => listener.listen(PORT, serverAddress, () => r()));
  const rt = await startRuntime();
  try {
    await helper.load(
      NODES,
      onTab([
        { id: 'fw', type: 'firewall-ban', name: 'lab', backend: 'nftables', setName: 'f2b-lab', table: 'fail2ban', ports: String(PORT), protocol: 'tcp', bantime: '10m', reconcile: '1', persist: true, unbanOnStop: true, wires: [['events']] },
        { id: 'named', type: 'firewall-ban', name: 'sshd', backend: 'nftables', bantime: '10m', wires: [['events']] },
        { id: 'events', type: 'helper' },
      ]),
    );
    const events = received('events');
    const fw = helper.getNode('fw');
    await waitFor(() => spawnSync('nft', ['list', 'set', 'inet', 'fail2ban', 'f2b-lab']).status === 0, 'the set to exist');
    assert.ok(clientConnects(), 'before the ban, the client connects');

    fw.receive({ payload: { action: 'ban', ip: clientAddress, bantime: 3, jail: 'lab' } });
    await waitFor(() => events.some((e) => (e.payload as { event: string }).event === 'ban'), 'the ban event');
    assert.deepEqual(setElements(), [clientAddress], 'the address is in the nftables set');
    assert.ok(!clientConnects(), 'while banned, the client cannot connect');

    await waitFor(() => events.some((e) => (e.payload as { event: string }).event === 'unban'), 'the unban after bantime', 8000);
    assert.deepEqual(setElements(), [], 'after bantime the set is empty');
    assert.ok(clientConnects(), 'after bantime, the client connects again');

    // A flushed firewall: the next reconciliation puts the ban back.
    fw.receive({ payload: { action: 'ban', ip: clientAddress, bantime: 600 } });
    await waitFor(() => events.filter((e) => (e.payload as { event: string }).event === 'ban').length === 2, 'the second ban');
    execFileSync('nft', ['flush', 'ruleset']);
    await waitFor(() => events.some((e) => (e.payload as { event: string }).event === 'repair'), 'the repair after a flush', 5000);
    assert.deepEqual(setElements(), [clientAddress], 'the ban is back in the set');
    assert.ok(!clientConnects(), 'and blocks again');

    // IPv6 goes into the -v6 set; an unnamed set takes its name from the node: f2b-<name>.
    fw.receive({ payload: { action: 'ban', ip: '2001:DB8::5', bantime: 600 } });
    helper.getNode('named').receive({ payload: '192.0.2.55' });
    await waitFor(() => events.filter((e) => (e.payload as { event: string }).event === 'ban').length === 4, 'the IPv6 and the named bans');
    const v6 = elementsOf(execFileSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', 'f2b-lab-v6'], { encoding: 'utf8' }));
    assert.deepEqual(v6, ['2001:db8::5']);
    const named = elementsOf(execFileSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', 'f2b-sshd'], { encoding: 'utf8' }));
    assert.deepEqual(named, ['192.0.2.55']);

    // A prefix goes into the interval set f2b-lab-net.
    fw.receive({ payload: { action: 'ban', ip: '198.51.100.0/24', bantime: 600 } });
    await waitFor(() => events.filter((e) => (e.payload as { event: string }).event === 'ban').length === 5, 'the prefix ban');
    assert.deepEqual(elementsOf(execFileSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', 'f2b-lab-net'], { encoding: 'utf8' })), ['198.51.100.0/24']);

    await helper.unload(); // unbanOnStop: the node removes what it made
    const table = spawnSync('nft', ['list', 'table', 'inet', 'fail2ban']);
    assert.equal(table.status, 0, 'the table stays while another jail (f2b-sshd, unbanOnStop off) uses it');
    const left = execFileSync('nft', ['list', 'table', 'inet', 'fail2ban'], { encoding: 'utf8' });
    assert.ok(!left.includes('f2b-lab'), `the stopped jail removed its chain and sets:\n${left}`);
    assert.match(left, /192\.0\.2\.55/, 'the other jail keeps its ban over a restart (unbanOnStop off)');
    process.stdout.write('nftables lab: all checks passed\n');
  } finally {
    await rt.close().catch(() => undefined);
    listener.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
