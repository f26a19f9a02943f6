/**
 * Issue 9 from the log's side: log lines written by an attacker (shell syntax in the user name and where
 * the address should be, options, a 10 kB line, look-alike digits, a whole-Internet prefix) go through
 * log-tail -> failregex-match (sshd) -> threshold-window (maxretry 1) -> firewall-ban on the two backends
 * that run a shell or the user's commands (fail2ban-action, command). Nothing but an address that parsed
 * reaches a command; the marker file the hostile text would create never appears.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAddressOrPrefix } from '../../lib/ip';
import type { NodeMessage } from '../../nodes/node-red';
import { helper, NODES, onTab, startRuntime, syslogDate, waitFor, type Runtime } from '../support/red';

let rt: Runtime;
const cwd = process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'f2b-hostile-log-'));
before(async () => {
  rt = await startRuntime();
  // Commands run here; the hostile text names its marker without a '/', so it is not taken for a prefix.
  process.chdir(dir);
});
after(async () => {
  await helper.unload();
  await rt.close();
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

test('hostile sshd log lines ban only addresses that parsed; no command runs their text', async () => {
  const marker = join(dir, 'PWNED');
  const actDir = join(dir, 'action');
  const cmdDir = join(dir, 'command');
  mkdirSync(actDir);
  mkdirSync(cmdDir);
  const actionFile = join(dir, 'touch.conf');
  writeFileSync(
    actionFile,
    `[Definition]
actionban = touch <statedir>/<ip> && echo "<ip> banned for <bantime> after <failures> failures, ban <bancount>" >> <statedir>/../action.log
actionunban = rm -f <statedir>/<ip>
[Init]
statedir = ${actDir}
`,
  );
  const log = join(dir, 'auth.log');
  writeFileSync(log, '');
  await helper.load(NODES, onTab([
    { id: 'tail', type: 'log-tail', paths: log, start: 'end', resume: false, wires: [['match']] },
    { id: 'match', type: 'failregex-match', filterSource: 'builtin', filterName: 'sshd', filterOptions: 'mode=aggressive', wires: [['window']] },
    { id: 'window', type: 'threshold-window', name: 'sshd', maxretry: '1', findtime: '10m', bantime: '10m', ignoreip: '127.0.0.1/8 ::1', ignoreself: true, wires: [['act', 'cmd', 'decisions']] },
    { id: 'act', type: 'firewall-ban', name: 'sshd', backend: 'fail2ban-action', actionFile, persist: false, reconcile: '0', wires: [['events']] },
    { id: 'cmd', type: 'firewall-ban', name: 'sshd', backend: 'command', banCommand: `sh -c "touch ${cmdDir}/<ip>"`, unbanCommand: `sh -c "rm -f ${cmdDir}/<ip>"`, persist: false, reconcile: '0', wires: [['events']] },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'decisions', type: 'helper' },
    { id: 'events', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ]));
  const decisions: Array<Record<string, unknown>> = [];
  const events: Array<Record<string, unknown>> = [];
  const caught: string[] = [];
  helper.getNode('decisions').on('input', (m: NodeMessage) => decisions.push(m.payload as Record<string, unknown>));
  helper.getNode('events').on('input', (m: NodeMessage) => events.push(m.payload as Record<string, unknown>));
  helper.getNode('caught').on('input', (m: NodeMessage) => caught.push((m.error as { message: string }).message));
  await new Promise((r) => setTimeout(r, 500)); // the follower opens the file

  const line = (text: string) => `${syslogDate()} box sshd[4242]: ${text}\n`;
  const hostile = [
    'Failed password for invalid user $(touch PWNED) from 192.0.2.10 port 22 ssh2',
    'Failed password for root from 1.2.3.4; touch PWNED port 22 ssh2',
    'Failed password for root from $(touch PWNED) port 22 ssh2',
    'Failed password for root from `touch PWNED` port 22 ssh2',
    'Failed password for root from 192.0.2.12;touch PWNED port 22 ssh2',
    'Failed password for root from 192.0.2.12|touch PWNED port 22 ssh2',
    'Failed password for root from -h port 22 ssh2',
    'Failed password for root from --flush port 22 ssh2',
    "Failed password for root from ::1';touch PWNED port 22 ssh2",
    'Failed password for root from 1.2.3.4/0 port 22 ssh2',
    'Failed password for root from 0.0.0.0/0 port 22 ssh2',
    'Failed password for root from \uff11.\uff12.\uff13.\uff14 port 22 ssh2',
    'Failed password for root from 1.2.3.4\u037etouch PWNED port 22 ssh2',
    `Failed password for ${'A'.repeat(10 * 1024)};touch PWNED from 192.0.2.13 port 22 ssh2`,
    "Invalid user ';touch PWNED;' from 192.0.2.11 port 22",
    'Invalid user x from 192.0.2.14 port 22; touch PWNED',
  ];
  appendFileSync(log, hostile.map(line).join('') + line('Failed password for root from 198.51.100.7 port 22 ssh2'));
  // The last, plain line is banned on both backends: everything before it went through the pipeline.
  await waitFor(() => existsSync(join(actDir, '198.51.100.7')) && existsSync(join(cmdDir, '198.51.100.7')), 'the plain line banned on both backends', 15000);
  await new Promise((r) => setTimeout(r, 300));

  assert.ok(!existsSync(marker), 'a hostile log line ran a command');
  // Every decision is about an address: text where the address should be (-h, look-alike digits) is not counted.
  for (const d of decisions) assert.ok(parseAddressOrPrefix(d.ip), `a decision without an address: ${JSON.stringify(d).slice(0, 200)}`);
  // The sshd filter's patterns are anchored at the line's end: only the lines whose address is followed by
  // what sshd writes count, and their addresses (not the hostile user names) are banned.
  assert.deepEqual(readdirSync(actDir).sort(), ['192.0.2.10', '192.0.2.11', '192.0.2.13', '198.51.100.7']);
  assert.deepEqual(readdirSync(cmdDir).sort(), ['192.0.2.10', '192.0.2.11', '192.0.2.13', '198.51.100.7']);
  for (const folder of [actDir, cmdDir]) {
    for (const name of readdirSync(folder)) assert.ok(parseAddressOrPrefix(name), `${folder} holds ${JSON.stringify(name)}`);
  }
  assert.ok(existsSync(join(actDir, '192.0.2.10')), 'the address of the line whose user name is hostile is banned (the user never reaches the shell)');
  for (const l of readFileSync(join(dir, 'action.log'), 'utf8').trim().split('\n')) {
    assert.match(l, /^[0-9a-f.:]+ banned for \d+ after \d+ failures, ban \d+$/, 'the action got numbers and an address only');
  }
  const banned = events.filter((e) => e.event === 'ban').map((e) => String(e.ip));
  for (const ip of banned) assert.ok(parseAddressOrPrefix(ip), ip);
  for (const m of caught) assert.ok(m.length < 400 && !m.includes('\n'), `an error is long or several lines: ${m.slice(0, 200)}`);
});
