/**
 * Matchers in worker threads, with a watchdog: a careless or hostile pattern that backtracks on a line
 * cannot be interrupted inside the thread that runs it, so failregex-match runs its filter off
 * Node-RED's event loop. The threads are a small pool shared by every failregex-match node (one per
 * core, at most POOL_SIZE): a jail costs its compiled filter, not a thread of its own. Each IsolatedMatcher
 * is one filter in one of those threads.
 *
 * The thread writes the number of the line it is matching, and whose it is, into shared memory; when one
 * line takes longer than its matcher's limit, the thread is terminated, that line is skipped, and a new
 * thread takes the lines that were waiting behind it, of every matcher on it. So a line that spins holds
 * up the other jails of its thread for at most that limit.
 *
 * Lines are collected over one event-loop turn and sent as one batch; each line's outcome is handed
 * back in the order the lines came in. The number of lines (and characters) waiting is bounded: past
 * it, match() refuses the line, so a flood cannot grow memory without limit.
 */
import { availableParallelism } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { Worker } from 'worker_threads';
import type { Failure } from '../messages';
import { filterLabel, type FilterDefinition } from './load';

/** A line that takes longer than this (ms) to match is skipped, by default. */
export const DEFAULT_MATCH_TIMEOUT_MS = 250;
/** Lines waiting to be matched, at most; more are refused (counted by the caller). */
export const MAX_QUEUED_LINES = 10_000;
/** Characters of the lines waiting to be matched, at most (a line is counted as it was given). */
export const MAX_QUEUED_CHARS = 32 * 1024 * 1024;
/** Matching threads, at most: one per core, from 1 to 4. */
export const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism()));
/** Heap of one matching thread, MB: a pattern that eats memory ends that thread, not Node-RED. */
const WORKER_HEAP_MB = 128;
/** Crashes in a row (no line matched in between) after which a thread pauses for BROKEN_MS. */
const MAX_CRASHES = 3;
const BROKEN_MS = 5000;
/** The worker hands back results at least every this many lines of a batch. */
export const RESULT_CHUNK = 128;
/**
 * Results are handed out for at most this long (ms), and for at most HAND_OUT_LINES lines, per
 * event-loop turn: when Node-RED's thread falls behind, the worker's messages pile up (a port delivers
 * all it holds at once), and every failure handed out is work for the nodes downstream in the next turn.
 * The time is the bound that matters; the line count is above what log-tail gives in a turn (a 64 KiB
 * read, some 1,000 lines), so that a saturated node hands out as many lines a turn as it is given and
 * the lines waiting (each holding its Node-RED message, which every young collection copies) stay few.
 */
const HAND_OUT_MS = 4;
export const HAND_OUT_LINES = 2048;

/** What became of one line. */
export type LineOutcome =
  /**
   * Matched (possibly with no failure). Each failure is the payload failregex-match sends: one object
   * as the thread's results are parsed, its `line` the line (or the lines joined), its `filter` the label.
   */
  | { kind: 'matched'; failures: Failure[]; ignored: boolean }
  /** Refused whole, unmatched: longer than maxLineLength (`length` characters). */
  | { kind: 'too-long'; length: number }
  /** Skipped: matching it took longer than the limit, and was stopped after `ms`. */
  | { kind: 'timeout'; ms: number }
  /** The matcher threw on it, or its thread crashed on it. */
  | { kind: 'error'; message: string }
  /** Never matched: the matcher was closed first. */
  | { kind: 'closed' };

/**
 * Called with each line's outcome, in the order the lines were given, with the two values given with
 * the line to match(): a line's caller keeps what it needs for the outcome without a closure per line.
 */
export type OutcomeHandler<A, B> = (outcome: LineOutcome, a: A, b: B) => void;

export interface IsolatedMatcherOptions<A = (outcome: LineOutcome) => void, B = void> {
  /** Lines longer than this are refused whole: never matched, never sent to the thread. */
  maxLineLength: number;
  /** A line taking longer than this (ms) is skipped. */
  timeoutMs?: number;
  maxQueuedLines?: number;
  maxQueuedChars?: number;
  /** The filter's name in each failure (`filter`); by default its source, without "builtin:". */
  label?: string;
  /** Where outcomes go; by default the first value given with each line is called with it. */
  onOutcome?: OutcomeHandler<A, B>;
}

