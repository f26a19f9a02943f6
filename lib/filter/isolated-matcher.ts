/**
 * A Matcher in a worker thread, with a watchdog: a careless or hostile pattern that backtracks on a
 * line cannot be interrupted inside the thread that runs it, so failregex-match runs its filter here,
 * off Node-RED's event loop. The worker writes the number of the line it is matching into shared memory;
 * when one line takes longer than the limit, the worker is terminated, that line is skipped, and a new
 * worker takes the lines that were waiting behind it.
 *
 * Lines are collected over one event-loop turn and sent as one batch; each line's outcome is handed
 * back in the order the lines came in. The number of lines (and characters) waiting is bounded: past
 * it, match() refuses the line, so a flood cannot grow memory without limit.
 */
import { join } from 'path';
import { performance } from 'perf_hooks';
import { Worker } from 'worker_threads';
import type { FilterDefinition } from './load';
import type { FailureMatch } from './matcher';

/** A line that takes longer than this (ms) to match is skipped, by default. */
export const DEFAULT_MATCH_TIMEOUT_MS = 250;
/** Lines waiting to be matched, at most; more are refused (counted by the caller). */
export const MAX_QUEUED_LINES = 10_000;
/** Characters of the lines waiting to be matched, at most (a line is counted as it was given, uncut). */
export const MAX_QUEUED_CHARS = 32 * 1024 * 1024;
/** Heap of one matching thread, MB: a pattern that eats memory ends that thread, not Node-RED. */
const WORKER_HEAP_MB = 128;
/** Crashes in a row (no line matched in between) after which matching pauses for BROKEN_MS. */
const MAX_CRASHES = 3;
const BROKEN_MS = 5000;
/** The worker hands back results at least every this many lines of a batch. */
export const RESULT_CHUNK = 128;
/**
 * Results are handed out for at most this long (ms), and for at most HAND_OUT_LINES lines, per
 * event-loop turn: when Node-RED's thread falls behind, the worker's messages pile up (a port delivers
 * all it holds at once), and every failure handed out is work for the nodes downstream in the next turn.
 */
const HAND_OUT_MS = 4;
const HAND_OUT_LINES = 512;

/** What became of one line. */
export type LineOutcome =
  /** Matched (possibly with no failure). */
  | { kind: 'matched'; failures: FailureMatch[]; ignored: boolean }
  /** Refused whole, unmatched: longer than maxLineLength (`length` characters). */
  | { kind: 'too-long'; length: number }
  /** Skipped: matching it took longer than the limit, and was stopped after `ms`. */
  | { kind: 'timeout'; ms: number }
  /** The matcher threw on it, or its thread crashed on it. */
  | { kind: 'error'; message: string }
  /** Never matched: the matcher was closed first. */
  | { kind: 'closed' };

export interface IsolatedMatcherOptions {
  /** Lines longer than this are refused whole: never matched, never sent to the thread. */
  maxLineLength: number;
  /** A line taking longer than this (ms) is skipped. */
  timeoutMs?: number;
  maxQueuedLines?: number;
  maxQueuedChars?: number;
}

interface Entry {
  seq: number;
  line: string;
  /** The line's time, epoch ms; NaN for none (looked for in the line). */
  time: number;
  /** Length of the line as given (what it costs to keep). */
  size: number;
  done: (outcome: LineOutcome) => void;
  /** Decided without the worker (timed out, crashed on): handed out when its turn comes. */
  preset?: LineOutcome;
  /** Over maxLineLength: sent to the thread only as a place in the maxlines buffer, without its text. */
  tooLong?: true;
}

/**
 * One batch to the worker: the lines joined into one string, cut apart by their lengths (one string
 * crosses to a thread far more cheaply than thousands).
 */
export interface BatchMessage {
  seqs: Int32Array;
  text: string;
  /** Each line's length in `text`; -1 for a line refused as too long (it holds its place, no text). */
  lengths: Int32Array;
  /** Each line's time (epoch ms), NaN for none; null when no line has one. */
  times: Float64Array | null;
}

/**
 * A failure as it crosses back: host, time, user, fields, the lines (null: just the line as sent),
 * failregex index, users (null: none).
 */
