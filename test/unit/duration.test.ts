import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseBantime, parseDuration } from '../../lib/duration';

test('fail2ban time strings become seconds', () => {
  assert.equal(parseDuration('600'), 600);
  assert.equal(parseDuration(600), 600);
  assert.equal(parseDuration('10m'), 600);
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('1h 30m'), 5400);
  assert.equal(parseDuration('1d'), 86400);
  assert.equal(parseDuration('1w'), 7 * 86400);
  assert.equal(parseDuration('1mo'), 30.4375 * 86400);
  assert.equal(parseDuration('1y'), 365.25 * 86400);
  assert.equal(parseDuration('2 weeks'), 14 * 86400);
  assert.equal(parseDuration('1year-6mo'), 182.625 * 86400);
});

test('bad time strings say what is wrong', () => {
  assert.throws(() => parseDuration('10 parsecs'), /unknown unit "parsecs"/);
  assert.throws(() => parseDuration(''), /empty/);
  assert.throws(() => parseDuration('abc'), /cannot read/);
});

test('bantime takes -1 for ever and refuses zero', () => {
  assert.equal(parseBantime('-1'), -1);
  assert.equal(parseBantime('1h'), 3600);
  assert.throws(() => parseBantime('0'), /positive, or -1/);
  assert.equal(formatDuration(5400), '1h 30m');
  assert.equal(formatDuration(-1), 'for ever');
});
