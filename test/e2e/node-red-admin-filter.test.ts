/**
 * The node-red-admin filter against a real Node-RED 4: adminAuth on, audit logging on, and the
 * httpAdminMiddleware exactly as the filter's header documents it (read from the file). Wrong
 * passwords are posted to /auth/token on 127.0.0.1 (one as if through a reverse proxy on
 * loopback, with "trust proxy" set as the header advises), and Node-RED's console output goes
 * through the filter.
 *
 * Observed with Node-RED 4.1 (kept as assertions below): a wrong password makes Node-RED log
 *   25 Nov 00:13:19 - [audit] {"event":"auth.login.fail.credentials","username":"admin","client":"node-red-editor","scope":"","level":98,"timestamp":1795565599478}
 * which carries NO client address; the documented middleware adds
 *   [audit] {"event":"auth.login.fail.http","ip":"127.0.0.1","username":"admin","status":403}
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BUILTIN_FILTER_DIR, loadBuiltinFilter, Matcher } from '../../lib/filter';
import { freePort, spawnNodeRed, stop } from '../support/process';

// bcrypt of "correct-horse-battery" (cost 8), as node-red admin hash-pw makes it.
const HASH = '$2b$08$/iqrO/innYYhauN0ug1sXuzcRE9CRHEsaDZZuMSZBPWU1ynyactVq';

let red: ChildProcess | null = null;
let userDir: string | null = null;
after(() => {
  if (red) stop(red);
  if (userDir) rmSync(userDir, { recursive: true, force: true });
});

/** The settings.js snippet from the filter's header comment: the lines from "logging:" to the middleware's closing "},". */
function documentedSettings(): string {
  const text = readFileSync(join(BUILTIN_FILTER_DIR, 'node-red-admin.conf'), 'utf8').split('\n');
  const start = text.findIndex((l) => /^#\s+logging: /.test(l));
  const end = text.findIndex((l, i) => i > start && /^#   \},\s*$/.test(l));
  assert.ok(start > 0 && end > start, 'the header of node-red-admin.conf documents the settings');
  return text.slice(start, end + 1).map((l) => l.replace(/^#/, '')).join('\n');
}

async function login(base: string, username: string, password: string, forwardedFor?: string): Promise<number> {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }).toString(),
  });
  await res.text();
  return res.status;
}

test('node-red-admin finds failed editor logins in a real Node-RED log, with the documented settings', { timeout: 60000 }, async () => {
  userDir = mkdtempSync(join(tmpdir(), 'f2b-nradmin-'));
  const port = await freePort();
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = {
  uiHost: "127.0.0.1", uiPort: ${port}, flowFile: "flows.json", credentialSecret: "test",
  adminAuth: { type: "credentials", users: [{ username: "admin", password: ${JSON.stringify(HASH)}, permissions: "*" }] },
  // as the header advises behind a reverse proxy on the same machine
  httpServerOptions: { "trust proxy": "loopback" },
${documentedSettings()}
};
`,
  );
  let output = '';
  const base = `http://127.0.0.1:${port}`;
  red = (await spawnNodeRed(userDir, base, { readyPath: '/auth/login', env: { ...process.env, FORCE_COLOR: '0' }, onOutput: (d) => (output += d) })).child;

  assert.equal(await login(base, 'admin', 'wrong'), 403);
  assert.equal(await login(base, 'x","ip":"198.51.100.1', 'wrong'), 403);
  // through a proxy on loopback, which names the client in X-Forwarded-For (a documentation address;
  // nothing is sent to it)
  assert.equal(await login(base, 'admin', 'wrong', '203.0.113.9'), 403);
  assert.equal(await login(base, 'admin', 'correct-horse-battery'), 200);
  const end = Date.now() + 5000;
  while ((output.match(/\[audit\]/g) ?? []).length < 7 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));

  const lines = output.split('\n').filter((l) => l.includes('[audit]'));
  // Node-RED's own line for a wrong password: no address in it.
  const own = lines.find((l) => l.includes('"auth.login.fail.credentials"') && l.includes('"username":"admin"'));
  assert.ok(own, `Node-RED logged no auth.login.fail.credentials event:\n${output}`);
  assert.match(own, /^\d{1,2} [A-Z][a-z]{2} \d{2}:\d{2}:\d{2} - \[audit\] \{"event":"auth\.login\.fail\.credentials","username":"admin","client":"node-red-editor","scope":"","level":98,"timestamp":\d+\}$/);
  assert.doesNotMatch(own, /"ip"/);

  const m = new Matcher(loadBuiltinFilter('node-red-admin'));
  const found = lines.flatMap((l) => m.match(l).failures.map((f) => ({ host: f.host, user: f.user, line: l })));
  // One failure per refused login, each from the client's address (loopback here), none from the injected name.
  assert.deepEqual(found.map((f) => f.host), ['127.0.0.1', '127.0.0.1', '203.0.113.9'], lines.join('\n'));
  assert.deepEqual(found.map((f) => f.user), ['admin', 'x\\",\\"ip\\":\\"198.51.100.1', 'admin']);
  for (const f of found) assert.match(f.line, /^\[audit\] \{"event":"auth\.login\.fail\.http","ip":"[\d.]+","username":".*","status":403\}$/);
  assert.ok(lines.some((l) => l.includes('"event":"auth.login"')), 'the successful login is logged too');
});