/**
 * The lines waiting, oldest first: a ring of slots across parallel arrays (the numbers in typed arrays),
 * so that a waiting line has no object of its own for every young collection to copy while it waits.
 * Positions count lines from the first one given: [head, sent) went to the worker, [sent, tail) wait
 * for the next batch; a line's slot is its position & mask.
 */
class Waiting<A, B> {
  mask: number;
  seq: Int32Array;
  /** The line's time, epoch ms; NaN for none (looked for in the line). */
  time: Float64Array;
  /** Length of the line as given (what it costs to keep). */
  size: Int32Array;
  /** 1: over maxLineLength, sent to the thread only as a place in the maxlines buffer, without its text. */
  tooLong: Uint8Array;
  /** The line ('' when too long: its text never goes to the thread). */
  line: string[];
  /** What the caller gave with the line, handed back with its outcome. */
  a: Array<A | undefined>;
  b: Array<B | undefined>;
  /** Decided without the worker (timed out, crashed on): handed out when its turn comes. */
  preset: Array<LineOutcome | undefined>;
  head = 0;
  sent = 0;
  tail = 0;

  constructor(capacity: number) {
    this.mask = capacity - 1;
    this.seq = new Int32Array(capacity);
    this.time = new Float64Array(capacity);
    this.size = new Int32Array(capacity);
    this.tooLong = new Uint8Array(capacity);
    this.line = new Array<string>(capacity).fill('');
    this.a = new Array<A | undefined>(capacity).fill(undefined);
    this.b = new Array<B | undefined>(capacity).fill(undefined);
    this.preset = new Array<LineOutcome | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.tail - this.head;
  }

  push(seq: number, line: string, time: number, size: number, tooLong: boolean, a: A, b: B): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.tail++;
    this.seq[i] = seq;
    this.line[i] = line;
    this.time[i] = time;
    this.size[i] = size;
    this.tooLong[i] = tooLong ? 1 : 0;
    this.a[i] = a;
    this.b[i] = b;
    this.preset[i] = undefined;
  }

  /** Empties the oldest slot (its values must have been read) and moves past it. */
  drop(): void {
    const i = this.head & this.mask;
    this.line[i] = '';
    this.a[i] = undefined;
    this.b[i] = undefined;
    this.preset[i] = undefined;
    this.head++;
    if (this.sent < this.head) this.sent = this.head;
    if (this.head >= 0x40000000) {
      // Positions stay small integers: moved back by a whole number of turns of the ring, slots unchanged.
      const by = this.head - (this.head & this.mask);
      this.head -= by;
      this.sent -= by;
      this.tail -= by;
    }
  }

  /** Twice the slots, every waiting line kept at its position. */
  private grow(): void {
    const fresh = new Waiting<A, B>((this.mask + 1) * 2);
    for (let p = this.head; p < this.tail; p++) {
      const from = p & this.mask;
      const to = p & fresh.mask;
      fresh.seq[to] = this.seq[from];
      fresh.time[to] = this.time[from];
      fresh.size[to] = this.size[from];
      fresh.tooLong[to] = this.tooLong[from];
      fresh.line[to] = this.line[from];
      fresh.a[to] = this.a[from];
      fresh.b[to] = this.b[from];
      fresh.preset[to] = this.preset[from];
    }
    this.mask = fresh.mask;
    this.seq = fresh.seq;
    this.time = fresh.time;
    this.size = fresh.size;
    this.tooLong = fresh.tooLong;
    this.line = fresh.line;
    this.a = fresh.a;
    this.b = fresh.b;
    this.preset = fresh.preset;
  }
}

/** The outcome of most lines, shared (never changed by whoever gets it). */
const NO_FAILURE: LineOutcome = Object.freeze({ kind: 'matched', failures: Object.freeze([]) as unknown as Failure[], ignored: false });

