/**
 * The built-in filter library (filters/*.conf): for each filter, lines in the real daemon's log
 * format that must match (with the offender and user), lines that must not (successful logins,
 * unrelated messages), lines where client-controlled text holds another address (the daemon's own
 * address must be the one found, or nothing), and a long hostile line that must not make a
 * pattern spin. The sample lines are written for these tests (documentation addresses only).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinFilterNames, BUILTIN_FILTER_DIR, loadBuiltinFilter, Matcher, MAX_LINE_LENGTH } from '../../lib/filter';
import { builtinFilterInfo, builtinOptionProblem } from '../../lib/filter-library';
import { journalLine } from '../../lib/tail';
import { tableLines, tables } from '../support/filter-samples';

const NOW = new Date(2026, 10, 24, 12, 0, 0).getTime();


const matcher = (name: string, options: Record<string, string> = {}) => new Matcher(loadBuiltinFilter(name, new Map(Object.entries(options))));


for (const t of tables) {
  const label = t.options ? `${t.filter}[${Object.entries(t.options).map(([k, v]) => `${k}=${v}`).join(', ')}]` : t.filter;
  test(`${label}: failures, other lines, injected addresses, a hostile line`, () => {
    const m = matcher(t.filter, t.options);
    for (const hit of t.match) {
      const r = m.match(hit.line, undefined, NOW);
      assert.deepEqual(r.failures.map((f) => f.host), [hit.host], hit.line);
      if (hit.user !== undefined) assert.equal(r.failures[0].user, hit.user, hit.line);
      assert.ok(r.time !== null && Math.abs(r.failures[0].time - NOW) < 400 * 86400000, `time of ${hit.line}`);
    }
    for (const line of t.miss) assert.deepEqual(m.match(line, undefined, NOW).failures, [], line);
    for (const session of t.sessions ?? []) {
      // each session with a matcher of its own, and the same lines with other process ids do not meet
      const alone = matcher(t.filter, t.options);
      const last = session.lines.length - 1;
      session.lines.forEach((line, i) => {
        const failures = alone.match(line, undefined, NOW).failures;
        if (i < last || session.host === null) return assert.deepEqual(failures, [], line);
        assert.deepEqual(failures.map((f) => f.host), [session.host], line);
        assert.deepEqual(failures[0].lines, session.lines, `the failure holds the lines of its session: ${line}`);
      });
      const apart = matcher(t.filter, t.options);
      const other = (line: string, i: number) => line.replace(/\[(\d+)\]:/, (_, pid: string) => `[${Number(pid) + 1 + i}]:`);
      const found = session.lines.flatMap((line, i) => apart.match(other(line, i), undefined, NOW).failures.map((f) => f.host));
      assert.ok(found.length <= 1 && (found.length === 0 || found[0] === session.host), `lines of other processes: ${found.join(', ')} in ${session.lines.join(' / ')}`);
    }
    for (const inj of t.injected) {
      assert.deepEqual(m.match(inj.line, undefined, NOW).failures.map((f) => f.host), inj.host ? [inj.host] : [], inj.line);
    }
    // As long as a line may be and still be matched (a longer one is refused unread).
    const hostile = t.hostile.head + t.hostile.fragment.repeat(Math.floor((MAX_LINE_LENGTH - t.hostile.head.length) / t.hostile.fragment.length));
    const start = process.hrtime.bigint();
    assert.equal(m.match(hostile, undefined, NOW).tooLong, false);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms < 200, `${label}: a 64 KiB hostile line took ${ms.toFixed(1)} ms`);
  });
}

test('every built-in filter loads and compiles with each of its modes, and builtinFilterNames lists them all', () => {
  const files = readdirSync(BUILTIN_FILTER_DIR).filter((f) => f.endsWith('.conf') && f !== 'common.conf').map((f) => f.replace(/\.conf$/, '')).sort();
  assert.deepEqual(builtinFilterNames(), files);
  const required = ['sshd', 'postfix', 'postfix-greylist', 'named', 'dovecot', 'vsftpd', 'proftpd', 'pure-ftpd', 'exim', 'courier', 'nginx-http-auth', 'nginx-limit-req', 'apache-auth', 'apache-badbots', 'mysqld-auth', 'node-red-admin'];
  for (const name of required) assert.ok(files.includes(name), `filters/${name}.conf is missing`);
  // Each filter of the library has its table here, with at least one line of injected addresses.
  for (const name of required) {
    assert.ok(tables.some((t) => t.filter === name && t.injected.length > 0), `${name}: no table with injected addresses`);
  }
  for (const name of files) {
    const text = readFileSync(join(BUILTIN_FILTER_DIR, `${name}.conf`), 'utf8');
    // A header that says what the filter reads, and which options it has.
    assert.match(text, /^# node-red-contrib-fail2ban built-in filter: \S/, `${name}: header`);
    assert.match(text, /^# +Options/m, `${name}: the header lists its options`);
    const modes = [...text.matchAll(/^mode_(\w+) =/gm)].map((mm) => mm[1]);
    for (const mode of modes.length ? modes : [undefined]) {
      const def = loadBuiltinFilter(name, new Map(mode ? [['mode', mode]] : []));
      assert.ok(def.failregex.length > 0, `${name}: no failregex`);
      for (const re of [...def.failregex, def.prefregex ?? '']) assert.doesNotMatch(re, /<_?[a-z][\w-]*>/, `${name}: an option or variable was left unresolved in ${re}`);
      new Matcher(def);
    }
    for (const logtype of ['file', 'short', 'journal']) new Matcher(loadBuiltinFilter(name, new Map([['logtype', logtype]])));
  }
});

test('journal lines: with logtype=journal a filter reads the line log-tail makes of a journal entry (host identifier[pid]: message)', () => {
  // [filter, SYSLOG_IDENTIFIER, MESSAGE, offender]
  const cases: Array<[string, string, string, string]> = [
    ['sshd', 'sshd', 'Failed password for invalid user admin from 203.0.113.4 port 52211 ssh2', '203.0.113.4'],
    ['sshd', 'sshd-session', 'Invalid user oracle from 203.0.113.3 port 40022', '203.0.113.3'],
    ['postfix', 'postfix/smtpd', 'NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>', '203.0.113.5'],
    ['postfix-greylist', 'postfix/smtpd', 'NOQUEUE: reject: RCPT from unknown[203.0.113.6]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>', '203.0.113.6'],
    ['named', 'named', "client @0x7f3a2c0a8b68 203.0.113.7#53411 (example.org): query (cache) 'example.org/ANY/IN' denied", '203.0.113.7'],
    ['proftpd', 'proftpd', 'ftp.example.org (client.example.net[203.0.113.8]) - USER alice (Login failed): Incorrect password', '203.0.113.8'],
    ['pure-ftpd', 'pure-ftpd', '(?@203.0.113.9) [WARNING] Authentication failed for user [alice]', '203.0.113.9'],
    ['courier', 'imapd', 'LOGIN FAILED, user=alice, ip=[::ffff:203.0.113.10]', '203.0.113.10'],
    ['dovecot', 'dovecot', 'imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<a>, method=PLAIN, rip=203.0.113.11, lip=192.0.2.1', '203.0.113.11'],
    ['node-red-admin', 'node-red', '24 Nov 10:00:01 - [audit] {"event":"auth.login.fail.http","ip":"203.0.113.12","username":"a","status":403}', '203.0.113.12'],
  ];
  for (const [name, ident, message, host] of cases) {
    const line = journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: ident, SYSLOG_PID: '811', _PID: '811', MESSAGE: message });
    assert.equal(line, `box ${ident}[811]: ${message}`);
    for (const logtype of ['journal', 'file']) {
      const r = matcher(name, { logtype }).match(line!, NOW, NOW);
      assert.deepEqual(r.failures.map((f) => f.host), [host], `${name}[logtype=${logtype}]: ${line}`);
      assert.equal(r.failures[0].time, NOW, 'the time is the entry\'s, not one looked for in the line');
    }
    // An entry without a host name: the identifier starts the line.
    const bare = journalLine({ _COMM: ident, _PID: '9', MESSAGE: message })!;
    assert.deepEqual(matcher(name, { logtype: 'journal' }).match(bare, NOW, NOW).failures.map((f) => f.host), [host], `${name}: ${bare}`);
  }
  // The journal line says which program wrote it: another program's message is not the daemon's.
  const forged = journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'logger', SYSLOG_PID: '1', MESSAGE: 'Failed password for root from 203.0.113.13 port 1 ssh2' })!;
  assert.deepEqual(matcher('sshd', { logtype: 'journal' }).match(forged, NOW, NOW).failures, []);
  assert.deepEqual(matcher('postfix', { logtype: 'journal' }).match(`box logger[1]: ${cases[2][2]}`, NOW, NOW).failures, []);
  // sshd's failed banner exchange: the journal line names the process, which ties its two lines.
  const ddos = matcher('sshd', { mode: 'ddos', logtype: 'journal' });
  const entry = (pid: string, message: string) => journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'sshd', SYSLOG_PID: pid, MESSAGE: message })!;
  assert.deepEqual(ddos.match(entry('812', 'error: kex_exchange_identification: Connection closed by remote host'), NOW, NOW).failures, []);
  assert.deepEqual(ddos.match(entry('812', 'Connection closed by 203.0.113.13 port 51234'), NOW, NOW).failures.map((f) => f.host), ['203.0.113.13']);
  // Without the first line, the closing line alone is no failure.
  assert.deepEqual(ddos.match(entry('813', 'Connection closed by 203.0.113.16 port 51234'), NOW, NOW).failures, []);
  assert.deepEqual(ddos.match(entry('814', 'Connection closed by 203.0.113.14 port 51235 [preauth]'), NOW, NOW).failures.map((f) => f.host), ['203.0.113.14']);
  assert.deepEqual(ddos.match(entry('815', 'banner exchange: Connection from 203.0.113.15 port 51236: invalid format'), NOW, NOW).failures.map((f) => f.host), ['203.0.113.15']);
});

test('dates: each log format gives the line its own time', () => {
  const at = (y: number, mo: number, d: number, h: number, mi: number, s: number) => new Date(y, mo - 1, d, h, mi, s).getTime();
  const cases: Array<[string, string, number]> = [
    ['postfix', 'Nov 24 10:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <a@b>: Relay access denied; from=<x> to=<a@b>', at(2026, 11, 24, 10, 0, 1)],
    // journalctl -o short-precise, and a day below 10 padded with a space
    ['sshd', 'Nov  4 10:00:01.123456 box sshd[1]: Invalid user a from 192.0.2.1 port 1', at(2026, 11, 4, 10, 0, 1)],
    ['courier', '2026-11-24T10:00:01.654321 mail imapd: LOGIN FAILED, user=a, ip=[::ffff:203.0.113.12]', at(2026, 11, 24, 10, 0, 1)],
    ['named', "24-Nov-2026 10:00:02.123 client 198.51.100.8#1053: query 'x.test/A/IN' denied", at(2026, 11, 24, 10, 0, 2)],
    ['vsftpd', 'Tue Nov 24 10:00:03 2026 [pid 4242] [alice] FAIL LOGIN: Client "203.0.113.5"', at(2026, 11, 24, 10, 0, 3)],
    ['exim', '2026-11-24 10:00:04 H=(x) [203.0.113.7]:4000 F=<a@b> rejected RCPT <c@d>: relay not permitted', at(2026, 11, 24, 10, 0, 4)],
    ['nginx-http-auth', '2026/11/24 10:00:05 [error] 811#811: *5 user "alice": password mismatch, client: 203.0.113.5, server: example.org', at(2026, 11, 24, 10, 0, 5)],
    ['apache-auth', '[Tue Nov 24 10:00:06.123456 2026] [auth_basic:error] [pid 811:tid 812] [client 203.0.113.6:51235] AH01618: user bob not found: /admin', at(2026, 11, 24, 10, 0, 6)],
    ['mysqld-auth', "261124 10:00:07 [Warning] Access denied for user 'root'@'203.0.113.6' (using password: NO)", at(2026, 11, 24, 10, 0, 7)],
    ['node-red-admin', '24 Nov 10:00:08 - [audit] {"event":"auth.login.fail.http","ip":"203.0.113.12","username":"a","status":403}', at(2026, 11, 24, 10, 0, 8)],
    ['node-red-admin', 'Nov 24 10:00:09 pi Node-RED[811]: 24 Nov 10:00:09 - [audit] {"event":"auth.login.fail.http","ip":"203.0.113.12","username":"a","status":403}', at(2026, 11, 24, 10, 0, 9)],
  ];
  for (const [name, line, time] of cases) {
    const r = matcher(name).match(line, undefined, NOW);
    assert.equal(r.failures.length, 1, `${name}: ${line}`);
    assert.equal(r.failures[0].time, time, `${name}: ${line}`);
  }
  const badbot = matcher('apache-badbots').match('203.0.113.5 - - [24/Nov/2026:10:00:10 +0100] "GET / HTTP/1.1" 404 196 "-" "zgrab/0.x"', undefined, NOW);
  assert.equal(badbot.failures[0].time, Date.UTC(2026, 10, 24, 9, 0, 10));
  const proxied = matcher('node-red-admin', { mode: 'proxy' }).match('203.0.113.5 - - [24/Nov/2026:10:00:11 +0100] "POST /auth/token HTTP/1.1" 403 82 "-" "x"', undefined, NOW);
  assert.equal(proxied.failures[0].time, Date.UTC(2026, 10, 24, 9, 0, 11));
});

test("a date in text the client chose is neither the line's time nor hides the failure", () => {
  const time = new Date(2026, 10, 24, 10, 0, 1).getTime();
  const fake = '2020-01-01T00:00:00';
  const cases: Array<[string, string, string]> = [
    ['sshd', `Nov 24 10:00:01 box sshd[1]: Failed password for invalid user ${fake} from 203.0.113.5 port 22 ssh2`, '203.0.113.5'],
    ['postfix', `Nov 24 10:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.6]: 554 5.7.1 <${fake}@example.org>: Relay access denied; from=<x> to=<${fake}@example.org> proto=ESMTP helo=<${fake}>`, '203.0.113.6'],
    ['dovecot', `Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${fake}>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1`, '203.0.113.7'],
    ['dovecot', `2026-11-24T10:00:01.000000 mail dovecot[811]: auth: passwd-file(${fake},203.0.113.7,<a1>): unknown user`, '203.0.113.7'],
    ['vsftpd', `Tue Nov 24 10:00:01 2026 [pid 4242] [${fake}] FAIL LOGIN: Client "203.0.113.8"`, '203.0.113.8'],
    ['proftpd', `Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (x[203.0.113.9]) - USER ${fake} (Login failed): Incorrect password`, '203.0.113.9'],
    ['pure-ftpd', `Nov 24 10:00:01 ftp pure-ftpd: (?@203.0.113.10) [WARNING] Authentication failed for user [${fake}]`, '203.0.113.10'],
    ['exim', `2026-11-24 10:00:01 login authenticator failed for (${fake}) [203.0.113.11]:1: 535 Incorrect authentication data (set_id=${fake})`, '203.0.113.11'],
    ['courier', `Nov 24 10:00:01 mail imapd: LOGIN FAILED, user=${fake}, ip=[::ffff:203.0.113.12]`, '203.0.113.12'],
    ['nginx-limit-req', `2026/11/24 10:00:01 [error] 811#811: *7 limiting requests, excess: 1.000 by zone "login", client: 203.0.113.13, server: x, request: "GET /${fake} HTTP/1.1", host: "x"`, '203.0.113.13'],
    ['apache-auth', `[Tue Nov 24 10:00:01.000000 2026] [auth_basic:error] [pid 1:tid 2] [client 203.0.113.14:1] AH01618: user ${fake} not found: /${fake}`, '203.0.113.14'],
    ['mysqld-auth', `2026-11-24 10:00:01 42 [Warning] Access denied for user '${fake}'@'203.0.113.15' (using password: YES)`, '203.0.113.15'],
    ['named', `Nov 24 10:00:01 ns1 named[1]: client @0x1 203.0.113.16#1 (${fake}): query (cache) '${fake}/A/IN' denied`, '203.0.113.16'],
    ['node-red-admin', `24 Nov 10:00:01 - [audit] {"event":"auth.login.fail.http","ip":"203.0.113.17","username":"${fake}","status":403}`, '203.0.113.17'],
    ['apache-badbots', `203.0.113.18 - ${fake} [24/Nov/2026:10:00:01 +0000] "GET /${fake} HTTP/1.1" 404 1 "${fake}" "zgrab ${fake}"`, '203.0.113.18'],
  ];
  for (const [name, line, host] of cases) {
    const r = matcher(name).match(line, undefined, NOW);
    assert.deepEqual(r.failures.map((f) => f.host), [host], `${name}: ${line}`);
    const expected = name === 'apache-badbots' ? Date.UTC(2026, 10, 24, 10, 0, 1) : time;
    assert.equal(r.failures[0].time, expected, `${name}: the time of ${line}`);
  }
});

test('every sample line, with a piece of it repeated to 64 KiB, is read quickly by its filter', () => {
  // The line is as long as a line may be and still be matched; the repeated piece sits where the
  // patterns read client text, so a pattern that backtracks badly would show here.
  let worst = { ms: 0, what: '' };
  for (const t of tables) {
    const m = matcher(t.filter, t.options);
    for (const line of tableLines(t)) {
      for (const at of [0.3, 0.5, 0.7, 0.9]) {
        const cut = Math.floor(line.length * at);
        for (const len of [1, 3, 11]) {
          const piece = line.slice(cut, cut + len);
          if (!piece) continue;
          const hostile = line.slice(0, cut) + piece.repeat(Math.floor((MAX_LINE_LENGTH - line.length) / piece.length)) + line.slice(cut);
          let ms = Infinity;
          for (let attempt = 0; attempt < 2 && ms >= 200; attempt++) {
            const start = process.hrtime.bigint();
            m.match(hostile, undefined, NOW);
            ms = Math.min(ms, Number(process.hrtime.bigint() - start) / 1e6);
          }
          if (ms > worst.ms) worst = { ms, what: `${t.filter}: ${JSON.stringify(piece)} repeated at ${cut} of ${line}` };
        }
      }
    }
  }
  assert.ok(worst.ms < 200, `${worst.ms.toFixed(1)} ms for ${worst.what}`);
});

test('builtinFilterInfo reads names, descriptions and option values; a file it cannot read is listed by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-library-'));
  try {
    writeFileSync(
      join(dir, 'app.conf'),
      '# node-red-contrib-fail2ban built-in filter: My app\n#\n# Options: mode, level\n\n[Init]\nmode = a\nlevel = 3\n\n[Definition]\n' +
        'mode_a = x <HOST>\nmode_b = y <HOST>\nfailregex = <mode_<mode>>\n',
    );
    mkdirSync(join(dir, 'odd.conf'));
    writeFileSync(join(dir, 'common.conf'), '[DEFAULT]\n');
    assert.deepEqual(builtinFilterInfo(dir), [
      { name: 'app', description: 'My app', options: { mode: ['a', 'b'], level: [] } },
      { name: 'odd', description: '', options: {} },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('builtinOptionProblem names a value a built-in filter does not have, and leaves other options alone', () => {
  const opts = (o: Record<string, string>) => new Map(Object.entries(o));
  assert.equal(builtinOptionProblem('postfix', opts({ mode: 'agressive' })), 'filter postfix: mode=agressive is not one of its values (normal, auth, ddos, aggressive)');
  assert.equal(builtinOptionProblem('sshd', opts({ mode: 'aggressive', publickey: 'some' })), 'filter sshd: publickey=some is not one of its values (ignore, any)');
  assert.equal(builtinOptionProblem('postfix', opts({ mode: 'auth', logtype: 'journal' })), null);
  assert.equal(builtinOptionProblem('nginx-limit-req', opts({ zones: 'login|api' })), null);
  assert.equal(builtinOptionProblem('no-such-filter', opts({ mode: 'x' })), null);
  // every value the library lists does load
  for (const f of builtinFilterInfo()) {
    for (const [key, values] of Object.entries(f.options)) {
      for (const value of values) {
        assert.equal(builtinOptionProblem(f.name, opts({ [key]: value })), null);
        new Matcher(loadBuiltinFilter(f.name, opts({ [key]: value })));
      }
    }
  }
});
