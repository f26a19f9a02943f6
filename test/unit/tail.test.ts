/** The follower on real files: rotations done by hand at exact moments, saved positions, line splitting. */
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { Follower, LineSplitter, MAX_LINE, PositionStore } from '../../lib/tail';
import { waitFor } from '../support/process';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'f2b-tail-'));
  dirs.push(d);
  return d;
}

function follow(paths: string[], opts: { start?: 'end' | 'beginning'; positions?: PositionStore; encoding?: BufferEncoding } = {}) {
  const lines: string[] = [];
  const rotations: string[] = [];
  const errors: string[] = [];
  const f = new Follower({ paths, start: opts.start ?? 'end', encoding: opts.encoding ?? 'utf8', positions: opts.positions, pollMs: 100 });
  f.on('line', (l: string) => lines.push(l));
  f.on('rotate', (_file: string, how: string) => rotations.push(how));
  f.on('error', (e: Error) => errors.push(e.message));
  f.start();
  return { f, lines, rotations, errors };
}

const settle = () => new Promise((r) => setTimeout(r, 250));

test('line splitter: CRLF, BOM, UTF-16LE, and a line longer than the limit is dropped whole', () => {
  const out: string[] = [];
  const s = new LineSplitter('utf8');
  s.feed(Buffer.from('\ufeffone\r\ntw'), (l) => out.push(l));
  s.feed(Buffer.from('o\n'), (l) => out.push(l));
  s.feed(Buffer.from(`${'x'.repeat(MAX_LINE + 10)}`), (l) => out.push(l));
  s.feed(Buffer.from(`${'y'.repeat(100)} from 192.0.2.1\nthree\npart`), (l) => out.push(l));
  assert.deepEqual(out, ['one', 'two', 'three']);
  assert.equal(s.dropped, 1);
  assert.equal(s.offset, Buffer.byteLength('\ufeffone\r\ntwo\n') + MAX_LINE + 10 + 100 + ' from 192.0.2.1\n'.length + 'three\n'.length, 'offset points at the unfinished line');
  const u: string[] = [];
  const w = new LineSplitter('utf16le');
  const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ä\u0a00b\r\nc\n', 'utf16le')]);
  w.feed(bytes.subarray(0, 5), (l) => u.push(l));
  w.feed(bytes.subarray(5), (l) => u.push(l));
  assert.deepEqual(u, ['ä\u0a00b', 'c']);
});

test('rename: lines written to the old file after the rename come before the new file', async () => {
  const d = tmp();
  const log = join(d, 'app.log');
  writeFileSync(log, 'before\n');
  const { f, lines, rotations } = follow([log]);
  try {
    await settle();
    const fd = openSync(log, 'a');
    writeSync(fd, 'a1\n');
    renameSync(log, `${log}.1`);
    writeFileSync(log, ''); // logrotate's "create": empty until the writer moves
    await settle();
    writeSync(fd, 'a2 still to the old file\n');
    closeSync(fd);
    await settle();
    appendFileSync(log, 'b1\n');
    await waitFor(() => lines.length === 3, 'three lines');
    assert.deepEqual(lines, ['a1', 'a2 still to the old file', 'b1']);
    assert.deepEqual(rotations, ['renamed']);
  } finally {
    await f.stop();
  }
});

test('delete then recreate: the deleted file is read to its end through the open handle first', async () => {
  const d = tmp();
  const log = join(d, 'app.log');
  writeFileSync(log, '');
  const { f, lines } = follow([log]);
  try {
    await settle();
    const fd = openSync(log, 'a');
    writeSync(fd, 'one\n');
    unlinkSync(log);
    writeSync(fd, 'two, after the unlink\n');
    closeSync(fd);
    await settle();
    writeFileSync(log, 'three, new file\n');
    await waitFor(() => lines.length === 3, 'three lines');
    assert.deepEqual(lines, ['one', 'two, after the unlink', 'three, new file']);
  } finally {
    await f.stop();
  }
});

test('copytruncate: what was unread is taken from the rotated copy (plain or gzip); no copy: the new content only', async () => {
  const d = tmp();
  const log = join(d, 'app.log');
  writeFileSync(log, 'head line\n');
  const { f, lines, rotations } = follow([log], { start: 'beginning' });
  try {
    await waitFor(() => lines.length === 1, 'the first line');
    // In one go (the follower cannot look in between): more lines, copy, truncate, new lines.
    appendFileSync(log, 'u1\nu2\n');
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, 'new head\nn2\n');
    await waitFor(() => lines.length === 5, 'five lines');
    assert.deepEqual(lines, ['head line', 'u1', 'u2', 'new head', 'n2']);
    assert.deepEqual(rotations, ['truncated']);

    // Again, with the copy compressed already (compress without delaycompress).
    appendFileSync(log, 'g1\ng2\n');
    writeFileSync(`${log}.2.gz`, gzipSync(readFileSync(log)));
    truncateSync(log, 0);
    appendFileSync(log, 'third head\n');
    await waitFor(() => lines.length === 8, 'eight lines');
    assert.deepEqual(lines.slice(5), ['g1', 'g2', 'third head']);

    // No copy at all: a longer new content is still seen as new (its first line changed).
    appendFileSync(log, 'lost1\n');
    truncateSync(log, 0);
    appendFileSync(log, 'fourth head, longer than what was there\nz\n');
    await waitFor(() => lines.length === 10, 'ten lines');
    assert.deepEqual(lines.slice(8), ['fourth head, longer than what was there', 'z']);
  } finally {
    await f.stop();
  }
});

