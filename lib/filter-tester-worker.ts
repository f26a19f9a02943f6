/** The worker thread of runFilterTest: one request in workerData, one answer posted back. */
import { parentPort, workerData } from 'worker_threads';
import { testFilter, type FilterTestRequest } from './filter-tester';

try {
  parentPort!.postMessage({ report: testFilter(workerData as FilterTestRequest) });
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
