import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinFilterNames, filterFromSettings, inlineFilter, loadBuiltinFilter, loadFilterFile, Matcher, parseFilterOptions } from '../../lib/filter';

const NOW = new Date(2026, 10, 24, 12, 0, 0).getTime();
const sshd = (opts: Record<string, string> = {}) => new Matcher(loadBuiltinFilter('sshd', new Map(Object.entries(opts))));
const hostOf = (m: Matcher, line: string) => m.match(line, undefined, NOW).failures.map((f) => f.host);

test('built-in sshd finds the failures sshd writes', () => {
  const m = sshd();
  const cases: Array<[string, string | null, string?]> = [
    ['Nov 24 10:00:01 box sshd[123]: Failed password for root from 203.0.113.5 port 22 ssh2', '203.0.113.5', 'root'],
    ['Nov 24 10:00:01 box sshd[123]: Failed password for invalid user admin from 203.0.113.6 port 41000 ssh2', '203.0.113.6', 'admin'],
    ['Nov 24 10:00:01 box sshd[123]: Invalid user oracle from 2001:db8::7 port 5555', '2001:db8::7', 'oracle'],
    ['Nov 24 10:00:01 box sshd-session[9]: Invalid user test from 198.51.100.1 port 5 [preauth]', '198.51.100.1', 'test'],
    ['Nov 24 10:00:01 box sshd[123]: error: maximum authentication attempts exceeded for root from 198.51.100.3 port 1 ssh2 [preauth]', '198.51.100.3', 'root'],
    ['Nov 24 10:00:01 box sshd[123]: User bob from 198.51.100.4 not allowed because not listed in AllowUsers', '198.51.100.4', 'bob'],
    ['2026-11-24T10:00:05.123456+01:00 box sshd[99]: Failed password for root from ::ffff:192.0.2.44 port 1 ssh2', '192.0.2.44', 'root'],
    ['Nov 24 10:00:01 box sshd[123]: Accepted password for root from 203.0.113.5 port 22 ssh2', null],
    ['Nov 24 10:00:01 box sshd[123]: Accepted publickey for root from 203.0.113.5 port 22 ssh2: ED25519 SHA256:x', null],
    ['Nov 24 10:00:01 box sshd[123]: Failed publickey for root from 203.0.113.5 port 22 ssh2', null],
    ['Nov 24 10:00:01 box sshd[123]: Did not receive identification string from 203.0.113.9 port 4', null],
    ['Nov 24 10:00:01 box sshd[123]: Received disconnect from 203.0.113.5 port 22:11: disconnected by user', null],
    ['Nov 24 10:00:01 box cron[1]: Failed password for root from 203.0.113.5 port 22 ssh2', null],
  ];
  for (const [line, host, user] of cases) {
    const r = m.match(line, undefined, NOW);
    assert.deepEqual(r.failures.map((f) => f.host), host ? [host] : [], line);
    if (user) assert.equal(r.failures[0].user, user, line);
  }
});

test('the address in an injected user name is never the one found', () => {
  const m = sshd();
  const injected = [
    'Nov 24 10:00:01 box sshd[1]: Failed password for invalid user root from 10.0.0.9 port 22 from 203.0.113.50 port 5555 ssh2',
    'Nov 24 10:00:01 box sshd[1]: Invalid user root from 10.0.0.9 port 22 from 203.0.113.50 port 5555',
    'Nov 24 10:00:01 box sshd[1]: Failed password for invalid user x from 10.0.0.9 port 22 ssh2 from 203.0.113.50 port 5555 ssh2',
  ];
  for (const line of injected) assert.deepEqual(hostOf(m, line), ['203.0.113.50'], line);
});

test('modes and options change what counts', () => {
  const scan = 'Nov 24 10:00:01 box sshd[1]: Did not receive identification string from 203.0.113.9 port 4';
  const kex = 'Nov 24 10:00:01 box sshd[1]: Unable to negotiate with 203.0.113.8 port 4: no matching key exchange method found. Their offer: x';
  const pub = 'Nov 24 10:00:01 box sshd[1]: Failed publickey for root from 203.0.113.7 port 22 ssh2';
  assert.deepEqual(hostOf(sshd({ mode: 'ddos' }), scan), ['203.0.113.9']);
  assert.deepEqual(hostOf(sshd({ mode: 'ddos' }), kex), []);
  assert.deepEqual(hostOf(sshd({ mode: 'aggressive' }), kex), ['203.0.113.8']);
  assert.deepEqual(hostOf(sshd({ publickey: 'any' }), pub), ['203.0.113.7']);
});

