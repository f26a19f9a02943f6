/** firewall-ban's status while Docker's DOCKER-USER chain is missing, in a real Node-RED inside a network namespace. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
let lab: Lab | null = null;
after(() => lab?.remove());

test('firewall-ban on chain DOCKER-USER: red status saying it is missing, the ban held meanwhile, green once Docker makes the chain', { skip: why ?? false, timeout: 60000 }, () => {
  lab = createLab('dus');
  const r = lab.exec(lab.server, [process.execPath, join(__dirname, 'docker-user-status-in-netns.js')], 50000);
  lab.remove();
  assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /all checks passed/);
});
