/** The matcher: one compiled filter, a log line in, zero or more failures out. */
import { parseAddress } from '../ip';
import { DateDetector } from './date';
import type { FilterDefinition } from './load';
import { compile, expandRegex, type ExpandedRegex } from './regex';

export interface FailureMatch {
  /** Failure id: canonical IP, or the raw <F-ID>/dns text. */
  host: string;
  /** Epoch ms. */
  time: number;
  user?: string;
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
  /** The line's time (epoch ms), or null when none could be found. */
  time: number | null;
}

interface CompiledRegex extends ExpandedRegex {
  re: RegExp;
  original: string;
}

/** Lines longer than this are cut before matching, so a hostile line cannot make a pattern spin for long. */
export const MAX_LINE_LENGTH = 16 * 1024;

function compileAll(patterns: string[], requireHost: boolean, flags: string, kind: string): CompiledRegex[] {
  return patterns.map((original) => {
    const expanded = expandRegex(original, { requireHost });
    return { ...expanded, original, re: compile(expanded.source, original, flags, kind) };
  });
}

/** Reads the named groups of a match under fail2ban's names, merging renamed duplicates and alt_ groups. */
function fieldsOf(rx: CompiledRegex, groups: Record<string, string | undefined> | undefined, into: Record<string, string>): void {
  if (!groups) return;
  for (const [js, value] of Object.entries(groups)) {
    if (value === undefined) continue;
    const field = rx.groups.get(js) ?? js;
    if (into[field] === undefined || into[field] === '') into[field] = value;
  }
  for (const key of Object.keys(into)) {
    const alt = /^alt_(.+?)\d*$/.exec(key);
    if (alt && (into[alt[1]] === undefined || into[alt[1]] === '')) into[alt[1]] = into[key];
  }
}

export class Matcher {
  readonly definition: FilterDefinition;
  private readonly pref: CompiledRegex | null;
  private readonly fail: CompiledRegex[];
  private readonly ignore: CompiledRegex[];
  private readonly dates: DateDetector;
  /** The last `maxlines` lines with their date cut out, and as they were read. */
  private readonly buffer: string[] = [];
  private readonly rawBuffer: string[] = [];
  private lastTime: number | null = null;

  /** Compiles every pattern once; throws an error that names the pattern when one does not compile. */
  constructor(definition: FilterDefinition) {
    this.definition = definition;
    const flags = definition.maxlines > 1 ? 'm' : '';
    this.pref = definition.prefregex ? compileAll([definition.prefregex], false, flags, 'prefregex')[0] : null;
    this.fail = compileAll(definition.failregex, true, flags, 'failregex');
    this.ignore = compileAll(definition.ignoreregex, false, flags, 'ignoreregex');
    this.dates = new DateDetector(definition.datepattern);
  }

  /**
   * Matches one line. `time` (epoch ms), when given, is the line's time and no date is looked for.
   * `now` is the current time used to infer a missing year.
   */
  match(rawLine: string, time?: number, now = Date.now()): MatchResult {
    const line = rawLine.length > MAX_LINE_LENGTH ? rawLine.slice(0, MAX_LINE_LENGTH) : rawLine;
    let text = line;
    let lineTime: number | null = null;
    if (time !== undefined && Number.isFinite(time)) {
      lineTime = time;
    } else if (this.dates.none) {
      lineTime = now;
    } else {
      const hit = this.dates.detect(line, now);
      if (hit) {
        text = line.slice(0, hit.start) + line.slice(hit.end);
        lineTime = hit.time;
        this.lastTime = hit.time;
      } else {
        // fail2ban uses the last date it saw for an undated line, if it is recent; else the current time.
        lineTime = this.lastTime !== null && Math.abs(now - this.lastTime) <= 60_000 ? this.lastTime : now;
      }
    }

    this.buffer.push(text);
    this.rawBuffer.push(line);
    if (this.buffer.length > this.definition.maxlines) {
      this.buffer.shift();
      this.rawBuffer.shift();
    }
    const bufferText = this.buffer.join('\n');

    const result: MatchResult = { failures: [], ignored: false, time: lineTime };
    const prefFields: Record<string, string> = {};
    let content = bufferText;
    if (this.pref) {
      const m = this.pref.re.exec(bufferText);
      if (!m) return result;
      fieldsOf(this.pref, m.groups, prefFields);
      if (prefFields.content !== undefined) content = prefFields.content;
      delete prefFields.content;
    }

    for (let i = 0; i < this.fail.length; i++) {
      const rx = this.fail[i];
      const m = rx.re.exec(content);
      if (!m) continue;
      if (this.ignore.some((ig) => ig.re.test(content))) {
        result.ignored = true;
        return result;
      }
      const fields: Record<string, string> = { ...prefFields };
      fieldsOf(rx, m.groups, fields);
      if (fields.nofail !== undefined) continue;
      const host = hostOf(fields);
      if (host === null) continue;
      result.failures.push({
        host,
        time: lineTime ?? now,
        user: fields.user,
        fields,
        failregex: i,
        lines: [...this.rawBuffer],
      });
      // The lines of a multi-line failure leave the buffer, as in fail2ban.
      this.buffer.length = 0;
      this.rawBuffer.length = 0;
      break;
    }
    return result;
  }
}

/** The failure id: <F-ID> text, else the address (canonical form), else the host name. */
function hostOf(fields: Record<string, string>): string | null {
  if (fields.fid) return fields.fid;
  for (const key of ['ip4', 'ip6']) {
    if (fields[key]) {
      const addr = parseAddress(fields[key]);
      return addr ? addr.text : fields[key];
    }
  }
  if (fields.dns) {
    const addr = parseAddress(fields.dns);
    return addr ? addr.text : fields.dns;
  }
  return null;
}