test('dates: syslog without a year, ISO 8601 with a zone, the failure time is the line time', () => {
  const m = sshd();
  const r = m.match('Nov 24 10:00:01 box sshd[1]: Invalid user a from 192.0.2.1 port 1', undefined, NOW);
  assert.equal(r.failures[0].time, new Date(2026, 10, 24, 10, 0, 1).getTime());
  // A date in the future by more than a day belongs to last year.
  const dec = m.match('Dec 31 23:00:00 box sshd[1]: Invalid user a from 192.0.2.1 port 1', undefined, NOW);
  assert.equal(new Date(dec.failures[0].time).getFullYear(), 2025);
  const iso = m.match('2026-11-24T10:00:05+01:00 box sshd[1]: Invalid user a from 192.0.2.1 port 1', undefined, NOW);
  assert.equal(iso.failures[0].time, Date.UTC(2026, 10, 24, 9, 0, 5));
  const given = m.match('box sshd[1]: Invalid user a from 192.0.2.1 port 1', 1234567890000, NOW);
  assert.equal(given.failures[0].time, 1234567890000);
});

test('inline filters: tags, ignoreregex, and errors that name the pattern', () => {
  const m = new Matcher(inlineFilter({ failregex: 'login failed for <F-USER>\\S+</F-USER> from <HOST>$', ignoreregex: 'for admin ' }));
  assert.deepEqual(hostOf(m, 'login failed for bob from 192.0.2.3'), ['192.0.2.3']);
  const ignored = m.match('login failed for admin from 192.0.2.3', undefined, NOW);
  assert.equal(ignored.failures.length, 0);
  assert.equal(ignored.ignored, true);
  assert.throws(() => new Matcher(inlineFilter({ failregex: 'bad (<HOST>' })), /failregex "bad \(<HOST>": missing \), unterminated subpattern/);
  assert.throws(() => new Matcher(inlineFilter({ failregex: 'no host here' })), /no <HOST>/);
  assert.throws(() => inlineFilter({ failregex: '' }), /no failregex/);
  const fid = new Matcher(inlineFilter({ failregex: '^token <F-ID>\\w+</F-ID> rejected' }));
  assert.deepEqual(hostOf(fid, 'token abc123 rejected'), ['abc123']);
});

test('Python regex syntax is translated', () => {
  const m = new Matcher(inlineFilter({ failregex: '^(?P<word>x{,2}) from <HOST> (?P=word)$' }));
  assert.deepEqual(hostOf(m, 'xx from 192.0.2.8 xx'), ['192.0.2.8']);
  const ci = new Matcher(inlineFilter({ failregex: '(?i)^denied <HOST>' }));
  assert.deepEqual(hostOf(ci, 'DENIED 192.0.2.9'), ['192.0.2.9']);
});