/** The outcome of a line an ignoreregex matched, with no failure (shared, as NO_FAILURE). */
const IGNORED: LineOutcome = Object.freeze({ kind: 'matched', failures: Object.freeze([]) as unknown as Failure[], ignored: true });

/** The default handler: the first value given with the line is the callback. */
function callFirst<A, B>(outcome: LineOutcome, a: A, _b: B): void {
  (a as unknown as (outcome: LineOutcome) => void)(outcome);
}

/** What a thread is told: a filter to build for a matcher, or to forget. */
export type ControlMessage = { op: 'add'; matcher: number; definition: FilterDefinition; maxLineLength: number } | { op: 'drop'; matcher: number };

/** One batch of one matcher's lines. */
export interface BatchMessage {
  op: 'batch';
  matcher: number;
  seqs: Int32Array;
  /** The lines; '' for a line refused as too long (flagged in `refused`). */
  lines: string[];
  /** 1 for a line refused as too long: it holds its place in the maxlines buffer, with no text; null when none was. */
  refused: Uint8Array | null;
  /** Each line's time (epoch ms), NaN for none; null when no line has one. */
  times: Float64Array | null;
}

/**
 * A failure as it crosses back: the payload failregex-match sends, keys in its order, so that the
 * object JSON.parse makes in Node-RED's thread is that payload. `line` is null for the line as sent
 * (Node-RED's thread has it) and `filter` is '' (the label is set there): neither crosses per line.
 */
export interface WireFailure {
  host: string;
  time: number;
  fields: Record<string, string>;
  line: string | null;
  filter: string;
  user?: string;
}
/**
 * A line's result as it crosses back, when it is not plainly no failure: a string, the matcher threw
 * this; 1, ignored with no failure; the failures (an array of objects); [1, failures], ignored and failures.
 */
export type WireResult = string | 1 | WireFailure[] | [1, WireFailure[]];

/**
 * Results from the worker for `count` consecutive lines of one matcher's batches, starting at seq
 * `first`. Most lines are no failure: only the others are sent, as JSON of [offset, WireResult, ...]
 * pairs ('' when there are none), parsed faster in Node-RED's thread than a structured clone.
 */
export interface ResultMessage {
  matcher: number;
  first: number;
  count: number;
  hits: string;
}

/** What the worker is given. */
export interface WorkerSetup {
  /** Int32 [0]: the number (seq) of the line being matched now, 0 between lines; [1]: whose (matcher id). */
  progress: SharedArrayBuffer;
}

/** Line numbers are 1..2^31-1, then wrap (0 means "none" in the shared slot); unique in the process. */
let lastSeq = 0;
const nextSeq = () => (lastSeq = lastSeq >= 0x7fffffff ? 1 : lastSeq + 1);
let lastMatcherId = 0;

/** The pool: threads with at least one matcher on them. */
const pool: MatchingThread[] = [];

/** The thread with the fewest matchers, or a new one while the pool is not full. */
function threadFor(): MatchingThread {
  let best: MatchingThread | null = null;
  for (const t of pool) if (!best || t.size < best.size) best = t;
  if (best && (best.size === 0 || pool.length >= POOL_SIZE)) return best;
  const t = new MatchingThread();
  pool.push(t);
  return t;
}

/** Matching threads running now (for tests and benchmarks). */
export function poolThreads(): number {
  return pool.filter((t) => t.running).length;
}

/** What a thread asks of the matchers on it (an IsolatedMatcher, whatever its callers give with lines). */
interface OnThread {
  readonly id: number;
  readonly timeoutMs: number;
  restarts: number;
  readonly outstanding: boolean;
  control(): ControlMessage;
  received(m: ResultMessage): void;
  preset(seq: number, outcome: LineOutcome): boolean;
  presetOldest(outcome: LineOutcome): boolean;
  unsend(): void;
  resend(): void;
  failAll(reason: string): void;
}

/** One worker thread of the pool, the matchers on it, and its watchdog. */
class MatchingThread {
  private worker: Worker | null = null;
  private progress = new Int32Array(new SharedArrayBuffer(8));
  private readonly matchers = new Map<number, OnThread>();
  /** The line the watchdog saw the worker on, and since when (this thread's clock, ms). */
  private watchSeq = 0;
  private watchSince = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private crashes = 0;
  brokenUntil = 0;
  brokenReason = '';
  private referenced = false;

