/**
 * The matcher: one compiled filter, a log line in, zero or more failures out — fail2ban's
 * processLine/findFailure: the date cut out of the line, a buffer of `maxlines` lines, `prefregex`
 * with `<F-CONTENT>`, the failregexes, ignoreregexes at fail2ban's two points, and `mlfid` sessions
 * (a failure spread over several lines of one connection).
 */
import { ipv4Value, parseAddress } from '../ip';
import { DateDetector } from './date';
import type { FilterDefinition } from './load';
import { copyValue, isAsciiText } from './pyregex';
import { F2bRegex, RegexError } from './regex';

/** A line split around its date: text before, the date text, text after. */
type TupleLine = [string, string, string];

type Fail = Record<string, unknown> & {
  matches?: TupleLine[];
  users?: Set<string>;
};

export interface FailureMatch {
  /** Failure id: canonical IP, or the raw <F-ID>/dns text. */
  host: string;
  /** Epoch ms. */
  time: number;
  user?: string;
  /** Every distinct user seen on an mlfid connection. */
  users?: string[];
  fields: Record<string, string>;
  /** Index of the failregex that matched. */
  failregex: number;
  /** The log lines that made the failure. */
  lines: string[];
}

export interface MatchResult {
  failures: FailureMatch[];
  /** An ignoreregex matched. */
  ignored: boolean;
  /** Index of the first ignoreregex that matched (set only when one did). */
  ignoreregex?: number;
  /** The line's time (epoch ms), or null when none could be found. */
  time: number | null;
  /**
   * The line was longer than `maxLineLength` and was refused whole: not matched, no failure. A cut line
   * must never be matched: the text left after the cut is whatever an attacker wrote there.
   */
  tooLong: boolean;
  /** A failregex matched but marked it no failure (<F-NOFAIL>, an mlfid session that succeeded). */
  nofail: boolean;
  /** Matches still waiting for the line that names the offender (mlfid sessions). */
  pending: number;
}

export interface MatcherOptions {
  /** Try every failregex on a line and report each failure (fail2ban-regex); else stop at the first. */
  checkAllRegex?: boolean;
  /** A line with no date takes the current time (a running jail); else it has no time (fail2ban-regex). */
  undatedIsNow?: boolean;
  /** Lines longer than this are refused whole (never cut and matched). */
  maxLineLength?: number;
  /**
   * The wall clock (epoch ms), read once a line for the date templates' and mlfid sessions' ages;
   * Date.now by default. A caller matching a whole file at once may give a cheaper, coarser one.
   */
  clock?: () => number;
  /**
   * Fill in each failure's `fields`, `lines` and `users` (true by default). A caller that only counts
   * failures per address (f2b-regex's summary) turns it off and is spared building them on every hit.
   */
  details?: boolean;
}

/**
 * Lines longer than this are refused whole: not matched at all, so a hostile line can neither make a
 * pattern spin for long nor, cut short, leave forged text where the daemon's own would have been.
 */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Lines kept per mlfid session (fail2ban keeps them all; a hostile connection could make millions). */
const MAX_SESSION_LINES = 1000;

/** Canonical text of an address (or the text itself), remembered: the same offenders come back. */
const canonicalMemo = new Map<string, string>();
function canonical(fid: string): string {
  let text = canonicalMemo.get(fid);
  if (text === undefined) {
    text = parseAddress(fid)?.text ?? fid;
    if (canonicalMemo.size >= 4096) canonicalMemo.clear();
    canonicalMemo.set(fid, text);
  }
  return text;
}

/** What failed() tells findFailure: a hit pushed, go on to the next failregex, or done with the line. */
const FOUND = 0;
const NEXT = 1;
const STOP = 2;

/** No hits: shared, never added to (a line with hits gets an array of its own). */
const NO_HITS: Hit[] = [];
const NO_LINES: TupleLine[] = [];

