/** The matcher in a worker thread: order, the watchdog, a crashing thread, the queue bound, close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineFilter, loadBuiltinFilter } from '../../lib/filter';
import { IsolatedMatcher, POOL_SIZE, poolThreads, type LineOutcome } from '../../lib/filter/isolated-matcher';

const CARELESS = String.raw`^(\w+\s?)*from <HOST>$`;
/** Backtracks for minutes against CARELESS: it holds the pattern's literal text ("from "), so the engine is run on it. */
const HANGS = `${'a'.repeat(40)}! from x`;

/** Feeds lines in one turn; resolves with their outcomes, in the order they were handed back. */
function run(m: IsolatedMatcher, lines: string[]): Promise<Array<{ line: number; outcome: LineOutcome }>> {
  return new Promise((resolve) => {
    const got: Array<{ line: number; outcome: LineOutcome }> = [];
    lines.forEach((l, i) =>
      m.match(l, undefined, (outcome) => {
        got.push({ line: i, outcome });
        if (got.length === lines.length) resolve(got);
      }),
    );
  });
}

const hosts = (o: LineOutcome) => (o.kind === 'matched' ? o.failures.map((f) => f.host) : o.kind);

test('lines come back in order; a line that backtracks is skipped, the lines around it are matched', { timeout: 20000 }, async () => {
  const m = new IsolatedMatcher(inlineFilter({ failregex: CARELESS }), { maxLineLength: 65536, timeoutMs: 200 });
  try {
    const lines = ['user a from 203.0.113.1', HANGS, 'user b from 203.0.113.2', 'nothing here', HANGS, 'user c from 203.0.113.3'];
    const started = Date.now();
    const got = await run(m, lines);
    const took = Date.now() - started;
    assert.deepEqual(got.map((g) => g.line), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(got.map((g) => hosts(g.outcome)), [['203.0.113.1'], 'timeout', ['203.0.113.2'], [], 'timeout', ['203.0.113.3']]);
    const skipped = got[1].outcome as { kind: 'timeout'; ms: number };
    assert.ok(skipped.ms >= 200 && skipped.ms < 1500, `stopped after ${skipped.ms} ms`);
    assert.ok(took < 5000, `two hanging lines cost ${took} ms`);
    assert.equal(m.restarts, 3, 'one thread at the start, one more after each hanging line');
    // The thread that replaced the last one still works.
    const after = await run(m, ['user d from 203.0.113.4']);
    assert.deepEqual(hosts(after[0].outcome), ['203.0.113.4']);
  } finally {
    await m.close();
  }
});

test('many lines in many turns, through the sshd filter: every one back once, in order', { timeout: 20000 }, async () => {
  const m = new IsolatedMatcher(loadBuiltinFilter('sshd'), { maxLineLength: 65536 });
  try {
    const n = 5000;
    const order: number[] = [];
    let failures = 0;
    await new Promise<void>((resolve) => {
      let i = 0;
      const feed = () => {
        for (let k = 0; k < 100 && i < n; k++, i++) {
          const at = i;
          const line = at % 2 ? `Nov 24 10:00:01 box sshd[1]: Failed password for root from 198.51.100.${at % 250} port 22 ssh2` : `Nov 24 10:00:01 box sshd[1]: Accepted publickey for deploy from 192.0.2.1 port 22 ssh2`;
          m.match(line, undefined, (o) => {
            order.push(at);
            if (o.kind === 'matched') failures += o.failures.length;
            if (order.length === n) resolve();
          });
        }
        if (i < n) setImmediate(feed);
      };
      feed();
    });
    assert.deepEqual(order, Array.from({ length: n }, (_, i) => i));
    assert.equal(failures, n / 2);
  } finally {
    await m.close();
  }
});

test('a line over maxLineLength is refused whole, unmatched; the lines around it are matched', async () => {
  const m = new IsolatedMatcher(inlineFilter({ failregex: '^x from <HOST>' }), { maxLineLength: 30 });
  try {
    // Cut at 30, it would read "x from 10.0.0.1 port 22 x from": the forged address.
    const framing = `x from 10.0.0.1 port 22 ${'x from 10.0.0.1 port 22 '.repeat(40)}x from 203.0.113.9`;
    const got = await run(m, ['x from 203.0.113.8', framing, 'x from 203.0.113.10']);
    assert.deepEqual(got[0].outcome.kind === 'matched' && hosts(got[0].outcome), ['203.0.113.8']);
    assert.deepEqual(got[1].outcome, { kind: 'too-long', length: framing.length });
    assert.deepEqual(got[2].outcome.kind === 'matched' && hosts(got[2].outcome), ['203.0.113.10']);
  } finally {
    await m.close();
  }
});

test('a refused line holds its place in the maxlines buffer: the lines around it are not joined', async () => {
  const two = inlineFilter({ failregex: String.raw`^login as <F-USER>\S+</F-USER>\n.*failed from <HOST>$`, maxlines: 2 });
  const m = new IsolatedMatcher(two, { maxLineLength: 100 });
  try {
    const got = await run(m, ['login as eve', 'y'.repeat(101), 'auth failed from 10.0.0.1', 'login as bob', 'auth failed from 203.0.113.4']);
    assert.deepEqual(got.map((g) => g.outcome.kind), ['matched', 'too-long', 'matched', 'matched', 'matched']);
    assert.deepEqual(got.flatMap((g) => (g.outcome.kind === 'matched' ? hosts(g.outcome) : [])), ['203.0.113.4']);
  } finally {
    await m.close();
  }
});

test('past maxQueuedLines a line is refused; the queued ones still come back', async () => {
  const m = new IsolatedMatcher(inlineFilter({ failregex: '^x from <HOST>' }), { maxLineLength: 100, maxQueuedLines: 50 });
  try {
    let back = 0;
    let refused = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 80; i++) {
        const ok = m.match(`x from 203.0.113.${i}`, undefined, () => {
          if (++back === 50) resolve();
        });
        if (!ok) refused++;
      }
    });
    assert.equal(refused, 30);
    assert.equal(m.waiting, 0);
  } finally {
    await m.close();
  }
});

