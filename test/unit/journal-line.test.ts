/**
 * journalLine / journalTime: the line and time log-tail makes of a journal entry (journalctl -o json),
 * which must be the line fail2ban's systemd backend hands its filters, so that filters written for
 * logtype=journal read it unchanged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { journalLine, journalTime } from '../../lib/tail';

test('journal line: host, identifier[pid]: message, each from its field or its fallback', () => {
  const msg = 'Failed password for root from 192.0.2.1 port 22 ssh2';
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'sshd', SYSLOG_PID: '42', _PID: '7', _COMM: 'sshd-session', MESSAGE: msg }), `box sshd[42]: ${msg}`);
  // SYSLOG_IDENTIFIER missing or empty: the process name; SYSLOG_PID missing: the process id.
  assert.equal(journalLine({ _HOSTNAME: 'box', _COMM: 'sshd', _PID: '7', MESSAGE: msg }), `box sshd[7]: ${msg}`);
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: '', _COMM: 'dovecot', SYSLOG_PID: '', _PID: '8', MESSAGE: msg }), `box dovecot[8]: ${msg}`);
  // A pid of 0 is no pid (fail2ban takes it as missing).
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'x', SYSLOG_PID: '0', _PID: '5', MESSAGE: 'm' }), 'box x[5]: m');
  // No pid: "identifier:"; no identifier: no pid either; no host: the identifier first.
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'postfix/smtpd', MESSAGE: 'm' }), 'box postfix/smtpd: m');
  assert.equal(journalLine({ _HOSTNAME: 'box', _PID: '5', MESSAGE: 'm' }), 'box m');
  assert.equal(journalLine({ SYSLOG_IDENTIFIER: 'sshd', _PID: '5', MESSAGE: 'm' }), 'sshd[5]: m');
  assert.equal(journalLine({ MESSAGE: 'm' }), 'm');
  // No MESSAGE at all: an empty message after the prefix (its space kept, as fail2ban joins the parts).
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'sshd', _PID: '5' }), 'box sshd[5]: ');
});

test('journal line: the pid as a number when it is one, else as written', () => {
  const line = (pid: string) => journalLine({ SYSLOG_IDENTIFIER: 'd', SYSLOG_PID: pid, MESSAGE: 'm' });
  assert.equal(line('0042'), 'd[42]: m');
  assert.equal(line('0x1f'), 'd[31]: m');
  assert.equal(line('12a'), 'd[12a]: m');
});

test("journal line: the kernel's lines carry its monotonic time, as dmesg shows it", () => {
  const base = { _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'kernel', MESSAGE: 'IN=eth0 SRC=192.0.2.1' };
  assert.equal(journalLine({ ...base, __MONOTONIC_TIMESTAMP: '5123456' }), 'box kernel: [    5.123456] IN=eth0 SRC=192.0.2.1');
  assert.equal(journalLine({ ...base, _SOURCE_MONOTONIC_TIMESTAMP: '1234567890123', __MONOTONIC_TIMESTAMP: '1' }), 'box kernel: [1234567.890123] IN=eth0 SRC=192.0.2.1');
  assert.equal(journalLine({ ...base, __MONOTONIC_TIMESTAMP: '7' }), 'box kernel: [    0.000007] IN=eth0 SRC=192.0.2.1');
  // Only the kernel's own tag: a program called kernel with a pid is any program.
  assert.equal(journalLine({ ...base, SYSLOG_PID: '3', __MONOTONIC_TIMESTAMP: '7' }), 'box kernel[3]: IN=eth0 SRC=192.0.2.1');
});

test('journal line: bytes, repeated fields and newlines', () => {
  // journalctl gives a message that is not UTF-8 (or has control characters) as an array of bytes.
  assert.equal(journalLine({ SYSLOG_IDENTIFIER: 'd', MESSAGE: [...Buffer.from('user \u00e9'), 0xff] }), 'd: user \u00e9\ufffd');
  // A field held several times: its values joined by a space (bytes decoded).
  assert.equal(journalLine({ SYSLOG_IDENTIFIER: 'd', MESSAGE: ['one', [116, 119, 111]] }), 'd: one two');
  // One line: a newline becomes backslash-n, so a forged second line stays in the first.
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'sshd', _PID: '1', MESSAGE: 'Invalid user x\nFailed password for root from 192.0.2.9 port 1 ssh2' }), 'box sshd[1]: Invalid user x\\nFailed password for root from 192.0.2.9 port 1 ssh2');
  // The host's and identifier's newlines too (they come from the entry as well).
  assert.equal(journalLine({ _HOSTNAME: 'a\nb', MESSAGE: 'm' }), 'a\\nb m');
});

test('journal line: a MESSAGE journalctl left out (null, over 4096 bytes without --all) makes no line', () => {
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'sshd', MESSAGE: null }), null);
  assert.equal(journalLine({ _HOSTNAME: 'box', SYSLOG_IDENTIFIER: 'sshd', MESSAGE: ['short', null] }), null);
});

test('journal time: when the source wrote the entry, else when the journal got it; epoch ms', () => {
  assert.equal(journalTime({ _SOURCE_REALTIME_TIMESTAMP: '1767322800123456', __REALTIME_TIMESTAMP: '1767322801999999' }), 1767322800123);
  assert.equal(journalTime({ __REALTIME_TIMESTAMP: '1767322801999999' }), 1767322801999);
  assert.equal(journalTime({ _SOURCE_REALTIME_TIMESTAMP: 'soon', __REALTIME_TIMESTAMP: '1767322801000000' }), 1767322801000);
  assert.equal(journalTime({ MESSAGE: 'm' }), undefined);
});