  get size(): number {
    return this.matchers.size;
  }

  get running(): boolean {
    return this.worker !== null;
  }

  /** Takes a matcher on; false (with brokenReason) when no thread can be started. */
  attach(m: OnThread): boolean {
    this.matchers.set(m.id, m);
    if (this.worker) {
      this.worker.postMessage(m.control());
      m.restarts++;
      return true;
    }
    return this.start();
  }

  /** Lets a matcher go; the last one out ends the thread. */
  detach(m: OnThread): Promise<void> {
    if (this.matchers.get(m.id) !== m) return Promise.resolve();
    this.matchers.delete(m.id);
    const w = this.worker;
    if (this.matchers.size > 0) {
      w?.postMessage({ op: 'drop', matcher: m.id } satisfies ControlMessage);
      this.maybeIdle();
      return Promise.resolve();
    }
    this.worker = null;
    this.stopWatchdog();
    const at = pool.indexOf(this);
    if (at >= 0) pool.splice(at, 1);
    return w ? w.terminate().then(() => undefined) : Promise.resolve();
  }

  /** A worker to send to: the running one, or a new one; null while the thread is paused. */
  ready(): Worker | null {
    if (this.worker) return this.worker;
    if (Date.now() < this.brokenUntil || !this.start()) return null;
    return this.worker;
  }

  /** Lines are out: watch them, and keep the process alive for their results. */
  busy(): void {
    if (!this.watchdog) {
      let limit = Infinity;
      for (const m of this.matchers.values()) limit = Math.min(limit, m.timeoutMs);
      this.watchSeq = 0;
      this.watchdog = setInterval(this.check, Math.min(50, Math.max(5, Math.floor(limit / 10))));
      this.watchdog.unref();
    }
    if (!this.referenced && this.worker) {
      this.worker.ref();
      this.referenced = true;
    }
  }

  /** Nothing out for any matcher: an idle thread does not keep the process alive. */
  maybeIdle(): void {
    for (const m of this.matchers.values()) if (m.outstanding) return;
    this.stopWatchdog();
    if (this.referenced && this.worker) {
      this.worker.unref();
      this.referenced = false;
    }
  }

  /** A line was matched: the crashes before it were not in a row. */
  matched(): void {
    this.crashes = 0;
  }