/** Groups that steer mlfid sessions, not fields of a failure. */
const STATE_KEYS = new Set(['nofail', 'mlfgained', 'mlfforget', 'mlfpending']);

/**
 * One shape for every failure record of a filter: an object with every key any of its patterns (or the
 * session bookkeeping) may set, made with all of them at once, undefined until set. A record of the
 * filter's third failregex then looks like one of its first to the engine, where a record grown key by
 * key took one shape per failregex, and every line read and wrote its keys through the engine's slowest
 * path (about half of what a failure cost, measured on fail2ban's sshd filter). A key that is undefined is
 * what an absent key was to every reader here (fields, the session merge), so nothing else changes but
 * the order of a failure's `fields`, which follows the filter's patterns rather than the one that matched.
 */
interface RecordShape {
  blank: () => Fail;
  /** The session merge: every key of `from` that is neither undefined nor null is set on `to`. */
  merge: (from: Fail, to: Fail) => void;
}

/** The record shape for a filter's patterns; null when a key cannot be written in an object literal. */
function recordShape(pref: F2bRegex | null, fail: F2bRegex[]): RecordShape | null {
  const keys = new Set<string>();
  if (pref) for (const k of [...pref.groupKeys(), 'content']) keys.add(k);
  for (const rx of fail) for (const k of rx.groupKeys()) keys.add(k);
  for (const k of [...STATE_KEYS, 'ip', 'matches', 'users', 'nofail-matches']) keys.add(k);
  // `__proto__: x` in a literal sets the prototype, not a key.
  if (keys.has('__proto__')) return null;
  const list = [...keys].map((k) => JSON.stringify(k));
  // Made only from group names the pattern parser accepted (identifiers), quoted with JSON.
  const blank = new Function(`return {${list.map((k) => `${k}: undefined`).join(', ')}};`) as () => Fail;
  const merge = new Function('from', 'to', `let v;\n${list.map((k) => `v = from[${k}]; if (v !== undefined && v !== null) to[${k}] = v;`).join('\n')}`) as (from: Fail, to: Fail) => void;
  return { blank, merge };
}

/** Adds a user to an mlfid session's set; returns the set. */
function updateUsers(f: Fail, user: unknown): Set<string> | undefined {
  if (typeof user === 'string' && user) {
    f.users ??= new Set();
    f.users.add(user);
  }
  return f.users;
}

const joinTuple = (t: TupleLine) => t[0] + t[2];
/** The whole line again, date included (t.join(''), which is slower). */
const wholeLine = (t: TupleLine) => t[0] + t[1] + t[2];
const bufferOf = (lines: TupleLine[]) => (lines.length === 1 ? lines[0][0] + lines[0][2] + '\n' : lines.map(joinTuple).join('\n') + '\n');

/** A failregex's match in a line: no failure, one waiting for its id (mlfid), or a failure. */
interface Hit {
  nofail: boolean;
  failure: FailureMatch | null;
  /** The session's lines and users when the failure was found (the same array and set: they may grow). */
  matches: TupleLine[] | undefined;
  users: Set<string> | undefined;
}

/** What one regex search found, with the lines it covered (fail2ban's Regex.search). */
interface Found {
  m: RegExpExecArray;
  matched: TupleLine[];
  unmatched: TupleLine[];
}

function search(rx: F2bRegex, buffer: string, lines: TupleLine[], ascii: boolean): Found | null {
  const m = rx.search(buffer, ascii);
  if (!m) return null;
  if (lines.length <= 1) return { m, matched: lines, unmatched: [] };
  const start = m.index;
  const end = m.index + m[0].length;
  const lineStart = buffer.lastIndexOf('\n', start) + 1;
  const from = end - 1 < 0 ? buffer.length - 1 : end - 1;
  const nl = buffer.indexOf('\n', from);
  const lineEnd = nl < 0 ? buffer.length : nl + 1;
  const count = (to: number) => {
    let n = 0;
    for (let i = buffer.indexOf('\n'); i >= 0 && i < to; i = buffer.indexOf('\n', i + 1)) n++;
    return n;
  };
  const c1 = count(lineStart);
  const c2 = count(lineEnd);
  const matched = lines.slice(c1, c2);
  const unmatched = lines.slice(0, c1);
  let n = 0;
  for (const skipped of rx.skippedLines(m)) {
    for (let k = n; k < matched.length; k++) {
      if (joinTuple(matched[k]) === skipped) {
        unmatched.push(...matched.splice(k, 1));
        n = k;
        break;
      }
    }
  }
  unmatched.push(...lines.slice(c2));
  return { m, matched, unmatched };
}

