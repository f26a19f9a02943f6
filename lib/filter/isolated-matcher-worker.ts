/**
 * A thread of the matching pool: builds the Matcher of each filter it is given, then matches batches
 * of lines in order, writing the number of the line it is on, and whose it is, into shared memory (the
 * watchdog reads it) and posting results back in chunks.
 */
import { performance } from 'perf_hooks';
import { parentPort, workerData } from 'worker_threads';
import { RESULT_CHUNK, type BatchMessage, type ControlMessage, type ResultMessage, type WireFailure, type WireResult, type WorkerSetup } from './isolated-matcher';
import { Matcher } from './matcher';

const setup = workerData as WorkerSetup;
const progress = new Int32Array(setup.progress);
const port = parentPort!;
/** Each matcher's filter, or why it could not be built here. */
const matchers = new Map<number, Matcher | string>();

function build(m: Extract<ControlMessage, { op: 'add' }>): Matcher | string {
  try {
    return new Matcher(m.definition, { maxLineLength: m.maxLineLength });
  } catch (err) {
    // One filter that does not build must not stop the other jails of this thread.
    return `the filter cannot be built in the matching thread: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function matchBatch(batch: BatchMessage): void {
  const { matcher: id, seqs, lines, refused, times } = batch;
  const matcher = matchers.get(id);
  if (matcher === undefined) return; // dropped meanwhile
  let first = seqs[0];
  let count = 0;
  /** Offsets in this chunk and results of the lines that are not simply no failure. */
  let hits: Array<number | WireResult> = [];
  let since = performance.now();
  const post = () => port.postMessage({ matcher: id, first, count, hits: hits.length ? JSON.stringify(hits) : '' } satisfies ResultMessage);
  Atomics.store(progress, 1, id);
  for (let i = 0; i < seqs.length; i++) {
    let r: WireResult | 0;
    if (typeof matcher === 'string') r = matcher;
    else if (refused && refused[i]) {
      // Refused as too long in Node-RED's thread: its place in the maxlines buffer, and nothing else.
      matcher.refuseLine();
      r = 0;
    } else {
      const line = lines[i];
      Atomics.store(progress, 0, seqs[i]);
      try {
        const t = times ? times[i] : NaN;
        const m = matcher.match(line, Number.isNaN(t) ? undefined : t);
        if (m.failures.length) {
          const out: WireFailure[] = [];
          for (const f of m.failures) {
            // The payload as failregex-match sends it, but for the line itself (Node-RED's thread has
            // it) and the filter's label (set there).
            const one = f.lines.length === 1;
            const w: WireFailure = { host: f.host, time: f.time, fields: f.fields, line: one && f.lines[0] === line ? null : one ? f.lines[0] : f.lines.join('\n'), filter: '' };
            if (f.user !== undefined) w.user = f.user;
            out.push(w);
          }
          r = m.ignored ? [1, out] : out;
        } else r = m.ignored ? 1 : 0;
      } catch (err) {
        r = err instanceof Error ? err.message : String(err);
      }
      Atomics.store(progress, 0, 0);
    }
    if (r !== 0) hits.push(count, r);
    count++;
    // Results go back in chunks: a long batch is not held up to its end, and less is redone should
    // the thread be replaced.
    if (count >= RESULT_CHUNK || ((i & 15) === 15 && performance.now() - since > 20)) {
      post();
      count = 0;
      hits = [];
      first = seqs[i + 1];
      since = performance.now();
    }
  }
  if (count) post();
}

port.on('message', (m: ControlMessage | BatchMessage) => {
  if (m.op === 'batch') matchBatch(m);
  else if (m.op === 'add') matchers.set(m.matcher, build(m));
  else matchers.delete(m.matcher);
});