test('resume: rotated by rename, then by copytruncate, while stopped; nothing lost, nothing twice', async () => {
  const d = tmp();
  const log = join(d, 'app.log');
  const state = join(d, 'state', 'tail.json');
  writeFileSync(log, 'old1\n');
  let store = new PositionStore(state);
  let run = follow([log], { positions: store, start: 'beginning' });
  await waitFor(() => run.lines.length === 1, 'the first line');
  appendFileSync(log, 'old2\npartial');
  await waitFor(() => run.lines.length === 2, 'old2');
  await run.f.stop();
  store.close();
  // Stopped: the line is finished, the file rotated by rename, more written to both.
  appendFileSync(log, ' line\nold3\n');
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'new1\n');

  store = new PositionStore(state);
  assert.equal(store.problem, null);
  run = follow([log], { positions: store, start: 'end' });
  await waitFor(() => run.lines.length === 3, 'the rest of the old file and the new one');
  await settle();
  assert.deepEqual(run.lines, ['partial line', 'old3', 'new1']);
  await run.f.stop();
  store.close();

  // Stopped again: copytruncate with the copy beside the file.
  appendFileSync(log, 'new2\n');
  copyFileSync(log, `${log}.0`);
  truncateSync(log, 0);
  writeFileSync(log, 'newer1\n');
  store = new PositionStore(state);
  run = follow([log], { positions: store, start: 'end' });
  await waitFor(() => run.lines.length === 2, 'new2 from the copy and newer1');
  await settle();
  assert.deepEqual(run.lines, ['new2', 'newer1']);
  await run.f.stop();
  store.close();

  // Stopped, unchanged: nothing again.
  store = new PositionStore(state);
  run = follow([log], { positions: store, start: 'beginning' });
  await settle();
  await settle();
  assert.deepEqual(run.lines, []);
  await run.f.stop();
  store.remove();
});

test('a damaged position file is reported and reading starts afresh', async () => {
  const d = tmp();
  const state = join(d, 'tail.json');
  writeFileSync(state, '{"version":1,"files":{');
  const store = new PositionStore(state);
  assert.match(store.problem ?? '', /damaged/);
  store.set('/x', { dev: 1, ino: 2, head: '', pos: 3 });
  store.save();
  assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')).files['/x'].pos, 3);
  store.remove();
});

test('glob: files created later are read from their start; start=end skips what existed', async () => {
  const d = tmp();
  writeFileSync(join(d, 'a.log'), 'old\n');
  const { f, lines } = follow([join(d, '*.log')], { start: 'end' });
  try {
    await settle();
    assert.deepEqual(f.unmatched, []);
    writeFileSync(join(d, 'b.log'), 'b1\nb2\n');
    writeFileSync(join(d, 'c.txt'), 'not matched\n');
    appendFileSync(join(d, 'a.log'), 'a1\n');
    await waitFor(() => lines.length === 3, 'three lines');
    assert.deepEqual([...lines].sort(), ['a1', 'b1', 'b2']);
  } finally {
    await f.stop();
  }
});

test('a glob that also matches rotated names (app.log*) reads nothing twice and skips compressed files', async () => {
  const d = tmp();
  const log = join(d, 'app.log');
  writeFileSync(log, '');
  const { f, lines } = follow([`${log}*`], { start: 'end' });
  try {
    await settle();
    appendFileSync(log, 'one\ntwo\n');
    await waitFor(() => lines.length === 2, 'two lines');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'three\n');
    writeFileSync(`${log}.2.gz`, gzipSync('old compressed\n'));
    await waitFor(() => lines.length === 3, 'three lines');
    await settle();
    await settle();
    assert.deepEqual(lines, ['one', 'two', 'three']);
    assert.deepEqual(f.files, [log]);
  } finally {
    await f.stop();
  }
});

test('a directory given as a file: an error that says what to do', async () => {
  const d = tmp();
  const { f, errors } = follow([d]);
  try {
    await waitFor(() => errors.length > 0, 'an error');
    assert.match(errors[0], /is a directory, not a log file: .*\/\*\.log/);
    await settle();
    assert.equal(errors.length, 1, 'reported once, not at every poll');
  } finally {
    await f.stop();
  }
});