test('a filter that cannot be built in the thread: its lines get an error that says so; the other filters on the thread match on', async () => {
  // Not compiled in this thread first (the node does that): the worker's Matcher throws on it.
  const bad = new IsolatedMatcher({ source: 'inline', failregex: ['Failed (<HOST>'], ignoreregex: [], maxlines: 1 }, { maxLineLength: 100 });
  const good = new IsolatedMatcher(inlineFilter({ failregex: '^x from <HOST>' }), { maxLineLength: 100 });
  try {
    const [got, fine] = await Promise.all([run(bad, ['one', 'two', 'three']), run(good, ['x from 203.0.113.1'])]);
    assert.deepEqual(got.map((g) => g.line), [0, 1, 2]);
    for (const g of got) assert.match((g.outcome as { message: string }).message, /the filter cannot be built in the matching thread/);
    assert.deepEqual(hosts(fine[0].outcome), ['203.0.113.1']);
    assert.equal(bad.restarts, 1, 'no thread was started again for it');
  } finally {
    await bad.close();
    await good.close();
  }
});

test('the pool: sixteen matchers share at most POOL_SIZE threads; a line that hangs one holds up the others of its thread for no longer than its limit', { timeout: 20000 }, async () => {
  const before = poolThreads();
  const ms = Array.from({ length: 16 }, (_, i) => new IsolatedMatcher(inlineFilter({ failregex: i === 0 ? CARELESS : `^j${i} from <HOST>` }), { maxLineLength: 100, timeoutMs: 300 }));
  try {
    assert.ok(poolThreads() - before <= POOL_SIZE, `${poolThreads() - before} threads for 16 matchers`);
    const started = Date.now();
    const hung = run(ms[0], [HANGS, 'user a from 203.0.113.1']);
    const others = await Promise.all(ms.slice(1).map((m, i) => run(m, [`j${i + 1} from 198.51.100.${i + 1}`])));
    const othersMs = Date.now() - started;
    others.forEach((got, i) => assert.deepEqual(hosts(got[0].outcome), [`198.51.100.${i + 1}`]));
    const h = await hung;
    assert.deepEqual(h.map((g) => hosts(g.outcome)), ['timeout', ['203.0.113.1']]);
    assert.ok(othersMs < 3000, `the other matchers waited ${othersMs} ms`);
    // After the replaced thread, every matcher on it still matches.
    const again = await Promise.all(ms.slice(1).map((m, i) => run(m, [`j${i + 1} from 192.0.2.${i + 1}`])));
    again.forEach((got, i) => assert.deepEqual(hosts(got[0].outcome), [`192.0.2.${i + 1}`]));
  } finally {
    await Promise.all(ms.map((m) => m.close()));
  }
  assert.equal(poolThreads(), before, 'the last matcher out of a thread ends it');
});