export type WireFailure = [string, number, string | null, Record<string, string>, string[] | null, number, string[] | null];
/** A line's result as it crosses back: 0 no failure and not ignored; [ignored 0|1, ...failures]; a string: the matcher threw this. */
export type WireResult = 0 | string | [0 | 1, ...WireFailure[]];

/**
 * Results from the worker for consecutive lines of the batches, starting at seq `first`, as JSON of a
 * WireResult[] (parsed faster in Node-RED's thread than a structured clone of the same objects).
 */
export interface ResultMessage {
  first: number;
  results: string;
}

/** What the worker is given. */
export interface WorkerSetup {
  definition: FilterDefinition;
  maxLineLength: number;
  /** Int32 [0]: the number (seq) of the line being matched now; 0 between lines. */
  progress: SharedArrayBuffer;
}

/** Line numbers are 1..2^31-1, then wrap (0 means "none" in the shared slot). */
const nextSeq = (seq: number) => (seq >= 0x7fffffff ? 1 : seq + 1);

export class IsolatedMatcher {
  readonly timeoutMs: number;
  readonly maxLineLength: number;
  private readonly maxLines: number;
  private readonly maxChars: number;
  private readonly definition: FilterDefinition;
  private worker: Worker | null = null;
  private progress = new Int32Array(new SharedArrayBuffer(4));
  /** The line the watchdog saw the worker on, and since when (this thread's clock, ms). */
  private watchSeq = 0;
  private watchSince = 0;
  /** Lines given and not yet handed back, oldest first, from `head`. */
  private queue: Entry[] = [];
  private head = 0;
  /** queue[head..sent) went to the current worker; the rest wait for the next flush. */
  private sent = 0;
  private chars = 0;
  private seq = 0;
  private flushing: NodeJS.Immediate | null = null;
  /** Results from the current worker not handed out yet, oldest first. */
  private inbox: ResultMessage[] = [];
  private handing: NodeJS.Immediate | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private crashes = 0;
  private brokenUntil = 0;
  private brokenReason = '';
  private closed = false;
  private referenced = false;
  /** Workers started so far (the first included). */
  restarts = 0;