test('draining a large file yields to the event loop: timers keep running, lines stay in order', async () => {
  const d = tmp();
  const log = join(d, 'big.log');
  const n = 300_000;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`line ${i} ${'x'.repeat(40)}\n`);
  writeFileSync(log, parts.join(''));
  let ticks = 0;
  let ticksAtEnd = -1;
  let next = 0;
  let disorder = 0;
  const timer = setInterval(() => ticks++, 1);
  const f = new Follower({ paths: [log], start: 'beginning', encoding: 'utf8' });
  f.on('line', (l: string) => {
    if (l !== `line ${next} ${'x'.repeat(40)}`) disorder++;
    next++;
    if (next === n) ticksAtEnd = ticks;
  });
  f.start();
  try {
    await waitFor(() => next === n, `${n} lines`, 20000);
    assert.equal(disorder, 0);
    assert.ok(ticksAtEnd >= 3, `a 1 ms timer ran ${ticksAtEnd} times while ${n} lines were read`);
  } finally {
    clearInterval(timer);
    await f.stop();
  }
});

test('several rotations while behind: the rotations in between are read from their rotated names, in order', async () => {
  const d = tmp();
  const log = join(d, 'app.log');
  writeFileSync(log, 'a1\n');
  writeFileSync(`${log}.9`, 'much older, never to be read\n');
  const { f, lines, rotations } = follow([log], { start: 'beginning' });
  try {
    await waitFor(() => lines.length === 2 || lines.length === 1, 'the first line');
    await settle();
    // All at once (the follower cannot look in between), as logrotate does with "create" and "compress":
    // three rotations, the older ones compressed.
    const gz = (from: string, to: string) => {
      writeFileSync(to, gzipSync(readFileSync(from)));
      unlinkSync(from);
    };
    appendFileSync(log, 'a2\n');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'b1\nb2\n');
    renameSync(`${log}.1`, `${log}.2`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'c1\n');
    gz(`${log}.2`, `${log}.2.gz`);
    renameSync(`${log}.2.gz`, `${log}.3.gz`);
    renameSync(`${log}.1`, `${log}.2`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'd1\n');
    gz(`${log}.2`, `${log}.2.gz`);
    await waitFor(() => lines.includes('d1'), 'the newest file');
    await settle();
    assert.deepEqual(lines, ['a1', 'a2', 'b1', 'b2', 'c1', 'd1']);
    assert.ok(rotations.includes('missed'), JSON.stringify(rotations));

    // The same with copytruncate: two copies made and truncated before the follower looks.
    const shift = () => {
      for (const [from, to] of [['.3.gz', '.4.gz'], ['.2.gz', '.3.gz'], ['.1', '.2']]) renameSync(`${log}${from}`, `${log}${to}`);
      gz(`${log}.2`, `${log}.2.gz`);
    };
    appendFileSync(log, 'd2\n');
    shift();
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, 'e1\n');
    renameSync(`${log}.4.gz`, `${log}.5.gz`);
    shift();
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, 'f1\n');
    await waitFor(() => lines.includes('f1'), 'the newest content');
    await settle();
    assert.deepEqual(lines.slice(6), ['d2', 'e1', 'f1']);
  } finally {
    await f.stop();
  }
});

test('stopped inside a line being dropped: after a restart its tail is not read as a line of its own', async () => {
  const d = tmp();
  const log = join(d, 'auth.log');
  const state = join(d, 'state', 'tail.json');
  // An attacker's line of 120 KB, still being written when Node-RED stops.
  writeFileSync(log, `ok1\nNov 24 10:00:01 box sshd[1]: Invalid user ${'x from 10.0.0.1 port 22 '.repeat(5000)}`);
  let store = new PositionStore(state);
  let run = follow([log], { positions: store, start: 'beginning' });
  await waitFor(() => run.lines.length === 1, 'ok1');
  await settle();
  await run.f.stop();
  store.close();
  // Its end, written meanwhile, would read as a failure of 10.0.0.1 if taken for a line.
  appendFileSync(log, 'x from 10.0.0.1 port 22 ssh2\nok2\n');
  store = new PositionStore(state);
  run = follow([log], { positions: store, start: 'end' });
  try {
    await waitFor(() => run.lines.length >= 1, 'ok2');
    await settle();
    assert.deepEqual(run.lines, ['ok2']);
  } finally {
    await run.f.stop();
    store.remove();
  }
});

test('start=end while a line longer than the limit is being written: its tail is not read as a line', async () => {
  const d = tmp();
  const log = join(d, 'auth.log');
  writeFileSync(log, `ok1\nNov 24 10:00:01 box sshd[1]: Invalid user ${'x from 10.0.0.1 port 22 '.repeat(5000)}`);
  const run = follow([log], { start: 'end' });
  try {
    await settle();
    appendFileSync(log, 'x from 10.0.0.1 port 22 ssh2\nok2\n');
    await waitFor(() => run.lines.length >= 1, 'ok2');
    await settle();
    assert.deepEqual(run.lines, ['ok2']);
  } finally {
    await run.f.stop();
  }
});
