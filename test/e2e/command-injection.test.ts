/**
 * Issue 9, command injection: hostile `ip` values through every entry point that can reach a firewall
 * (firewall-ban on every backend, threshold-window, the admin API, mail-notify), in a real Node-RED runtime
 * inside a network namespace. See command-injection-in-netns.ts for what is checked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
const labs: Lab[] = [];
const dir = mkdtempSync(join(tmpdir(), 'f2b-inject-'));
after(() => {
  labs.forEach((l) => l.remove());
  rmSync(dir, { recursive: true, force: true });
});

test('hostile ip values (shell syntax, options, new lines, look-alikes, 10 kB, wrong types, whole-Internet prefixes) run nothing, change no firewall, reach Catch, and the nodes keep working', { skip: why ?? false, timeout: 150000 }, () => {
  for (const tool of ['nft', 'iptables', 'ip6tables', 'ipset', 'iptables-save', 'ip6tables-save']) {
    assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is not installed (.ci/run installs it)`);
  }
  const lab = createLab('inj');
  labs.push(lab);
  const r = lab.exec(lab.server, [process.execPath, join(__dirname, 'command-injection-in-netns.js'), dir], 140000);
  lab.remove();
  assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /all checks passed/);
});