  /** Starts a worker and builds every matcher's filter in it; false (the thread paused) when it cannot. */
  private start(): boolean {
    this.progress = new Int32Array(new SharedArrayBuffer(8));
    this.watchSeq = 0;
    const setup: WorkerSetup = { progress: this.progress.buffer as SharedArrayBuffer };
    let w: Worker;
    try {
      w = new Worker(join(__dirname, 'isolated-matcher-worker.js'), { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    } catch (err) {
      this.pause(`the matching thread cannot start: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    this.worker = w;
    this.referenced = true;
    for (const m of this.matchers.values()) {
      w.postMessage(m.control());
      m.restarts++;
    }
    w.on('message', (r: ResultMessage) => {
      if (w === this.worker) this.matchers.get(r.matcher)?.received(r);
    });
    w.on('error', (err) => {
      if (w === this.worker) this.crashed(err.message);
    });
    w.on('exit', (code) => {
      if (w === this.worker) this.crashed(`it exited with code ${code}`);
    });
    this.maybeIdle();
    return true;
  }

  /**
   * Watchdog tick: the worker has been on the same line since an earlier tick for longer than that
   * line's limit: the line is skipped and the worker replaced. Time is taken in this thread, so a line is
   * stopped between its limit and its limit plus two ticks after it started.
   */
  private check = (): void => {
    if (!this.worker) return;
    const seq = Atomics.load(this.progress, 0);
    const owner = this.matchers.get(Atomics.load(this.progress, 1));
    const now = performance.now();
    if (seq !== this.watchSeq) {
      this.watchSeq = seq;
      this.watchSince = now;
      return;
    }
    const ms = Math.round(now - this.watchSince);
    if (seq === 0 || !owner || ms < owner.timeoutMs) return;
    if (!owner.preset(seq, { kind: 'timeout', ms })) return;
    this.replace();
  };

  /** The worker crashed (or answered nonsense): the line it was on gets the error, the rest go to a new worker. */
  crashed(reason: string): void {
    const message = `the matching thread stopped: ${reason}`;
    const seq = Atomics.load(this.progress, 0);
    const owner = this.matchers.get(Atomics.load(this.progress, 1));
    if (!owner?.preset(seq, { kind: 'error', message })) {
      // Not on a line (or not one still out): the oldest line out takes the blame.
      for (const m of this.matchers.values()) if (m.presetOldest({ kind: 'error', message })) break;
    }
    if (++this.crashes >= MAX_CRASHES) {
      // Not the lines' fault, it seems (a thread that cannot start): stop trying for a while.
      this.pause(`${message} (${this.crashes} times in a row)`);
      return;
    }
    this.replace();
  }

  /** No worker for BROKEN_MS: every matcher's waiting lines, and those given meanwhile, get the reason. */
  private pause(reason: string): void {
    this.brokenUntil = Date.now() + BROKEN_MS;
    this.brokenReason = `${reason}; matching paused for ${BROKEN_MS / 1000} s`;
    this.crashes = 0;
    this.drop();
    for (const m of this.matchers.values()) m.failAll(this.brokenReason);
  }

  /**
   * Terminates the worker and starts another, which is sent every waiting line that has no outcome yet.
   * The matchers' memory (maxlines buffers, the last date format found, mlfid sessions) is lost with the
   * old worker; the new one starts afresh, as after a redeploy.
   */
  private replace(): void {
    this.drop();
    if (!this.start()) return;
    for (const m of this.matchers.values()) m.resend();
  }

  private drop(): void {
    const w = this.worker;
    this.worker = null;
    this.stopWatchdog();
    // Results not handed out yet are dropped too: those lines go to the next worker again.
    for (const m of this.matchers.values()) m.unsend();
    if (w) void w.terminate();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}

export class IsolatedMatcher<A = (outcome: LineOutcome) => void, B = void> implements OnThread {
  readonly id = ++lastMatcherId;
  readonly timeoutMs: number;
  readonly maxLineLength: number;
  private readonly maxLines: number;
  private readonly maxChars: number;
  private readonly definition: FilterDefinition;
  private readonly label: string;
  private readonly deliver: OutcomeHandler<A, B>;
  private thread: MatchingThread | null;
  /** Lines given and not yet handed back, oldest first. */
  private q = new Waiting<A, B>(256);
  private chars = 0;
  private flushing: NodeJS.Immediate | null = null;
  /** Results from the current worker not handed out yet, oldest first. */
  private inbox: ResultMessage[] = [];
  private handing: NodeJS.Immediate | null = null;
  private closed = false;
  /** Workers this matcher's filter was built in so far (the first included). */
  restarts = 0;

  /**
   * Takes a place in the pool. `definition` must have compiled already in this thread (errors are found
   * there, at deploy); its `locate` function, which cannot cross to a thread, is left behind.
   */
  constructor(definition: FilterDefinition, options: IsolatedMatcherOptions<A, B>) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_MATCH_TIMEOUT_MS;
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1)) throw new Error(`matchTimeout must be a whole number of milliseconds, at least 1 (got ${timeoutMs})`);
    this.timeoutMs = timeoutMs;
    this.maxLineLength = options.maxLineLength;
    this.maxLines = options.maxQueuedLines ?? MAX_QUEUED_LINES;
    this.maxChars = options.maxQueuedChars ?? MAX_QUEUED_CHARS;
    const { locate: _locate, ...plain } = definition;
    this.definition = plain;
    this.label = options.label ?? filterLabel(definition);
    this.deliver = options.onOutcome ?? callFirst;
    this.thread = threadFor();
    if (!this.thread.attach(this)) {
      const reason = this.thread.brokenReason;
      void this.thread.detach(this);
      this.thread = null;
      throw new Error(reason);
    }
  }

  /** Lines waiting (sent to the worker or not yet). */
  get waiting(): number {
    return this.q.length;
  }

  /** Lines out in the worker, their results not handed out yet. */
  get outstanding(): boolean {
    return this.q.sent > this.q.head;
  }

  /** What the thread is told to build this matcher's filter. */
  control(): ControlMessage {
    return { op: 'add', matcher: this.id, definition: this.definition, maxLineLength: this.maxLineLength };
  }

  /**
   * Queues a line; its outcome goes once to the handler with `a` and `b` (by default, `a` is called
   * with it), in the order lines were given. Returns false, without an outcome, when the queue is full:
   * the line is refused.
   */
  match(line: string, time: number | undefined, a: A, b: B): boolean {
    if (this.closed) {
      this.deliver({ kind: 'closed' }, a, b);
      return true;
    }
    if (this.waiting >= this.maxLines || (this.waiting > 0 && this.chars + line.length > this.maxChars)) return false;
    const tooLong = line.length > this.maxLineLength;
    this.q.push(nextSeq(), tooLong ? '' : line, time ?? NaN, line.length, tooLong, a, b);
    // (brokenUntil is 0 until a thread was ever paused: no clock read for every line.)
    if (this.thread && this.thread.brokenUntil !== 0 && Date.now() < this.thread.brokenUntil) {
      this.q.preset[(this.q.tail - 1) & this.q.mask] = { kind: 'error', message: this.thread.brokenReason };
    }
    this.chars += line.length;
    this.flushing ??= setImmediate(this.flush);
    return true;
  }

  /** Leaves the pool; lines still waiting are handed back as `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    if (this.handing) clearImmediate(this.handing);
    this.handing = null;
    this.inbox = [];
    const q = this.q;
    this.q = new Waiting<A, B>(1);
    this.chars = 0;
    const thread = this.thread;
    this.thread = null;
    for (let p = q.head; p < q.tail; p++) this.deliver({ kind: 'closed' }, q.a[p & q.mask] as A, q.b[p & q.mask] as B);
    if (thread) await thread.detach(this);
  }

  /** Sends the lines not yet sent to the worker, as one batch. */
  private flush = (): void => {
    this.flushing = null;
    if (this.closed || !this.thread) return;
    const worker = this.thread.ready();
    if (!worker) {
      this.handBack();
      return;
    }
    const q = this.q;
    let n = 0;
    let timed = false;
    let tooLong = false;
    for (let p = q.sent; p < q.tail; p++) {
      const i = p & q.mask;
      if (q.preset[i]) continue;
      n++;
      if (!Number.isNaN(q.time[i])) timed = true;
      if (q.tooLong[i]) tooLong = true;
    }
    const seqs = new Int32Array(n);
    const refused = tooLong ? new Uint8Array(n) : null;
    const times = timed ? new Float64Array(n) : null;
    // The lines go as an array: a structured clone of the strings costs about what joining them would,
    // without a copy of every line on this thread's heap.
    const lines: string[] = new Array<string>(n);
    for (let p = q.sent, k = 0; p < q.tail; p++) {
      const i = p & q.mask;
      if (q.preset[i]) continue;
      seqs[k] = q.seq[i];
      if (refused && q.tooLong[i]) refused[k] = 1;
      if (times) times[k] = q.time[i];
      lines[k] = q.line[i];
      k++;
    }
    q.sent = q.tail;
    if (n) {
      worker.postMessage({ op: 'batch', matcher: this.id, seqs, lines, refused, times } satisfies BatchMessage);
      this.thread.busy();
    } else {
      this.handBack();
    }
  };

  /** Results from the thread for this matcher. */
  received(m: ResultMessage): void {
    if (this.closed) return;
    this.inbox.push(m);
    this.handing ??= setImmediate(this.handOut);
  }

  /** Marks the line numbered `seq`, if it is out in the worker, with an outcome; false if it is not. */
  preset(seq: number, outcome: LineOutcome): boolean {
    if (seq === 0) return false;
    const q = this.q;
    for (let p = q.head; p < q.sent; p++) {
      const i = p & q.mask;
      if (q.seq[i] === seq && !q.preset[i]) {
        q.preset[i] = outcome;
        return true;
      }
    }
    return false;
  }

  /** Marks the oldest line out in the worker with an outcome; false if none is out. */
  presetOldest(outcome: LineOutcome): boolean {
    const q = this.q;
    for (let p = q.head; p < q.sent; p++) {
      const i = p & q.mask;
      if (!q.preset[i]) {
        q.preset[i] = outcome;
        return true;
      }
    }
    return false;
  }

  /** The worker is gone: what it was sent and did not answer goes again to the next one. */
  unsend(): void {
    this.inbox = [];
    if (this.handing) clearImmediate(this.handing);
    this.handing = null;
    this.q.sent = this.q.head;
  }

  /** A new worker: the lines decided meanwhile are handed out, the rest sent to it. */
  resend(): void {
    this.handBack();
    if (this.waiting > 0 && !this.closed) this.flush();
  }

  /** Every waiting line fails with `reason` (the thread is paused). */
  failAll(reason: string): void {
    const q = this.q;
    for (let p = q.head; p < q.tail; p++) q.preset[p & q.mask] ??= { kind: 'error', message: reason };
    this.handBack();
  }

  /** Hands out, in order, the outcomes known at the head of the queue. */
  private handBack(): void {
    this.finishPreset();
    if (!this.outstanding) this.thread?.maybeIdle();
  }

  /** Hands out the lines at the head that have an outcome already. */
  private finishPreset(): void {
    for (;;) {
      const q = this.q;
      if (q.head >= q.tail || this.closed) return;
      const preset = q.preset[q.head & q.mask];
      if (!preset) return;
      this.finish(preset);
    }
  }

  /** Hands out the oldest line's outcome (the slot is emptied first: the handler may give more lines). */
  private finish(outcome: LineOutcome): void {
    const q = this.q;
    const i = q.head & q.mask;
    const a = q.a[i] as A;
    const b = q.b[i] as B;
    this.chars -= q.size[i];
    q.drop();
    this.deliver(outcome, a, b);
  }

  /** Hands out results for up to HAND_OUT_MS, then lets the event loop go round. */
  private handOut = (): void => {
    this.handing = null;
    const end = performance.now() + HAND_OUT_MS;
    let lines = 0;
    while (this.inbox.length && !this.closed) {
      lines += this.results(this.inbox.shift()!);
      if (lines >= HAND_OUT_LINES || performance.now() > end) break;
    }
    if (this.inbox.length && !this.closed) this.handing = setImmediate(this.handOut);
  };

  /** Hands out one message of results; returns how many lines it held. */
  private results(m: ResultMessage): number {
    const hits = m.hits === '' ? null : (JSON.parse(m.hits) as Array<number | WireResult>);
    let next = hits ? (hits[0] as number) : -1;
    let h = 0;
    for (let k = 0; k < m.count; k++) {
      this.finishPreset();
      const q = this.q;
      if (this.closed || q.head >= q.sent) return m.count;
      const i = q.head & q.mask;
      if (k === 0 && q.seq[i] !== m.first) {
        // Cannot happen while lines go and come back in order; say so rather than mismatch lines.
        this.thread?.crashed(`results out of step (line ${m.first} came back, line ${q.seq[i]} was expected)`);
        return m.count;
      }
      if (k !== next) {
        this.finish(q.tooLong[i] ? { kind: 'too-long', length: q.size[i] } : NO_FAILURE);
        continue;
      }
      const line = q.line[i];
      const r = hits![h + 1] as WireResult;
      h += 2;
      next = h < hits!.length ? (hits![h] as number) : -1;
      if (typeof r === 'string') this.finish({ kind: 'error', message: r });
      else if (r === 1) this.finish(IGNORED);
      else {
        const ignored = typeof r[0] === 'number';
        const failures = (ignored ? r[1] : r) as WireFailure[];
        for (let j = 0; j < failures.length; j++) {
          const f = failures[j];
          if (f.line === null) f.line = line;
          f.filter = this.label;
        }
        this.finish({ kind: 'matched', failures: failures as Failure[], ignored });
      }
    }
    this.thread?.matched();
    this.handBack();
    return m.count;
  }
}
