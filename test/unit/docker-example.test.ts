/**
 * deploy/docker and deploy/systemd cannot be run here (no Docker, and systemd is not PID 1): what can
 * be checked is that the compose file parses and holds the settings the README explains, that the
 * Dockerfile starts from the official image and copies the tarball `npm pack` makes, and that this
 * tarball holds what Node-RED loads.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..', '..');
const docker = join(root, 'deploy', 'docker');

test('deploy/docker/compose.yaml parses: host network, NET_ADMIN, logs and journal read-only, built from the Dockerfile', () => {
  // js-yaml is a dev dependency only: the package itself reads no YAML.
  const yaml = require('js-yaml') as { load(text: string): unknown };
  const compose = yaml.load(readFileSync(join(docker, 'compose.yaml'), 'utf8')) as { services: Record<string, Record<string, unknown>> };
  const svc = compose.services['node-red'];
  assert.equal(svc.network_mode, 'host');
  assert.deepEqual(svc.cap_add, ['NET_ADMIN', 'NET_RAW']);
  assert.deepEqual(svc.build, { context: '../..', dockerfile: 'deploy/docker/Dockerfile' });
  const volumes = svc.volumes as string[];
  for (const v of ['/var/log:/var/log:ro', '/var/log/journal:/var/log/journal:ro', '/run/log/journal:/run/log/journal:ro', '/etc/machine-id:/etc/machine-id:ro']) {
    assert.ok(volumes.includes(v), `volume ${v}`);
  }
  assert.ok(volumes.some((v) => v.endsWith(':/data')), 'Node-RED data in a volume');
  assert.equal((svc.group_add as string[]).length, 2, 'the groups adm and systemd-journal');
  assert.equal(svc.privileged, undefined, 'not privileged: NET_ADMIN is enough');
});

test('deploy/docker/Dockerfile: the official image, the firewall tools, and the tarball npm pack makes, which holds what Node-RED loads', () => {
  const dockerfile = readFileSync(join(docker, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM nodered\/node-red:\S+-debian$/m);
  assert.match(dockerfile, /apt-get install .*nftables iptables ipset conntrack systemd/);
  assert.match(dockerfile, /^USER node-red$/m, 'Node-RED runs unprivileged');
  const copy = /^COPY (\S+) \/tmp\/$/m.exec(dockerfile)![1];
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(new RegExp(`^${copy.replace(/[.]/g, '\\.').replace('*', '.*')}$`).test(pack.filename), `COPY ${copy} takes ${pack.filename}`);
  const files = pack.files.map((f) => f.path);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  for (const js of Object.values(pkg['node-red'].nodes)) {
    assert.ok(files.includes(js), `the tarball holds ${js}`);
    assert.ok(files.includes(js.replace(/\.js$/, '.html')), `and ${js.replace(/\.js$/, '.html')}`);
  }
  assert.ok(files.includes('examples/docker-host.json'));
  assert.ok(files.includes('deploy/fail2ban-action/mqtt-share.conf'), 'the fail2ban action that joins a fleet');
});
