/**
 * A Docker host in network namespaces (issue 18): the server namespace publishes a "container"
 * namespace's ports through DNAT, and firewall-ban protects them with nftables `hook` forward and
 * iptables / iptables-ipset `chain` DOCKER-USER. See docker-host-in-netns.ts for the checks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
const labs: Lab[] = [];
after(() => labs.forEach((l) => l.remove()));

const TOOLS: Record<string, string[]> = {
  nftables: ['nft', 'iptables'],
  iptables: ['iptables'],
  'iptables-ipset': ['iptables', 'ipset'],
};

for (const [backend, tools] of Object.entries(TOOLS)) {
  test(`${backend}: a Docker-published port is protected (forward / DOCKER-USER), by its published port, and the ban survives a flush`, { skip: why ?? false, timeout: 120000 }, () => {
    for (const tool of tools) assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is not installed`);
    // server; attacker on 10.231.7.0/24; container on 10.231.8.0/24; allowed client on 10.231.9.0/24.
    const lab = createLab(`d${backend.slice(-3)}`, 2);
    labs.push(lab);
    const { server, client: attacker, others: [container, allowed] } = lab;
    const ok = (host: typeof server, args: string[]) => {
      const r = lab.exec(host, args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    };
    ok(server, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    // The container answers clients through the server (a route to the lab's links, no default route).
    ok(container, ['ip', 'route', 'add', '10.231.0.0/16', 'via', container.peer]);
    const r = lab.exec(server, [process.execPath, join(__dirname, 'docker-host-in-netns.js'), backend, container.ns, container.address, attacker.ns, attacker.address, server.address, allowed.ns, allowed.peer], 110000);
    lab.remove();
    assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /all checks passed/);
  });
}