test('close hands back the lines still waiting as closed, and ends the thread', async () => {
  const m = new IsolatedMatcher(inlineFilter({ failregex: CARELESS }), { maxLineLength: 100, timeoutMs: 5000 });
  const got: LineOutcome[] = [];
  m.match(HANGS, undefined, (o) => got.push(o));
  m.match('user a from 203.0.113.1', undefined, (o) => got.push(o));
  await new Promise((r) => setTimeout(r, 100));
  await m.close();
  assert.deepEqual(got.map((o) => o.kind), ['closed', 'closed']);
  const late: LineOutcome[] = [];
  m.match('user b from 203.0.113.2', undefined, (o) => late.push(o));
  assert.deepEqual(late.map((o) => o.kind), ['closed']);
});

test('outcomes go to onOutcome with the two values given with each line; each failure is the payload failregex-match sends', async () => {
  type Tag = { n: number };
  const got: Array<{ outcome: LineOutcome; a: Tag; b: string }> = [];
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const m = new IsolatedMatcher<Tag, string>(inlineFilter({ failregex: String.raw`^(?:x|y) from <HOST>(?: as <F-USER>\S+</F-USER>)?$`, ignoreregex: '^y ' }), {
    maxLineLength: 100,
    label: 'the-label',
    onOutcome: (outcome, a, b) => {
      got.push({ outcome, a, b });
      if (got.length === 5) resolve();
    },
  });
  try {
    const lines = ['x from 203.0.113.1', 'nothing', 'x from 203.0.113.2 as eve', 'y from 203.0.113.3', 'x from 203.0.113.1'];
    lines.forEach((l, n) => assert.equal(m.match(l, Date.UTC(2026, 0, 2, 3, 4, 5), { n }, `b${n}`), true));
    await all;
    assert.deepEqual(got.map((g) => [g.a.n, g.b]), [[0, 'b0'], [1, 'b1'], [2, 'b2'], [3, 'b3'], [4, 'b4']]);
    const [one, none, two, ignored] = got.map((g) => g.outcome);
    assert.equal(one.kind, 'matched');
    if (one.kind !== 'matched' || two.kind !== 'matched' || none.kind !== 'matched' || ignored.kind !== 'matched') return;
    // The key order is the payload's: host, time, fields, line, filter, then user when there is one.
    assert.deepEqual(Object.keys(one.failures[0]), ['host', 'time', 'fields', 'line', 'filter']);
    assert.deepEqual(one.failures[0], { host: '203.0.113.1', time: Date.UTC(2026, 0, 2, 3, 4, 5), fields: { ip4: '203.0.113.1' }, line: lines[0], filter: 'the-label' });
    assert.equal(one.ignored, false);
    assert.deepEqual(none, { kind: 'matched', failures: [], ignored: false });
    assert.deepEqual(Object.keys(two.failures[0]), ['host', 'time', 'fields', 'line', 'filter', 'user']);
    assert.equal(two.failures[0].user, 'eve');
    assert.equal(two.failures[0].line, lines[2]);
    assert.deepEqual(ignored, { kind: 'matched', failures: [], ignored: true });
    const four = got[4].outcome;
    assert.ok(four.kind === 'matched' && four.failures.length === 1 && four.failures[0].line === lines[4] && four.failures[0] !== one.failures[0]);
  } finally {
    await m.close();
  }
  // Closed: the outcome still goes to the handler, with the values given.
  m.match('x from 203.0.113.9', undefined, { n: 9 }, 'b9');
  assert.deepEqual(got.slice(5).map((g) => [g.outcome.kind, g.a.n, g.b]), [['closed', 9, 'b9']]);
});

