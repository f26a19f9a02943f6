import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
let lab: Lab | null = null;
after(() => lab?.remove());

test('firewall-ban with nftables bans in a set it creates, blocks the client, lifts after bantime, repairs a flush', { skip: why ?? false, timeout: 60000 }, () => {
  assert.equal(spawnSync('nft', ['--version']).status, 0, 'nft is not installed: apt-get install nftables (.ci/run does)');
  lab = createLab('nft');
  const r = lab.exec(lab.server, [process.execPath, join(__dirname, 'nftables-in-netns.js'), lab.server.address, lab.client.ns, lab.client.address], 50000);
  assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /all checks passed/);
});
