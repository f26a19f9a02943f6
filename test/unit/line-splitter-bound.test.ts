/** A line of megabytes costs log-tail no more than its 64 KiB buffer, and the lines around it come out whole. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, MAX_LINE } from '../../lib/tail/lines';

test('a 1 MB line read in 64 KiB pieces is dropped whole without growing the buffer', () => {
  const split = new LineSplitter('utf8');
  const size = split.buf.length;
  const input = Buffer.from(`before\n${'x'.repeat(1024 * 1024)} Failed password for root from 203.0.113.9\nafter\n`);
  const lines: string[] = [];
  // As FileTail.drain reads: into the free space of the buffer, one read at a time.
  for (let at = 0; at < input.length; ) {
    const n = Math.min(split.space(), input.length - at);
    input.copy(split.buf, split.have, at, at + n);
    at += n;
    split.took(n, (l) => lines.push(l));
    assert.equal(split.buf.length, size, 'the buffer never grows');
  }
  assert.deepEqual(lines, ['before', 'after']);
  assert.equal(split.dropped, 1);
  assert.equal(split.offset, input.length, 'the resume offset is past the dropped line');
  assert.ok(size <= MAX_LINE);
});

test('the same through feed() (journal and other streams)', () => {
  const split = new LineSplitter('utf8');
  const lines: string[] = [];
  split.feed(Buffer.from(`a\n${'y'.repeat(3 * MAX_LINE)}\nb\n`), (l) => lines.push(l));
  assert.deepEqual(lines, ['a', 'b']);
  assert.ok(split.buf.length <= MAX_LINE);
});
