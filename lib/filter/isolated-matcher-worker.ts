/**
 * The thread of an IsolatedMatcher: builds the Matcher from the filter definition it is given, then
 * matches batches of lines in order, writing the number of the line it is on into shared memory (the
 * watchdog reads it) and posting results back in chunks.
 */
import { performance } from 'perf_hooks';
import { parentPort, workerData } from 'worker_threads';
import { RESULT_CHUNK, type BatchMessage, type ResultMessage, type WorkerSetup } from './isolated-matcher';
import { Matcher } from './matcher';

const setup = workerData as WorkerSetup;
const progress = new Int32Array(setup.progress);
const matcher = new Matcher(setup.definition, { maxLineLength: setup.maxLineLength });
const port = parentPort!;

port.on('message', (batch: BatchMessage) => {
  const { seqs, lines, times } = batch;
  let first = seqs[0];
  let results: ResultMessage['results'] = [];
  let since = performance.now();
  for (let i = 0; i < seqs.length; i++) {
    Atomics.store(progress, 0, seqs[i]);
    let r: ResultMessage['results'][number];
    try {
      const t = times[i];
      const m = matcher.match(lines[i], Number.isNaN(t) ? undefined : t);
      r = m.failures.length || m.ignored ? [m.failures, m.ignored] : 0;
    } catch (err) {
      r = err instanceof Error ? err.message : String(err);
    }
    Atomics.store(progress, 0, 0);
    results.push(r);
    // Results go back in chunks: a long batch is not held up to its end, and less is redone should
    // the thread be replaced.
    if (results.length >= RESULT_CHUNK || ((i & 15) === 15 && performance.now() - since > 20)) {
      port.postMessage({ first, results } satisfies ResultMessage);
      results = [];
      first = seqs[i + 1];
      since = performance.now();
    }
  }
  if (results.length) port.postMessage({ first, results } satisfies ResultMessage);
});
