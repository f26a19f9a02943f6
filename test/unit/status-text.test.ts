/** Node status texts: at most 60 characters; a path in one keeps its file name. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathStatus, shortStatus } from '../../nodes/node-red';

test('a long path in a status keeps its file name and the start of its directory', () => {
  const long = '/tmp/f2b-red-CfSb9a/some/longer/directory/later.log';
  const s = pathStatus('2 followed, waiting for ', long, ' +1');
  assert.equal(s, '2 followed, waiting for /tmp/f2b-red-CfSb9a/.../later.log +1');
  assert.ok(s.length <= 60);
  assert.equal(pathStatus('waiting for ', '/var/log/auth.log'), 'waiting for /var/log/auth.log');
  // A file name longer than the room: its end, which tells files apart.
  const huge = pathStatus('waiting for ', `/x/${'y'.repeat(80)}-2.log`);
  assert.ok(huge.length <= 60 && huge.endsWith('y-2.log'), huge);
  assert.equal(shortStatus('x'.repeat(70)), `${'x'.repeat(57)}...`);
});
