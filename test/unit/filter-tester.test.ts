/** The live tester's core: fail2ban-regex's answers for sample lines, and the time limit on a backtracking pattern. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RUNNING_TESTS, MAX_TEST_LINES, runFilterTest, testFilter } from '../../lib/filter-tester';

const failed = 'Nov 24 10:00:01 box sshd[1]: Failed password for root from 192.0.2.7 port 22 ssh2';
const accepted = 'Nov 24 10:00:02 box sshd[1]: Accepted password for bob from 192.0.2.8 port 22 ssh2';

test('a built-in filter: the failure, its address, user, time and failregex; an accepted login is missed', () => {
  const now = Date.UTC(2026, 10, 25);
  const r = testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: [failed, '', accepted], now });
  assert.equal(r.filter, 'sshd');
  assert.equal(r.lines.length, 2);
  const [hit, miss] = r.lines;
  assert.equal(hit.failures.length, 1);
  assert.equal(hit.failures[0].host, '192.0.2.7');
  assert.equal(hit.failures[0].user, 'root');
  assert.equal(new Date(hit.failures[0].time).getMonth(), 10);
  assert.ok(r.failregex[hit.failures[0].failregex].includes('<HOST>') || r.failregex[hit.failures[0].failregex].length > 0);
  assert.ok(hit.time !== null);
  assert.deepEqual(miss.failures, []);
  assert.equal(miss.ignoreregex, null);
  assert.deepEqual(r.summary, { lines: 2, matched: 1, ignored: 0, missed: 1, tooLong: 0 });
});

test('inline patterns: the ignoreregex that fired is named by its index', () => {
  const r = testFilter({
    settings: { filterSource: 'inline', failregex: 'Failed password for \\S+ from <HOST>', ignoreregex: 'for nobody\nfor root' },
    lines: [failed, failed.replace('root', 'alice')],
  });
  assert.equal(r.lines[0].ignoreregex, 1);
  assert.deepEqual(r.lines[0].failures, []);
  assert.equal(r.lines[1].failures[0].host, '192.0.2.7');
  assert.deepEqual(r.ignoreregex, ['for nobody', 'for root']);
  assert.deepEqual(r.summary, { lines: 2, matched: 1, ignored: 1, missed: 0, tooLong: 0 });
});

test('a bad filter is refused with a message that says what to fix; the number of lines is bounded', () => {
  assert.throws(() => testFilter({ settings: { filterSource: 'inline', failregex: 'Failed from (' }, lines: [failed] }), /./);
  assert.throws(() => testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd', filterOptions: 'mode=agressive' }, lines: [failed] }), /aggressive/);
  assert.throws(() => testFilter({ settings: {}, lines: 5 as unknown as string[] }), /lines/);
  const r = testFilter({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: Array(MAX_TEST_LINES + 7).fill(failed) });
  assert.equal(r.lines.length, MAX_TEST_LINES);
  assert.equal(r.skipped, 7);
});

test('in a worker: the same answer; a backtracking pattern is stopped at the time limit', async () => {
  const r = await runFilterTest({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: [failed] });
  assert.equal(r.lines[0].failures[0].host, '192.0.2.7');
  await assert.rejects(runFilterTest({ settings: { filterSource: 'inline', failregex: '^(a|aa)+b <HOST>' }, lines: [`${'a'.repeat(70)}c b x`] }, 500), (err: Error & { timeout?: boolean }) => {
    assert.equal(err.timeout, true);
    assert.match(err.message, /stopped after 0.5 s/);
    return true;
  });
  await assert.rejects(runFilterTest({ settings: { filterSource: 'file', filterFile: '/nonexistent/x.conf' }, lines: [failed] }), /x\.conf/);
  // At most MAX_RUNNING_TESTS workers at once: the next is refused at once, and a place frees when one ends.
  const hostile = () => runFilterTest({ settings: { filterSource: 'inline', failregex: '^(a|aa)+b <HOST>' }, lines: [`${'a'.repeat(70)}c b x`] }, 400);
  const slow = Array.from({ length: MAX_RUNNING_TESTS }, hostile);
  await assert.rejects(runFilterTest({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: [failed] }), (err: Error & { busy?: boolean }) => err.busy === true);
  await Promise.allSettled(slow);
  assert.equal((await runFilterTest({ settings: { filterSource: 'builtin', filterName: 'sshd' }, lines: [failed] })).lines[0].failures.length, 1);
});

test('the tester reads fail2ban filter files only, not any path it is given', () => {
  assert.throws(() => testFilter({ settings: { filterSource: 'file', filterFile: '/etc/passwd' }, lines: ['x'] }), /filter files only: give a path that ends in \.conf or \.local/);
});
