/**
 * The editor's admin endpoints of this package behind Node-RED's own permissions: a Node-RED with
 * adminAuth (an admin, a read-only user), logged in through /auth/token as the editor does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, installPackage, resolveNodeRed, spawnNodeRed, stopAndWait } from '../support/process';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('the live tester and the ban endpoints need write permission; the bans list needs read; the fail2ban import needs flows.write; nothing without a login', { timeout: 60000 }, async () => {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-auth-'));
  cleanups.push(() => rmSync(userDir, { recursive: true, force: true }));
  installPackage(userDir);
  // bcryptjs comes with Node-RED; the hash is of "secret".
  const bcrypt = require(require.resolve('bcryptjs', { paths: [resolveNodeRed('@node-red/editor-api/package.json')] })) as { hashSync(s: string, r: number): string };
  const hash = bcrypt.hashSync('secret', 4);
  const port = await freePort();
  writeFileSync(join(userDir, 'settings.js'), `module.exports = {
  uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'test',
  logging: { console: { level: 'warn' } },
  adminAuth: { type: 'credentials', users: [
    { username: 'admin', password: '${hash}', permissions: '*' },
    { username: 'viewer', password: '${hash}', permissions: 'read' },
  ] },
};\n`);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify([
    { id: 't', type: 'tab', label: 'jail' },
    { id: 'ban', type: 'firewall-ban', z: 't', name: 'sshd', backend: 'dry-run', bantime: '10m', persist: false, x: 100, y: 100, wires: [[]] },
  ]));
  const base = `http://127.0.0.1:${port}`;
  const { child: red } = await spawnNodeRed(userDir, base, { readyPath: '/auth/login' });
  cleanups.push(() => stopAndWait(red));

  const login = async (username: string) => {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: username === 'viewer' ? 'read' : '*', username, password: 'secret' }),
    });
    assert.equal(res.status, 200, `login of ${username}`);
    return { Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
  };
  const admin = await login('admin');
  const viewer = await login('viewer');
  const call = async (path: string, headers: Record<string, string>, body?: unknown) =>
    (await fetch(`${base}${path}`, body === undefined ? { headers } : { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).status;

  const tester = { settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: ['Nov 24 10:00:01 box sshd[1]: Failed password for root from 192.0.2.7 port 22 ssh2'] };
  for (const [path, body, anyone, reader, writer] of [
    ['/failregex-match/test', tester, 401, 401, 200],
    ['/failregex-match/filters', undefined, 401, 200, 200],
    ['/firewall-ban/ban/ban', { ip: '192.0.2.8' }, 401, 401, 200],
    ['/firewall-ban/ban/bans', undefined, 401, 200, 200],
    ['/firewall-ban/ban/unban', { ip: '192.0.2.8' }, 401, 401, 200],
    ['/f2b-import/preview', { source: 'paste', dir: join(userDir, 'no-fail2ban-here'), jailLocal: '[sshd]\nenabled = true\nlogpath = /var/log/auth.log\n' }, 401, 401, 200],
  ] as const) {
    assert.equal(await call(path, {}, body), anyone, `${path} without a login`);
    assert.equal(await call(path, viewer, body), reader, `${path} as a read-only user`);
    assert.equal(await call(path, admin, body), writer, `${path} as admin`);
  }
});
