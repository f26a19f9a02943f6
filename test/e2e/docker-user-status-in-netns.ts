/**
 * Runs inside a namespace (see docker-user-status.test.ts): a real Node-RED with a firewall-ban node on
 * iptables, chain DOCKER-USER, deployed before "Docker" has made DOCKER-USER. Exits 0 when every check holds.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import type { NodeMessage } from 'node-red';
import { helper, NODES, onTab, startRuntime, waitFor } from '../support/red';

interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

async function main(): Promise<void> {
  const rt = await startRuntime();
  try {
    await helper.load(
      NODES,
      onTab([
        { id: 'ban', type: 'firewall-ban', name: 'web', backend: 'iptables', setName: 'f2b-web', chain: 'DOCKER-USER', ports: '8080', protocol: 'tcp', bantime: '10m', reconcile: '1', persist: false, unbanOnStop: true, wires: [[]] },
        { id: 'watcher', type: 'status', scope: ['ban'], wires: [['statuses']] },
        { id: 'statuses', type: 'helper' },
      ]),
    );
    const statuses: Status[] = [];
    helper.getNode('statuses').on('input', (m: NodeMessage) => statuses.push((m as NodeMessage & { status: Status }).status));
    await waitFor(() => /DOCKER-USER does not exist yet/.test(String(statuses.at(-1)?.text)), 'the status to say DOCKER-USER is missing', 10000);
    assert.equal(statuses.at(-1)!.fill, 'red');
    assert.notEqual(spawnSync('iptables', ['-w', '-S', 'DOCKER-USER']).status, 0, 'the node did not make DOCKER-USER');

    helper.getNode('ban').receive({ payload: { action: 'ban', ip: '198.51.100.23', jail: 'web' } });
    await waitFor(() => /-A f2b-web -s 198\.51\.100\.23\/32/.test(execFileSync('iptables', ['-w', '-S', 'f2b-web'], { encoding: 'utf8' })), 'the ban in the jail chain', 10000);
    await new Promise((r) => setTimeout(r, 1500)); // a status redrawn after the ban
    assert.match(String(statuses.at(-1)?.text), /DOCKER-USER does not exist yet/, 'after the ban, still says the chain is missing');

    // What Docker does when it starts, in iptables and ip6tables.
    for (const tool of ['iptables', 'ip6tables']) {
      execFileSync(tool, ['-w', '-N', 'DOCKER-USER']);
      execFileSync(tool, ['-w', '-A', 'DOCKER-USER', '-j', 'RETURN']);
      execFileSync(tool, ['-w', '-I', 'FORWARD', '1', '-j', 'DOCKER-USER']);
    }
    await waitFor(() => statuses.at(-1)?.fill === 'green' && /1 banned/.test(String(statuses.at(-1)?.text)), 'a green status with the ban', 15000);
    assert.match(execFileSync('iptables', ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' }), /^-A DOCKER-USER -j f2b-web$/m);

    await helper.unload();
    assert.equal(execFileSync('iptables', ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' }), '-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n', 'stopped, DOCKER-USER is left as Docker made it');
    assert.notEqual(spawnSync('iptables', ['-w', '-S', 'f2b-web']).status, 0, 'and the node\'s own chain is gone');
    process.stdout.write('docker-user status: all checks passed\n');
  } finally {
    await helper.unload().catch(() => undefined);
    await rt.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
