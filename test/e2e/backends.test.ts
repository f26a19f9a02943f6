import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
const labs: Lab[] = [];
after(() => labs.forEach((l) => l.remove()));

const TOOLS: Record<string, string[]> = {
  'iptables-ipset': ['iptables', 'ip6tables', 'ipset', 'conntrack'],
  iptables: ['iptables', 'ip6tables', 'conntrack'],
  route: ['ip', 'conntrack'],
};

for (const backend of Object.keys(TOOLS)) {
  test(`${backend}: bans block the client over IPv4 and IPv6, end, are lifted, refuse this machine, and come back after a flush`, { skip: why ?? false, timeout: 90000 }, () => {
    for (const tool of TOOLS[backend]) {
      assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is not installed (.ci/run installs it)`);
    }
    const lab = createLab(backend.slice(0, 3));
    labs.push(lab);
    const { server, client } = lab;
    const r = lab.exec(server, [process.execPath, join(__dirname, 'backends-in-netns.js'), backend, server.address, server.address6, client.ns, client.address, client.address6], 80000);
    lab.remove();
    assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /all checks passed/);
  });
}