  /**
   * Starts the worker. `definition` must have compiled already in this thread (errors are found there,
   * at deploy); its `locate` function, which cannot cross to a thread, is left behind.
   */
  constructor(definition: FilterDefinition, options: IsolatedMatcherOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_MATCH_TIMEOUT_MS;
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1)) throw new Error(`matchTimeout must be a whole number of milliseconds, at least 1 (got ${timeoutMs})`);
    this.timeoutMs = timeoutMs;
    this.maxLineLength = options.maxLineLength;
    this.maxLines = options.maxQueuedLines ?? MAX_QUEUED_LINES;
    this.maxChars = options.maxQueuedChars ?? MAX_QUEUED_CHARS;
    const { locate: _locate, ...plain } = definition;
    this.definition = plain;
    if (!this.start()) throw new Error(this.brokenReason);
  }

  /** Lines waiting (sent to the worker or not yet). */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues a line; `done` is called once with its outcome, in the order lines were given. Returns
   * false, without calling `done`, when the queue is full: the line is refused.
   */
  match(line: string, time: number | undefined, done: (outcome: LineOutcome) => void): boolean {
    if (this.closed) {
      done({ kind: 'closed' });
      return true;
    }
    if (this.waiting >= this.maxLines || (this.waiting > 0 && this.chars + line.length > this.maxChars)) return false;
    const tooLong = line.length > this.maxLineLength;
    this.seq = nextSeq(this.seq);
    const entry: Entry = { seq: this.seq, line: tooLong ? '' : line, time: time ?? NaN, size: line.length, done };
    if (tooLong) entry.tooLong = true;
    if (Date.now() < this.brokenUntil) entry.preset = { kind: 'error', message: this.brokenReason };
    this.queue.push(entry);
    this.chars += entry.size;
    this.flushing ??= setImmediate(this.flush);
    return true;
  }

  /** Stops the worker; lines still waiting are handed back as `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    if (this.handing) clearImmediate(this.handing);
    this.handing = null;
    this.inbox = [];
    this.stopWatchdog();
    const w = this.worker;
    this.worker = null;
    const left = this.queue.slice(this.head);
    this.queue = [];
    this.head = this.sent = 0;
    this.chars = 0;
    for (const e of left) e.done({ kind: 'closed' });
    if (w) await w.terminate();
  }

  /** Starts a worker; false (matching paused, the waiting lines failed) when none can be started. */
  private start(): boolean {
    this.progress = new Int32Array(new SharedArrayBuffer(4));
    this.watchSeq = 0;
    const setup: WorkerSetup = { definition: this.definition, maxLineLength: this.maxLineLength, progress: this.progress.buffer as SharedArrayBuffer };
    let w: Worker;
    try {
      w = new Worker(join(__dirname, 'isolated-matcher-worker.js'), { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    } catch (err) {
      this.pause(`the matching thread cannot start: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    this.worker = w;
    this.restarts++;
    this.referenced = true;
    this.sent = this.head;
    w.on('message', (m: ResultMessage) => {
      if (w !== this.worker) return;
      this.inbox.push(m);
      this.handing ??= setImmediate(this.handOut);
    });
    w.on('error', (err) => {
      if (w === this.worker) this.crashed(err.message);
    });
    w.on('exit', (code) => {
      if (w === this.worker) this.crashed(`it exited with code ${code}`);
    });
    this.idle();
    return true;
  }

  /** Sends the lines not yet sent to the worker, as one batch. */
  private flush = (): void => {
    this.flushing = null;
    if (this.closed) return;
    if (!this.worker) {
      if (Date.now() < this.brokenUntil || !this.start()) {
        this.handBack();
        return;
      }
    }
    let n = 0;
    let timed = false;
    for (let i = this.sent; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e.preset) continue;
      n++;
      if (!Number.isNaN(e.time)) timed = true;
    }
    const seqs = new Int32Array(n);
    const lengths = new Int32Array(n);
    const times = timed ? new Float64Array(n) : null;
    const lines: string[] = [];
    for (let i = this.sent, k = 0; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e.preset) continue;
      seqs[k] = e.seq;
      lengths[k] = e.tooLong ? -1 : e.line.length;
      if (times) times[k] = e.time;
      lines.push(e.line);
      k++;
    }
    this.sent = this.queue.length;
    if (n) {
      const batch: BatchMessage = { seqs, text: lines.join(''), lengths, times };
      this.worker!.postMessage(batch);
      this.busy();
    } else {
      this.handBack();
    }
  };

  /** Hands out, in order, the outcomes known at the head of the queue. */
  private handBack(): void {
    while (this.head < this.queue.length && this.queue[this.head].preset && !this.closed) this.finish(this.queue[this.head].preset!);
    this.compact();
    if (this.waiting === 0) this.idle();
  }

  private finish(outcome: LineOutcome): void {
    const e = this.queue[this.head];
    this.queue[this.head] = undefined as unknown as Entry; // let the line go
    this.head++;
    if (this.sent < this.head) this.sent = this.head;
    this.chars -= e.size;
    e.done(outcome);
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
    let first = true;
    const results = JSON.parse(m.results) as WireResult[];
    for (const r of results) {
      while (this.head < this.queue.length && this.queue[this.head].preset) this.finish(this.queue[this.head].preset!);
      if (this.closed || this.head >= this.sent) return results.length;
      const e = this.queue[this.head];
      if (first && e.seq !== m.first) {
        // Cannot happen while lines go and come back in order; say so rather than mismatch lines.
        this.crashed(`results out of step (line ${m.first} came back, line ${e.seq} was expected)`);
        return results.length;
      }
      first = false;
      this.crashes = 0;
      if (r === 0) this.finish(e.tooLong ? { kind: 'too-long', length: e.size } : { kind: 'matched', failures: [], ignored: false });
      else if (typeof r === 'string') this.finish({ kind: 'error', message: r });
      else {
        const failures: FailureMatch[] = [];
        for (let i = 1; i < r.length; i++) {
          const [host, time, user, fields, lines, failregex, users] = r[i] as WireFailure;
          const f: FailureMatch = { host, time, fields, failregex, lines: lines ?? [e.line] };
          if (user !== null) f.user = user;
          if (users !== null) f.users = users;
          failures.push(f);
        }
        this.finish({ kind: 'matched', failures, ignored: r[0] === 1 });
      }
    }
    this.handBack();
    return results.length;
  }

  /** Index in the queue of the line numbered `seq`, among those sent to the worker; -1 if none. */
  private indexOf(seq: number): number {
    if (seq === 0) return -1;
    for (let i = this.head; i < this.sent; i++) if (this.queue[i].seq === seq && !this.queue[i].preset) return i;
    return -1;
  }

  /**
   * Watchdog tick: the worker has been on the same line since an earlier tick for longer than the
   * limit: that line is skipped and the worker replaced. Time is taken in this thread, so a line is
   * stopped between timeoutMs and timeoutMs plus two ticks after it started.
   */
  private check = (): void => {
    if (!this.worker || this.closed) return;
    const seq = Atomics.load(this.progress, 0);
    const now = performance.now();
    if (seq !== this.watchSeq) {
      this.watchSeq = seq;
      this.watchSince = now;
      return;
    }
    const ms = Math.round(now - this.watchSince);
    if (seq === 0 || ms < this.timeoutMs) return;
    const index = this.indexOf(seq);
    if (index < 0) return;
    const e = this.queue[index];
    e.preset = { kind: 'timeout', ms };
    this.replace();
  };

  /** The worker crashed (or answered nonsense): the line it was on gets the error, the rest go to a new one. */
  private crashed(reason: string): void {
    if (this.closed) return;
    const message = `the matching thread stopped: ${reason}`;
    let index = this.indexOf(Atomics.load(this.progress, 0));
    if (index < 0) for (let i = this.head; i < this.sent && index < 0; i++) if (!this.queue[i].preset) index = i;
    if (index >= 0) this.queue[index].preset = { kind: 'error', message };
    if (++this.crashes >= MAX_CRASHES) {
      // Not the lines' fault, it seems (a thread that cannot start): stop trying for a while.
      this.pause(`${message} (${this.crashes} times in a row)`);
      return;
    }
    this.replace();
  }

  /** No worker for BROKEN_MS: the lines waiting, and those given meanwhile, get `reason` as their error. */
  private pause(reason: string): void {
    this.brokenUntil = Date.now() + BROKEN_MS;
    this.brokenReason = `${reason}; matching paused for ${BROKEN_MS / 1000} s`;
    this.crashes = 0;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].preset ??= { kind: 'error', message: this.brokenReason };
    this.drop();
    this.handBack();
  }

  /**
   * Terminates the worker and starts another, which is sent every waiting line that has no outcome
   * yet. The matcher's memory (the maxlines buffer, the last date format found, mlfid sessions) is lost
   * with the old worker; the new one starts afresh, as after a redeploy.
   */
  private replace(): void {
    this.drop();
    if (!this.start()) return;
    this.handBack();
    if (this.waiting > 0) this.flush();
  }

  private drop(): void {
    const w = this.worker;
    this.worker = null;
    // Its results not handed out yet are dropped too: those lines go to the next worker again.
    this.inbox = [];
    if (this.handing) clearImmediate(this.handing);
    this.handing = null;
    this.sent = this.head;
    this.stopWatchdog();
    if (w) void w.terminate();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.sent -= this.head;
      this.head = 0;
    }
  }

  /** Lines are out: watch them, and keep the process alive for their results. */
  private busy(): void {
    if (!this.watchdog) {
      this.watchSeq = 0;
      this.watchdog = setInterval(this.check, Math.min(50, Math.max(5, Math.floor(this.timeoutMs / 10))));
      this.watchdog.unref();
    }
    if (!this.referenced && this.worker) {
      this.worker.ref();
      this.referenced = true;
    }
  }

  /** Nothing out: an idle thread does not keep the process alive. */
  private idle(): void {
    this.stopWatchdog();
    if (this.referenced && this.worker) {
      this.worker.unref();
      this.referenced = false;
    }
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
