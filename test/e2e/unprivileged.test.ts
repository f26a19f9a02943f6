/**
 * Node-RED need not run as root: as a user of its own with CAP_NET_ADMIN (what
 * deploy/systemd/node-red-fail2ban.service gives with AmbientCapabilities), the nftables and iptables
 * backends work, iptables-ipset with CAP_NET_RAW as well; without them they fail and say what is needed. setpriv
 * drops to user nobody with the capability in the inherited, ambient and bounding sets, inside a
 * network namespace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why =
  labUnavailable() ??
  (spawnSync('setpriv', ['--help']).status !== 0
    ? 'needs setpriv (util-linux)'
    : spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0']).status !== 0
      ? `user nobody cannot run ${process.execPath}`
      : null);
if (why) console.log(`# SKIPPED: the unprivileged test: ${why}`);
let lab: Lab | null = null;
let stage: string | null = null;
after(() => {
  lab?.remove();
  if (stage) rmSync(stage, { recursive: true, force: true });
});

/**
 * What the script needs, copied where user nobody can read it: the checkout may sit in a directory only
 * its owner can enter (a fresh clone in a mktemp -d folder does).
 */
function stageForNobody(): string {
  const root = resolve(__dirname, '..', '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'f2b-nobody-'));
  cpSync(join(root, 'dist', 'lib'), join(dir, 'dist', 'lib'), { recursive: true });
  mkdirSync(join(dir, 'dist', 'test', 'e2e'), { recursive: true });
  copyFileSync(join(__dirname, 'unprivileged-in-netns.js'), join(dir, 'dist', 'test', 'e2e', 'unprivileged-in-netns.js'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) cpSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep), { recursive: true, dereference: true });
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

const asNobody = (caps: string[]) => [
  'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
  `--inh-caps=-all${caps.map((c) => `,+${c}`).join('')}`, `--ambient-caps=-all${caps.map((c) => `,+${c}`).join('')}`, `--bounding-set=-all${caps.map((c) => `,+${c}`).join('')}`,
];

test('as an unprivileged user, nftables and iptables need only CAP_NET_ADMIN, iptables-ipset CAP_NET_RAW too; each bans, lists, lifts and cleans up, and says what is missing', { skip: why ?? false, timeout: 60000 }, () => {
  lab = createLab('cap');
  stage = stageForNobody();
  const script = [process.execPath, join(stage, 'dist', 'test', 'e2e', 'unprivileged-in-netns.js'), lab.client.address, lab.client.address6];
  const admin = lab.exec(lab.server, [...asNobody(['net_admin']), ...script], 40000);
  assert.equal(admin.status, 0, admin.stderr);
  const lines = admin.stdout.trim().split('\n');
  assert.deepEqual([lines[0], lines[2]], ['nftables ok', 'iptables ok'], `with CAP_NET_ADMIN only:\n${admin.stdout}${admin.stderr}`);
  // iptables' set match opens a raw socket to ask the kernel about the set.
  assert.match(lines[1], /^iptables-ipset: .*needs CAP_NET_RAW as well as CAP_NET_ADMIN/, lines[1]);
  const both = lab.exec(lab.server, [...asNobody(['net_admin', 'net_raw']), ...script], 40000);
  assert.equal(both.stdout, 'nftables ok\niptables-ipset ok\niptables ok\n', `with CAP_NET_ADMIN and CAP_NET_RAW:\n${both.stdout}${both.stderr}`);
  const left = lab.exec(lab.server, ['nft', 'list', 'ruleset']);
  assert.doesNotMatch(left.stdout, /f2b-cap/, 'stopped, the backends left nothing behind');

  const without = lab.exec(lab.server, [...asNobody([]), ...script], 40000);
  const failures = without.stdout.trim().split('\n');
  assert.equal(failures.length, 3, without.stdout + without.stderr);
  for (const line of failures) assert.match(line, /operation not permitted: Node-RED needs root or CAP_NET_ADMIN/, line);
  lab.remove();
});
