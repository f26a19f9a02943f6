/**
 * The live regex tester of failregex-match's editor dialog: what fail2ban-regex does, for a few sample
 * lines and the filter settings being edited. testFilter runs in the calling thread; runFilterTest runs
 * it in a worker thread that is terminated after a time limit, because a backtracking pattern cannot be
 * interrupted inside the thread that runs it.
 */
import { join } from 'path';
import { Worker } from 'worker_threads';
import { filterFromSettings, filterLabel, Matcher, MAX_LINE_LENGTH, parseFilterOptions, type FilterSettings } from './filter';
import { builtinOptionProblem } from './filter-library';

/** At most this many sample lines per request. */
export const MAX_TEST_LINES = 200;
/** A sample line is shown cut to this many characters in the report (it is matched whole, or refused). */
export const MAX_TEST_LINE_LENGTH = 8192;
/** A request that takes longer is stopped. */
export const TEST_TIME_LIMIT_MS = 2000;
/** Worker threads running at once; more requests are refused until one ends. */
export const MAX_RUNNING_TESTS = 4;
let running = 0;

export interface FilterTestRequest {
  /** failregex-match's properties, as in the dialog. */
  settings: FilterSettings & { maxLineLength?: unknown };
  /** The sample lines; empty lines are skipped. */
  lines: string[];
  /** The current time (epoch ms), to infer a missing year; defaults to now. */
  now?: number;
}

export interface FilterTestLine {
  /** The sample line, cut at MAX_TEST_LINE_LENGTH for showing (`length` says how long it is). */
  line: string;
  /** Its length in characters. */
  length: number;
  /** One entry per failure the line completed (several with maxlines > 1 or several failregex). */
  failures: Array<{ host: string; user?: string; time: number; failregex: number }>;
  /** The index of the ignoreregex that fired, or null. */
  ignoreregex: number | null;
  /** The time found in the line (epoch ms), or null when it holds no date the filter reads. */
  time: number | null;
  /** Longer than maxLineLength: refused whole and not matched, as the deployed node refuses it. */
  tooLong: boolean;
}

export interface FilterTestReport {
  /** The filter tried, e.g. "sshd" or "inline". */
  filter: string;
  failregex: string[];
  ignoreregex: string[];
  lines: FilterTestLine[];
  /** More lines were sent than MAX_TEST_LINES; the rest were not tried. */
  skipped: number;
  summary: { lines: number; matched: number; ignored: number; missed: number; tooLong: number };
  /** The node's limit: longer lines are refused unmatched. */
  maxLineLength: number;
}

/** Checks the request's shape; throws an error that says what is wrong. */
function checkRequest(request: unknown): FilterTestRequest {
  const r = request as FilterTestRequest | null;
  if (!r || typeof r !== 'object' || !r.settings || typeof r.settings !== 'object') throw new Error('the request needs "settings" (the filter) and "lines"');
  const lines = Array.isArray(r.lines) ? r.lines : typeof (r.lines as unknown) === 'string' ? String(r.lines).split(/\r?\n/) : null;
  if (!lines || lines.some((l) => typeof l !== 'string')) throw new Error('"lines" must be a list of log lines');
  return { settings: r.settings, lines, now: typeof r.now === 'number' && Number.isFinite(r.now) ? r.now : undefined };
}

/** The node's maxLineLength as the dialog holds it (a number or its text); the default when empty. */
function lineLimit(value: unknown): number {
  if (value === undefined || value === null || String(value).trim() === '') return MAX_LINE_LENGTH;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`maxLineLength must be a whole number of characters, at least 1 (got ${String(value).slice(0, 40)})`);
  return n;
}