test('filter files: includes, .local overrides, [Init] options and interpolation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-filter-'));
  try {
    mkdirSync(join(dir, 'filter.d', 'app.d'), { recursive: true });
    writeFileSync(join(dir, 'filter.d', 'common.conf'), '[DEFAULT]\n_daemon = \\S+\n__prefix = ^\\s*\\S+ %(_daemon)s:\\s+\n');
    writeFileSync(
      join(dir, 'filter.d', 'app.conf'),
      '[INCLUDES]\nbefore = common.conf\n\n[DEFAULT]\n_daemon = app\n\n[Init]\nword = denied\n\n[Definition]\n' +
        'failregex = %(__prefix)s<word> <HOST>$\n    %(__prefix)salso <HOST>$ ; a comment\n# a comment line\nignoreregex =\n',
    );
    writeFileSync(join(dir, 'filter.d', 'app.local'), '[Init]\nword = refused\n');
    const def = loadFilterFile(join(dir, 'filter.d', 'app.conf'));
    assert.equal(def.failregex.length, 2);
    const m = new Matcher(def);
    assert.deepEqual(hostOf(m, 'host app: refused 192.0.2.10'), ['192.0.2.10']);
    assert.deepEqual(hostOf(m, 'host app: denied 192.0.2.10'), []);
    assert.deepEqual(hostOf(m, 'host app: also 192.0.2.11'), ['192.0.2.11']);
    const opt = new Matcher(loadFilterFile(join(dir, 'filter.d', 'app.conf'), parseFilterOptions('word=blocked')));
    assert.deepEqual(hostOf(opt, 'host app: blocked 192.0.2.12'), ['192.0.2.12']);
    assert.throws(() => loadFilterFile(join(dir, 'filter.d', 'nope.conf')), /filter file .*nope\.conf: not found/);
    // common.conf naming its own .local in [INCLUDES] after, as fail2ban's does: no loop, the .local wins.
    writeFileSync(join(dir, 'filter.d', 'base.conf'), '[INCLUDES]\nafter = base.local\n[DEFAULT]\nverb = denied\n');
    writeFileSync(join(dir, 'filter.d', 'base.local'), '[DEFAULT]\nverb = rejected\n');
    writeFileSync(join(dir, 'filter.d', 'svc.conf'), '[INCLUDES]\nbefore = base.conf\n[Definition]\nfailregex = ^%(verb)s <HOST>$\n');
    assert.deepEqual(hostOf(new Matcher(loadFilterFile(join(dir, 'filter.d', 'svc.conf'))), 'rejected 192.0.2.13'), ['192.0.2.13']);
    writeFileSync(join(dir, 'filter.d', 'loop-a.conf'), '[INCLUDES]\nbefore = loop-b.conf\n[Definition]\nfailregex = x <HOST>\n');
    writeFileSync(join(dir, 'filter.d', 'loop-b.conf'), '[INCLUDES]\nbefore = loop-a.conf\n');
    assert.throws(() => loadFilterFile(join(dir, 'filter.d', 'loop-a.conf')), /an include loop/);
    writeFileSync(join(dir, 'filter.d', 'broken.conf'), '[Definition]\nfailregex = x <HOST>\nthis line is not an option\n');
    assert.throws(() => loadFilterFile(join(dir, 'filter.d', 'broken.conf')), /broken\.conf: line 3: cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('settings pick the filter source, and an unknown built-in name lists the known ones', () => {
  assert.ok(builtinFilterNames().includes('sshd'));
  assert.throws(() => filterFromSettings({ filterSource: 'builtin', filterName: 'nope' }), /no built-in filter named "nope"; built-in filters: .*sshd/);
  assert.throws(() => filterFromSettings({ filterSource: 'file', filterFile: '' }), /no filter file/);
  assert.throws(() => filterFromSettings({ filterSource: 'builtin', filterName: 'sshd', filterOptions: 'mode aggressive' }), /filter options/);
  const def = filterFromSettings({ filterSource: 'builtin', filterName: 'sshd', filterOptions: 'mode=aggressive' });
  assert.ok(def.failregex.length > 10);
});

test('a long hostile line is cut and does not make sshd patterns spin', () => {
  const m = sshd({ mode: 'aggressive' });
  const line = `Nov 24 10:00:01 box sshd[1]: Failed password for invalid user ${'a from 1.2.3.4 port 1 '.repeat(50000)}`;
  const start = process.hrtime.bigint();
  m.match(line, undefined, NOW);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 2000, `matching took ${ms} ms`);
});

test('a built-in name may carry its options, and a wrong option value is named with the choices', () => {
  const def = filterFromSettings({ filterSource: 'builtin', filterName: 'sshd[mode=aggressive]' });
  const kex = 'Nov 24 10:00:01 box sshd[1]: Unable to negotiate with 203.0.113.8 port 4: no matching key exchange method found. Their offer: x';
  assert.deepEqual(hostOf(new Matcher(def), kex), ['203.0.113.8']);
  assert.throws(
    () => filterFromSettings({ filterSource: 'builtin', filterName: 'sshd', filterOptions: 'mode=agressive' }),
    /mode=agressive is not one of normal, ddos, extra, aggressive/,
  );
});

test('a group named __proto__ neither breaks a single-line filter nor becomes a field', () => {
  // Such a key cannot be written in the one-shape record literal: the matcher falls back to a plain object.
  const m = new Matcher(inlineFilter({ failregex: '^fail <F-__PROTO__>\\w+</F-__PROTO__> by <F-USER>\\w+</F-USER> from <HOST>$' }));
  const r = m.match('fail x by bob from 192.0.2.7', Date.now());
  assert.equal(r.failures.length, 1);
  assert.equal(r.failures[0].host, '192.0.2.7');
  assert.equal(r.failures[0].user, 'bob');
  assert.equal(Object.keys(r.failures[0].fields).includes('__proto__'), false);
});