/** Appends a session's lines in place, keeping the last MAX_SESSION_LINES once there are twice as many. */
function appendLines(list: TupleLine[], lines: TupleLine[]): TupleLine[] {
  for (const t of lines) list.push(t);
  if (list.length > 2 * MAX_SESSION_LINES) list.splice(0, list.length - MAX_SESSION_LINES);
  return list;
}

/** fail2ban's small cache of mlfid sessions: at most 100, each for 5 minutes. */
class SessionCache {
  private readonly entries = new Map<string, { value: Fail; until: number }>();

  /** `now`: the wall clock (epoch ms). */
  get(key: string, now: number): Fail | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until > now) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: Fail, now: number): void {
    if (this.entries.size >= 100) {
      for (const [k, e] of this.entries) {
        this.entries.delete(k);
        if (e.until > now && this.entries.size < 100) break;
      }
    }
    const old = this.entries.get(key);
    if (old) old.value = value;
    else this.entries.set(key, { value, until: now + 300_000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export class Matcher {
  readonly definition: FilterDefinition;
  private readonly pref: F2bRegex | null;
  private readonly fail: F2bRegex[];
  private readonly ignore: F2bRegex[];
  /**
   * The failregexes' compiled patterns, for ASCII text and for any text, run here directly (the first
   * character was already asked of byFirst); the second compiled only once a line that is not ASCII
   * comes (it is much slower to compile).
   */
  private readonly failAscii: RegExp[];
  private failAny: RegExp[] | null = null;
  /**
   * For each ASCII character, the failregexes a buffer beginning with it may match, in order: most are
   * anchored, and a line is tried against two or three of them instead of all (asked of F2bRegex once).
   */
  private readonly byFirst: number[][] = [];
  private readonly contentCopies: number[];
  /** How a line's failure record is made and merged into its mlfid session (lines matched one at a time). */
  private readonly record: RecordShape | null;
  private readonly dates: DateDetector;
  private readonly maxlines: number;
  private readonly checkAll: boolean;
  private readonly undatedIsNow: boolean;
  readonly maxLineLength: number;
  private lineBuffer: TupleLine[] = [];
  private lastTimeText = '';
  private lastDate: number | null = null;
  private sessions: SessionCache | null = null;
  private ignoredNow = false;
  private ignoredBy: number | null = null;
  /** The wall clock when the line being matched came. */
  private wallClock = 0;
  private readonly clock: () => number;
  private readonly details: boolean;

  /** Compiles every pattern once; throws an error that names the pattern when one does not compile. */
  constructor(definition: FilterDefinition, options: MatcherOptions = {}) {
    this.definition = definition;
    this.maxlines = Math.max(1, definition.maxlines || 1);
    const multiline = this.maxlines > 1;
    const useDns = definition.usedns;
    // An error names where the pattern was written, when it came from a file.
    const where = <T>(pattern: string, key: string, make: () => T): T => {
      try {
        return make();
      } catch (err) {
        const at = definition.locate?.(pattern, key);
        throw new RegexError(at ? `${at}: ${(err as Error).message}` : (err as Error).message);
      }
    };
    const pref = definition.prefregex;
    this.pref = pref ? where(pref, 'prefregex', () => new F2bRegex(pref, { multiline, kind: 'prefregex', useDns })) : null;
    const prefHasId = !!this.pref?.hasFailureId();
    this.fail = definition.failregex.map((p) => where(p, 'failregex', () => new F2bRegex(p, { multiline, kind: 'failregex', useDns, requireId: true, prefHasId })));
    this.contentCopies = this.pref?.copiesOf('content') ?? [];
    this.record = multiline ? null : recordShape(this.pref, this.fail);
    this.failAscii = this.fail.map((rx) => rx.rx.asciiRe);
    for (let code = 0; code < 128; code++) this.byFirst.push(this.mayStart(code));
    this.ignore = definition.ignoreregex.map((p) => where(p, 'ignoreregex', () => new F2bRegex(p, { multiline, kind: 'ignoreregex', useDns })));
    this.dates = where(definition.datepattern ?? '', 'datepattern', () => new DateDetector(definition.datepattern));
    this.checkAll = !!options.checkAllRegex;
    this.undatedIsNow = options.undatedIsNow ?? true;
    this.maxLineLength = options.maxLineLength ?? MAX_LINE_LENGTH;
    this.clock = options.clock ?? Date.now;
    this.details = options.details ?? true;
  }

  /**
   * Matches one line. `time` (epoch ms), when given, is the line's time and no date is looked for.
   * `now` (epoch ms) is the current time, used to infer a missing year or day. `ascii`: true when the
   * caller knows the line has ASCII characters only (a whole file checked at once); else it is checked.
   */
  match(line: string, time?: number, now = Date.now(), ascii?: boolean): MatchResult {
    if (line.length > this.maxLineLength) return this.refuseLine();
    const nowSec = now / 1000;
    let tuple: TupleLine;
    let date: number | null = null;
    
    // A line of ASCII characters only (nearly every log line) is searched with the patterns' ASCII form.
    ascii ||= isAsciiText(line);
    // The wall clock, read once a line (the date templates' and the mlfid sessions' ages).
    this.wallClock = this.clock();
    if (time !== undefined && Number.isFinite(time)) {
      tuple = ['', '', line];
      date = time / 1000;
      this.lastDate = date;
    } else {
      const hit = this.dates.find(line, now, ascii, this.wallClock);
      if (hit) {
        const text = line.slice(hit.start, hit.end);
        tuple = [line.slice(0, hit.start), text, line.slice(hit.end)];
        if (text) {
          if (hit.time !== null) {
            date = hit.time / 1000;
            this.lastTimeText = text;
            this.lastDate = date;
          }
        } else if (this.lastDate !== null && this.lastDate > nowSec - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else date = nowSec;
      } else tuple = ['', '', line];
      if (date === null) {
                if (this.lastDate !== null && this.lastDate > nowSec - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else if (this.undatedIsNow) date = nowSec;
      }
    }
    this.ignoredNow = false;
    this.ignoredBy = null;
    const found = this.maxlines > 1 ? this.findFailure(tuple, date, ascii, now) : this.findInLine(tuple, date, ascii, now);
    const failures: FailureMatch[] = [];
    let nofail = false;
    let pending = 0;
    for (const hit of found) {
      if (hit.nofail) nofail = true;
      else if (hit.failure === null) pending++;
      else {
        // The lines and users as they are now, after the whole line: as fail2ban's (shallow) copy shows them.
        if (this.details) {
          hit.failure.users = hit.users ? [...hit.users] : undefined;
          hit.failure.lines = (hit.matches ?? []).map(wholeLine);
        }
        failures.push(hit.failure);
      }
    }
    const result: MatchResult = { failures, ignored: this.ignoredNow, time: date === null ? null : date * 1000, tooLong: false, nofail, pending };
    if (this.ignoredBy !== null) result.ignoreregex = this.ignoredBy;
    return result;
  }

  /**
   * A line over maxLineLength: no part of it is matched. With maxlines > 1 it still takes its place in
   * the buffer, as an empty line, so that the lines around it are never joined as if they were adjacent.
   */
  refuseLine(): MatchResult {
    if (this.maxlines > 1) {
      this.lineBuffer.push(['', '', '']);
      if (this.lineBuffer.length > this.maxlines) this.lineBuffer = this.lineBuffer.slice(-this.maxlines);
    }
    return { failures: [], ignored: false, time: null, tooLong: true, nofail: false, pending: 0 };
  }

  /**
   * What a failure is, read when it is found: a later failregex may merge into the same mlfid session
   * (fail2ban copies the merged failure for that). Its lines and users are read at the end of the line.
   */
  private hit(index: number, fid: string | null, when: number | null, fail: Fail, now: number): Hit {
    if (fail.nofail) return { nofail: true, failure: null, matches: undefined, users: undefined };
    if (fid === null) return { nofail: false, failure: null, matches: undefined, users: undefined };
    return { nofail: false, failure: this.toFailure(index, fid, when, fail, now), matches: fail.matches, users: fail.users };
  }

  /** The failure, without its `lines` and `users` (filled in by match()). */
  private toFailure(index: number, fid: string, when: number | null, fail: Fail, now: number): FailureMatch {
    const fields: Record<string, string> = {};
    if (this.details) {
      for (const k in fail) {
        const v = fail[k];
        if (typeof v === 'string' && !STATE_KEYS.has(k)) fields[k] = v;
      }
    }
    // A canonical dotted quad is its own text; anything else is parsed (IPv6, ::ffff:a.b.c.d, 010.1.1.1).
    const host = ipv4Value(fid) >= 0 ? fid : canonical(fid);
    return {
      host,
      time: when === null ? now : when * 1000,
      user: typeof fail.user === 'string' ? fail.user : undefined,
      users: undefined,
      fields,
      failregex: index,
      lines: [],
    };
  }

  /**
   * ignoreregex check; in multi-line mode only on the lines the failregex matched. `failed`: after a
   * failregex matched (what it matched, with several lines; true on a single line).
   */
  private ignoreLine(buf: string, lines: TupleLine[], ascii: boolean, failed?: Found | true): number | null {
    if (failed && failed !== true && this.maxlines > 1) {
      lines = failed.matched;
      buf = bufferOf(lines);
    }
    let hit: number | null = null;
    for (let i = 0; i < this.ignore.length; i++) {
      if (!this.ignore[i].search(buf, ascii)) continue;
      hit = i;
      this.ignoredNow = true;
      this.ignoredBy ??= i;
      if ((!this.checkAll || this.maxlines > 1) && failed && failed !== true) this.lineBuffer = failed.unmatched;
      if (!this.checkAll) break;
    }
    return hit;
  }

  private mergeFailure(mlfid: string, fail: Fail, matched: TupleLine[]): Fail {
    this.sessions ??= new SessionCache();
    const cached = this.sessions.get(mlfid, this.wallClock);
    let users: Set<string> | undefined;
    let flags = 0;
    if (fail.mlfgained) {
      flags |= 8 | 1;
      if (!fail.nofail) fail.nofail = fail.mlfgained;
    } else if (fail.nofail) flags |= 1;
    if (fail.mlfforget !== undefined) {
      if (fail.mlfforget) flags |= 2;
      fail.mlfforget = undefined;
    }
    if (cached) {
      users = updateUsers(cached, fail.user);
      if (cached.nofail !== undefined) {
        if (cached.nofail) flags |= 4;
        cached.nofail = undefined;
      }
      if (cached.mlfgained !== undefined) {
        if (cached.mlfgained) flags |= 4;
        cached.mlfgained = undefined;
      }
      if (flags & 8) cached.mlfpending = undefined;
      if ((flags & 4) === 0 && !cached.mlfpending) cached.matches = undefined;
      if (this.record) this.record.merge(fail, cached);
      else for (const k in fail) if (fail[k] !== undefined && fail[k] !== null) cached[k] = fail[k];
      fail = cached;
      if (flags & 2) this.sessions.delete(mlfid);
    } else if (!(flags & 2)) {
      users = updateUsers(fail, fail.user);
      this.sessions.set(mlfid, fail, this.wallClock);
    }
    const pending = fail.mlfpending;
    fail.mlfpending = undefined;
    if (pending || (users && users.size > 1)) {
      fail.nofail = undefined;
      fail.mlfgained = undefined;
      flags &= ~(8 | 1);
    }
    if ((flags & 1) === 0) {
      // Appended in place: a long session would otherwise copy its lines on every line.
      const earlier = fail['nofail-matches'] as TupleLine[] | undefined;
      fail['nofail-matches'] = undefined;
      const m = earlier ?? fail.matches ?? [];
      if (earlier && fail.matches) appendLines(m, fail.matches);
      if ((flags & 8) === 0) appendLines(m, matched);
      fail.matches = m;
    } else if ((flags & 3) === 1) {
      fail['nofail-matches'] = appendLines((fail['nofail-matches'] as TupleLine[] | undefined) ?? [], matched);
    }
    return fail;
  }

  /** `lineAscii`: the new line has ASCII characters only; every buffer made here is then ASCII when the first one is. */
  private findFailure(tuple: TupleLine, date: number | null, lineAscii: boolean, now: number): Hit[] {
    const list: Hit[] = [];
    let orgBuffer: TupleLine[];
    if (this.maxlines > 1) {
      this.lineBuffer.push(tuple);
      orgBuffer = this.lineBuffer = this.lineBuffer.slice(-this.maxlines);
    } else orgBuffer = this.lineBuffer = [tuple];
    let buf: string | null = bufferOf(orgBuffer);
    const ascii = this.maxlines > 1 ? isAsciiText(buf) : lineAscii;

    if (this.ignore.length && this.ignore.length < this.fail.length - 2) {
      if (this.ignoreLine(buf, orgBuffer, ascii) !== null) return list;
    }

    let preGroups: Record<string, string | undefined> = {};
    if (this.pref) {
      const found = search(this.pref, buf, orgBuffer, ascii);
      if (!found) return list;
      preGroups = this.pref.groups(found.m);
      const content = preGroups.content;
      preGroups.content = undefined;
      if (content) {
        this.lineBuffer = [['', '', content]];
        buf = null;
      }
    }

    // The first character of the buffer: most failregexes are anchored and cannot begin with it.
    let first = buf === null ? -1 : (buf.codePointAt(0) ?? -1);
    for (let index = 0; index < this.fail.length; index++) {
      const rx = this.fail[index];
      if (buf === null) {
        buf = bufferOf(this.lineBuffer);
        first = buf.codePointAt(0) ?? -1;
      }
      if (!rx.mayStartWith(first)) continue;
      const found = search(rx, buf, orgBuffer, ascii);
      if (!found) continue;
      // As dict.update: a group of the failregex that did not take part hides the prefregex's value.
      const into: Fail = {};
      for (const k in preGroups) into[k] = preGroups[k];
      let fail: Fail = rx.groups(found.m, into) as Fail;
      if (this.ignore.length && this.ignoreLine(buf, orgBuffer, ascii, found) !== null) {
        buf = null;
        if (!this.checkAll) break;
        continue;
      }
      if (!this.checkAll || this.maxlines > 1) {
        this.lineBuffer = found.unmatched;
        buf = null;
      }
      const step = this.failed(index, fail, found.matched, date, now, list);
      if (step === STOP) return list;
      if (step === NEXT) continue;
      if (!this.checkAll) break;
    }
    return list;
  }

  /**
   * What a failregex's match makes of its groups (the rest of fail2ban's findFailure for one failregex):
   * the mlfid session it joins, whom it names, and the hit pushed on `list`. STOP: the line is done
   * with; NEXT: nothing was found to name, try the next failregex; FOUND: a hit was pushed.
   */
  private failed(index: number, fail: Fail, matched: TupleLine[], date: number | null, now: number, list: Hit[]): number {
    const mlfid = typeof fail.mlfid === 'string' ? fail.mlfid : undefined;
    if (mlfid !== undefined) {
      fail = this.mergeFailure(mlfid, fail, matched);
      if (fail.nofail && !this.checkAll) return STOP;
    } else {
      fail.matches = fail.matches === undefined ? matched.slice() : [...fail.matches, ...matched];
    }
    let fid = typeof fail.fid === 'string' ? fail.fid : null;
    let ip: string | null =
      typeof fail.ip4 === 'string' ? fail.ip4 : typeof fail.ip6 === 'string' ? fail.ip6 : typeof fail.dns === 'string' ? fail.dns : null;
    // A failregex with no id and no mlfid found nothing to name: fail2ban logs it and goes on.
    if (ip === null && fid === null && mlfid === undefined) return NEXT;
    if (ip === null) ip = fid;
    if (ip === null) {
      fail.mlfpending = 1;
      if (!this.checkAll) return STOP;
    } else if (fid === null || fid === ip) fid = ip;
    else fail.ip = ip;
    list.push(this.hit(index, fid, date, fail, now));
    return FOUND;
  }

  /** The failregexes (indexes, in order) a buffer whose first code point is `code` may match (-1: empty). */
  private candidates(code: number): number[] {
    return code >= 0 && code < 128 ? this.byFirst[code] : this.mayStart(code);
  }

  private mayStart(code: number): number[] {
    const list: number[] = [];
    for (let i = 0; i < this.fail.length; i++) if (this.fail[i].mayStartWith(code)) list.push(i);
    return list;
  }

  /**
   * findFailure for a filter of one line at a time (maxlines 1, nearly every filter), the same steps
   * without what only a buffer of several lines needs: the buffer is the line, a match covers all of it,
   * and no line is left over for the next. Each failregex reads the prefregex's groups from its match
   * again rather than a copy of them.
   */
  private findInLine(tuple: TupleLine, date: number | null, ascii: boolean, now: number): Hit[] {
    let buf = tuple[0] + tuple[2] + '\n';
    if (this.ignore.length && this.ignore.length < this.fail.length - 2) {
      if (this.ignoreLine(buf, NO_LINES, ascii) !== null) return NO_HITS;
    }
    const pref = this.pref;
    let pm: RegExpExecArray | null = null;
    if (pref) {
      pm = pref.search(buf, ascii);
      if (!pm) return NO_HITS;
      const content = copyValue(pm, this.contentCopies);
      if (content) buf = content + '\n';
    }
    let list: Hit[] = NO_HITS;
    let matched: TupleLine[] | null = null;
    // Reading a character of the joined text also flattens it, in a cheap call: handed to a pattern
    // unflattened, it would take the engine's slow path on every pattern (measured: 4% more in all).
    const candidates = this.candidates(buf.codePointAt(0) ?? -1);
    const patterns = ascii ? this.failAscii : (this.failAny ??= this.fail.map((rx) => rx.rx.re));
    for (let c = 0; c < candidates.length; c++) {
      const index = candidates[c];
      const rx = this.fail[index];
      if (rx.lacksRequiredText(buf)) continue;
      const m = patterns[index].exec(buf);
      if (!m) continue;
      // As dict.update: a group of the failregex that did not take part hides the prefregex's value.
      const fail = this.record ? this.record.blank() : {};
      if (pm) {
        pref!.groups(pm, fail);
        fail.content = undefined;
      }
      rx.groups(m, fail);
      if (this.ignore.length && this.ignoreLine(buf, NO_LINES, ascii, true) !== null) {
        if (!this.checkAll) break;
        continue;
      }
      if (list === NO_HITS) list = [];
      matched ??= [tuple];
      const step = this.failed(index, fail, matched, date, now, list);
      if (step === STOP) return list;
      if (step === NEXT) continue;
      if (!this.checkAll) break;
    }
    return list;
  }
}