/** Runs the sample lines through the filter, line by line, as f2b-regex would; throws on a bad filter. */
export function testFilter(request: FilterTestRequest): FilterTestReport {
  const { settings, lines: given, now } = checkRequest(request);
  if (String(settings.filterSource || 'builtin') === 'builtin') {
    const problem = builtinOptionProblem(String(settings.filterName || 'sshd').trim(), parseFilterOptions(settings.filterOptions ? String(settings.filterOptions) : undefined));
    if (problem) throw new Error(problem);
  }
  if (String(settings.filterSource) === 'file' && !/\.(conf|local)$/.test(String(settings.filterFile ?? '').trim())) {
    // The tester answers over HTTP: it reads fail2ban filter files, not whatever path it is given.
    throw new Error('the tester reads fail2ban filter files only: give a path that ends in .conf or .local');
  }
  const definition = filterFromSettings(settings);
  const maxLineLength = lineLimit(settings.maxLineLength);
  const matcher = new Matcher(definition, { checkAllRegex: true, undatedIsNow: false, maxLineLength });
  const samples = given.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  const tried = samples.slice(0, MAX_TEST_LINES);
  const report: FilterTestReport = {
    filter: filterLabel(definition),
    failregex: [...definition.failregex],
    ignoreregex: [...definition.ignoreregex],
    lines: [],
    skipped: samples.length - tried.length,
    summary: { lines: 0, matched: 0, ignored: 0, missed: 0, tooLong: 0 },
    maxLineLength,
  };
  for (const line of tried) {
    // Matched whole, or refused whole when over the limit: never cut and matched.
    const result = matcher.match(line, undefined, now ?? Date.now());
    report.lines.push({
      line: line.length > MAX_TEST_LINE_LENGTH ? line.slice(0, MAX_TEST_LINE_LENGTH) : line,
      length: line.length,
      failures: result.failures.map((f) => ({ host: f.host, ...(f.user !== undefined ? { user: f.user } : {}), time: f.time, failregex: f.failregex })),
      ignoreregex: result.ignoreregex ?? null,
      time: result.time,
      tooLong: result.tooLong,
    });
    report.summary.lines++;
    if (result.tooLong) report.summary.tooLong++;
    else if (result.failures.length) report.summary.matched++;
    else if (result.ignored) report.summary.ignored++;
    else report.summary.missed++;
  }
  return report;
}

/** Why a test was refused or stopped; `timeout` when the time limit ended it. */
export class FilterTestError extends Error {
  constructor(message: string, readonly timeout = false, readonly busy = false) {
    super(message);
    this.name = 'FilterTestError';
  }
}

/**
 * testFilter in a worker thread, terminated after `timeoutMs`: a hostile or careless pattern that
 * backtracks for minutes costs this many milliseconds and no more. Rejects with a FilterTestError.
 */
export function runFilterTest(request: FilterTestRequest, timeoutMs = TEST_TIME_LIMIT_MS): Promise<FilterTestReport> {
  if (running >= MAX_RUNNING_TESTS) {
    return Promise.reject(new FilterTestError(`${running} tests are running already; try again in a moment`, false, true));
  }
  running++;
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(join(__dirname, 'filter-tester-worker.js'), {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: 128 },
      stdout: true,
      stderr: true,
    });
    const finish = (err: Error | null, report?: FilterTestReport) => {
      if (settled) return;
      settled = true;
      running--;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolve(report!);
    };
    const timer = setTimeout(() => {
      finish(new FilterTestError(`stopped after ${timeoutMs / 1000} s: a pattern takes too long on these lines (it probably backtracks, e.g. nested repeats like (.+)+ or .* next to .*); make the patterns more specific`, true));
    }, timeoutMs);
    worker.once('message', (m: { report?: FilterTestReport; error?: string }) => {
      finish(m.error !== undefined ? new FilterTestError(m.error) : null, m.report);
    });
    worker.once('error', (err) => finish(new FilterTestError(`the test failed: ${err.message}`)));
    worker.once('exit', (code) => finish(new FilterTestError(`the test stopped unexpectedly (exit code ${code})`)));
  });
}
