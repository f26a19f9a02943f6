import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
let lab: Lab | null = null;
after(() => lab?.remove());

test('nftables: a ban of a new address is one nft run without a listing; banning an address again replaces its timeout (longer, shorter, for ever, prefixes, IPv6, twice in a batch)', { skip: why ?? false, timeout: 60000 }, () => {
  assert.equal(spawnSync('nft', ['--version']).status, 0, 'nft is not installed: apt-get install nftables (.ci/run does)');
  lab = createLab('nrb');
  const r = lab.exec(lab.server, [process.execPath, join(__dirname, 'nftables-reban-in-netns.js')], 50000);
  lab.remove();
  assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /all checks passed/);
});
