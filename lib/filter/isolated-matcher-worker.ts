/**
 * The thread of an IsolatedMatcher: builds the Matcher from the filter definition it is given, then
 * matches batches of lines in order, writing the number of the line it is on into shared memory (the
 * watchdog reads it) and posting results back in chunks.
 */
import { performance } from 'perf_hooks';
import { parentPort, workerData } from 'worker_threads';
import { RESULT_CHUNK, type BatchMessage, type ResultMessage, type WireFailure, type WireResult, type WorkerSetup } from './isolated-matcher';
import { Matcher } from './matcher';

const setup = workerData as WorkerSetup;
const progress = new Int32Array(setup.progress);
const matcher = new Matcher(setup.definition, { maxLineLength: setup.maxLineLength });
const port = parentPort!;

port.on('message', (batch: BatchMessage) => {
  const { seqs, text, lengths, times } = batch;
  let first = seqs[0];
  let results: WireResult[] = [];
  let since = performance.now();
  let at = 0;
  const post = () => port.postMessage({ first, results: JSON.stringify(results) } satisfies ResultMessage);
  for (let i = 0; i < seqs.length; i++) {
    if (lengths[i] < 0) {
      // Refused as too long in Node-RED's thread: its place in the maxlines buffer, and nothing else.
      matcher.refuseLine();
      results.push(0);
      continue;
    }
    const line = text.slice(at, at + lengths[i]);
    at += lengths[i];
    Atomics.store(progress, 0, seqs[i]);
    let r: WireResult;
    try {
      const t = times ? times[i] : NaN;
      const m = matcher.match(line, Number.isNaN(t) ? undefined : t);
      if (m.failures.length || m.ignored) {
        const out: [0 | 1, ...WireFailure[]] = [m.ignored ? 1 : 0];
        for (const f of m.failures) {
          // The line itself is not sent back: Node-RED's thread has it.
          const lines = f.lines.length === 1 && f.lines[0] === line ? null : f.lines;
          out.push([f.host, f.time, f.user ?? null, f.fields, lines, f.failregex, f.users ?? null]);
        }
        r = out;
      } else r = 0;
    } catch (err) {
      r = err instanceof Error ? err.message : String(err);
    }
    Atomics.store(progress, 0, 0);
    results.push(r);
    // Results go back in chunks: a long batch is not held up to its end, and less is redone should
    // the thread be replaced.
    if (results.length >= RESULT_CHUNK || ((i & 15) === 15 && performance.now() - since > 20)) {
      post();
      results = [];
      first = seqs[i + 1];
      since = performance.now();
    }
  }
  if (results.length) post();
});