test('a failure over several lines (maxlines) carries them joined; the label defaults to the source', async () => {
  const two = inlineFilter({ failregex: String.raw`^login as <F-USER>\S+</F-USER>\n.*failed from <HOST>$`, maxlines: 2 });
  const m = new IsolatedMatcher(two, { maxLineLength: 100 });
  try {
    const got = await run(m, ['login as bob', 'auth failed from 203.0.113.4']);
    const last = got[1].outcome;
    assert.ok(last.kind === 'matched');
    assert.equal(last.failures.length, 1);
    assert.equal(last.failures[0].line, 'login as bob\nauth failed from 203.0.113.4');
    assert.equal(last.failures[0].user, 'bob');
    assert.equal(last.failures[0].filter, 'inline');
  } finally {
    await m.close();
  }
});

test('the waiting lines outgrow their first slots and wrap round them: every line back once, in order, with its own values', async () => {
  const m = new IsolatedMatcher<number, string>(inlineFilter({ failregex: '^x from <HOST>$' }), {
    maxLineLength: 40,
    onOutcome: (outcome, a, b) => got.push([outcome.kind === 'matched' ? outcome.failures.map((f) => f.line).join() : outcome.kind, a, b]),
  });
  const got: Array<[string, number, string]> = [];
  const line = (i: number) => (i % 7 === 3 ? `${'y'.repeat(41)}` : i % 2 ? `x from 198.51.${(i >> 8) & 255}.${i & 255}` : `noise ${i}`);
  const want = (i: number): [string, number, string] => [i % 7 === 3 ? 'too-long' : i % 2 ? line(i) : '', i, `l${i}`];
  try {
    // Three turns: 3,000 lines in one (the slots grow), then 300 a turn while the first are still out.
    let i = 0;
    for (; i < 3000; i++) assert.equal(m.match(line(i), undefined, i, `l${i}`), true);
    for (let turn = 0; turn < 2; turn++) {
      await new Promise((r) => setImmediate(r));
      for (const end = i + 300; i < end; i++) m.match(line(i), undefined, i, `l${i}`);
    }
    while (got.length < i) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, Array.from({ length: i }, (_, n) => want(n)));
    // More turns of a few lines each: the positions go round the ring many times.
    for (let turn = 0; turn < 40; turn++) {
      for (const end = i + 50; i < end; i++) m.match(line(i), undefined, i, `l${i}`);
      while (got.length < i) await new Promise((r) => setTimeout(r, 1));
    }
    assert.deepEqual(got.slice(3600), Array.from({ length: i - 3600 }, (_, n) => want(3600 + n)));
    assert.equal(m.waiting, 0);
    // Lines still waiting at close get `closed`, with their values.
    for (const end = i + 500; i < end; i++) m.match(line(i), undefined, i, `l${i}`);
  } finally {
    await m.close();
  }
  assert.deepEqual(got.slice(5600), Array.from({ length: 500 }, (_, n) => ['closed', 5600 + n, `l${5600 + n}`]));
});
