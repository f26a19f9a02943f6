import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
const labs: Lab[] = [];
after(() => labs.forEach((l) => l.remove()));

for (const backend of ['nftables', 'iptables-ipset', 'iptables', 'route']) {
  test(`${backend}: Node-RED killed with SIGKILL and the firewall flushed; started again, the bans are back with their remaining time`, { skip: why ?? false, timeout: 120000 }, () => {
    const lab = createLab(`rs${backend.slice(0, 2)}${backend.length % 10}`);
    labs.push(lab);
    const { server, client } = lab;
    const r = lab.exec(server, [process.execPath, join(__dirname, 'restart-in-netns.js'), backend, server.address, client.ns, client.address, client.address6], 110000);
    lab.remove();
    assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /all checks passed/);
  });
}
