/**
 * fail2ban's date detection: a list of date templates (its defaults, or a filter's `datepattern`),
 * tried in an order that follows which template found the last dates, so a log's own format is found
 * first; the date text is cut out of the line before the failregexes see it.
 *
 * Templates are written in Python regex syntax with strftime-like `%` fields, as in fail2ban, and
 * compiled with the Python-to-JavaScript translator, so a user's `datepattern` means what it meant.
 */
import { copyValue, groupValue, isAsciiText, parsePython, type ParsedPython, type PyRegex } from './pyregex';

// ---------------------------------------------------------------- the `%` fields

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

const byLength = (names: string[]) => [...names].sort((a, b) => b.length - a.length).join('|');

/** Centuries-and-decades a 4-digit year may start with: from 2000 to three years ahead. */
function yearPrefix(now: Date): string {
  const decades = new Set<string>();
  for (let y = 1999; y <= now.getFullYear() + 3; y++) if (y >= 2000) decades.add(String(y).slice(0, 3));
  const list = [...decades].sort();
  const last = list.map((d) => d[2]);
  if (list.every((d) => d.slice(0, 2) === '20')) return last.length > 1 ? `20[${last.join('')}]` : `20${last[0]}`;
  return `(?:${list.join('|')})`;
}

const TZ_ABBR = '[A-Z](?:[A-Z]{2,4})?';

/** The regex each field stands for (Python syntax). */
const FIELDS: Record<string, string> = {
  a: `(?P<a>${byLength(DAYS)})`,
  A: `(?P<A>${byLength(DAY_NAMES)})`,
  b: `(?P<b>${byLength(MONTHS)})`,
  B: `(?P<B>${byLength(MONTH_NAMES)})`,
  c: '',
  d: '(?P<d>[1-2]\\d|[0 ]?[1-9]|3[0-1])',
  f: '(?P<f>[0-9]{1,6})',
  H: '(?P<H>[0-1]?\\d|2[0-3])',
  I: '(?P<I>1[0-2]|0[1-9]|[1-9])',
  j: '(?P<j>36[0-6]|3[0-5]\\d|[12]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])',
  m: '(?P<m>0?[1-9]|1[0-2])',
  M: '(?P<M>[0-5]?\\d)',
  p: '(?P<p>am|pm)',
  S: '(?P<S>[0-5]?\\d|6[0-1])',
  U: '(?P<U>5[0-3]|[0-4]\\d|\\d)',
  w: '(?P<w>[0-6])',
  u: '(?P<u>[1-7])',
  W: '(?P<W>5[0-3]|[0-4]\\d|\\d)',
  y: '(?P<y>\\d\\d)',
  Y: '(?P<Y>\\d{4})',
  z: '(?P<z>Z|UTC|GMT|[+-][01]\\d(?::?\\d{2})?)',
  Z: '(?P<Z>Z|[A-Z]{3,5})',
  k: ' ?(?P<H>[0-2]?\\d)',
  l: ' ?(?P<I>1?\\d)',
  '%': '%',
  ExY: '', // filled by the current year, below
  Exy: '(?P<y>\\d{2})',
  ExZ: `(?P<Z>${TZ_ABBR})`,
  Exz: `(?P<z>(?:${TZ_ABBR})?[+-][01]\\d(?::?\\d{2})?|${TZ_ABBR})`,
  Exd: '(?P<d>[1-2]\\d|0[1-9]|3[0-1])',
  Exm: '(?P<m>0[1-9]|1[0-2])',
  ExH: '(?P<H>[0-1]\\d|2[0-3])',
  Exk: ' ?(?P<H>[0-1]?\\d|2[0-3])',
  Exl: ' ?(?P<I>1[0-2]|\\d)',
  ExM: '(?P<M>[0-5]\\d)',
  ExS: '(?P<S>[0-5]\\d|6[0-1])',
};
FIELDS.ExY = `(?P<Y>${yearPrefix(new Date())}\\d)`;
FIELDS.c = `${FIELDS.a}\\s+${FIELDS.b}\\s+${FIELDS.d}\\s+${FIELDS.H}:${FIELDS.M}:${FIELDS.S}\\s+${FIELDS.Y}`;

/** How a field is named in a template's name (what fail2ban-regex prints). */
const FIELD_NAMES: Record<string, string> = {
  a: 'DAY', A: 'DAYNAME', b: 'MON', B: 'MONTH', d: 'Day', H: '24hour', I: '12hour', j: 'Yearday', m: 'Month',
  M: 'Minute', p: 'AMPM', S: 'Second', U: 'Yearweek', w: 'Weekday', W: 'Yearweek', y: 'Year2', Y: 'Year', '%': '%',
  z: 'Zone offset', f: 'Microseconds', Z: 'Zone name',
};

const FIELD_RE = new RegExp(
  `%(%|${Object.keys(FIELDS).filter((k) => k.length > 1).join('|')}|[${Object.keys(FIELDS).filter((k) => k.length === 1 && k !== '%').join('')}])`,
  'g',
);

function fieldName(key: string): string {
  if (FIELD_NAMES[key]) return FIELD_NAMES[key];
  if (key.startsWith('Ex') && FIELD_NAMES[key.slice(2)]) return 'Ex' + FIELD_NAMES[key.slice(2)];
  return '%' + key;
}

// ---------------------------------------------------------------- time zones

/** Zone abbreviations fail2ban knows, as offsets in minutes east of UTC (fixed, no DST switch). */
const ZONES: Record<string, number> = { '': 0 };
(() => {
  const table: [number, string][] = [
    [-12, 'Y'], [-11, 'X NUT SST'], [-10, 'W CKT HAST HST TAHT TKT'], [-9, 'V AKST GAMT GIT HADT HNY'],
    [-8, 'U AKDT CIST HAY HNP PST PT'], [-7, 'T HAP HNR MST PDT'], [-6, 'S CST EAST GALT HAR HNC MDT'],
    [-5, 'R CDT COT EASST ECT EST ET HAC HNE PET'], [-4, 'Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT'],
    [-3, 'P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT'], [-2, 'O BRST FNT PMDT UYST WGST'],
    [-1, 'N AZOT CVT EGT'], [0, 'Z EGST GMT UTC WET WT'], [1, 'A CET DFT WAT WEDT WEST'],
    [2, 'B CAT CEDT CEST EET SAST WAST'], [3, 'C EAT EEDT EEST IDT MSK'], [4, 'D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT'],
    [5, 'E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT'], [6, 'F ALMT BIOT BTT IOT KGT NOVT OMST YEKST'],
    [7, 'G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB'], [8, 'H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST'],
    [9, 'I AWDT IRKST JST KST PWT TLT WDT WIT YAKT'], [10, 'K AEST ChST PGT VLAT YAKST YAPT'],
    [11, 'L AEDT LHDT MAGT NCT PONT SBT VLAST VUT'], [12, 'M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT'],
    [13, 'FJST NZDT'], [11.5, 'NFT'], [10.5, 'ACDT LHST'], [9.5, 'ACST'], [6.5, 'CCT MMT'], [5.75, 'NPT'], [5.5, 'SLT'],
    [4.5, 'AFT IRDT'], [3.5, 'IRST'], [-2.5, 'HAT NDT'], [-3.5, 'HNT NST NT'], [-4.5, 'HLV VET'], [-9.5, 'MART MIT'],
  ];
  for (const [hours, names] of table) for (const n of names.split(' ')) ZONES[n] = Math.trunc(hours * 60);
})();

/** Minutes east of UTC for "CET", "+0200", "UTC+01:00", ...; undefined when unknown. */
export function zoneOffset(text: string): number | undefined {
  const m = new RegExp(`^(${TZ_ABBR})?([+-][01]\\d(?::?\\d{2})?)?$`).exec(text);
  if (!m) return undefined;
  const base = ZONES[m[1] ?? ''];
  if (base === undefined) return undefined;
  const off = m[2];
  if (!off) return base;
  const sign = off[0] === '-' ? -1 : 1;
  if (off.length <= 3) return base + Number(off);
  const mm = off[3] === ':' ? off.slice(4, 6) : off.slice(3, 5);
  return base + sign * (Number(off.slice(1, 3)) * 60 + Number(mm));
}

// ---------------------------------------------------------------- templates

const LINE_BEGIN = 8;
const LINE_END = 4;
const WORD_BEGIN = 2;
const WORD_END = 1;

// Tests on the template's own regex text, to know how it is anchored.
const HAS_PLAIN_GROUP = /(?<!\(\?)(?<!\\)\((?!\?)/;
const WRAP_GROUP = /^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$/s;
const GLOBAL_FLAGS = /((?:^|(?!<\\))\(\?[a-z]+\))/;
const UNBOUND = /^\{UNB\}/;
const LINE_BEGIN_TAG = /^\{\^LN-BEG\}/;
const START_ANCHOR = /^\((?:\?:)?\^\|\\b\|\\W\)/;
const END_ANCHOR = /\(\?=\\b\|\\W\|\$\)$/;
const NO_WORD_BOUND_BEGIN = /^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)/;
const NO_WORD_BOUND_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const WORD_BOUND_MARKS = /^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$/g;
const BEGINS_AT_LINE = /^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))/;
const ENDS_AT_LINE = /(?<![\\|])(?:\$\)?)$/;
const ALPHA_FIELD = /(?<!%)%[aAbBpc]/;
const EPOCH_FIELD = /(?<!\\)\{L?EPOCH\}/i;

abstract class DateTemplate {
  name = '';
  weight = 1.0;
  flags = 0;
  /** Matches of this template, in any detector (fail2ban keeps this on the shared template). */
  hits = 0;
  regex = '';
  /**
   * Span of the date text (group 1) of the last match matchDate returned: kept here rather than in a
   * fresh object per line, which the detector read for every line of a log. Read it before the next call.
   */
  start = 0;
  end = 0;
  /** The date text (group 1) ends where the match ends: its span needs no `d` flag, which is slow. */
  protected dateEndsMatch = false;
  private parsed: ParsedPython | null = null;
  /**
   * The pattern with the date text (group 1) as its only group, which finds the date in every line: a
   * match of the whole pattern builds a string per field and cost three times as much. The fields are
   * read (with the whole pattern, at the same place) only from a date text not seen before, and the
   * whole pattern is compiled then: most templates tried never find a date.
   */
  private lean: PyRegex | null = null;
  private whole: PyRegex | null = null;
  /** The lean pattern for ASCII-only lines, and its JS groups of Python group 1 (set by compile()). */
  private asciiRe: RegExp | null = null;
  private dateGroups: number[] = [];

  /** Sets the regex, adding fail2ban's word or line boundaries unless the pattern opts out with `**` or `^`. */
  protected setRegex(source: string, wordBegin: boolean | 'start' = true, wordEnd = true): void {
    let regex = source.trim();
    const gf = GLOBAL_FLAGS.exec(regex);
    if (gf) regex = regex.replace(GLOBAL_FLAGS, '');
    const boundBegin = wordBegin && !NO_WORD_BOUND_BEGIN.test(regex);
    const boundEnd = wordEnd && !NO_WORD_BOUND_END.test(regex);
    if (!HAS_PLAIN_GROUP.test(regex)) {
      regex = regex.replace(WRAP_GROUP, '$1($2)$3');
      this.dateEndsMatch = true;
    }
    this.flags = 0;
    if (boundBegin) {
      this.flags |= wordBegin !== 'start' ? WORD_BEGIN : LINE_BEGIN;
      if (wordBegin !== 'start') regex = '(?=^|\\b|\\W)' + regex;
      else {
        regex = '^(?:\\W{0,2})?' + regex;
        if (!this.name.startsWith('{^LN-BEG}')) this.name = '{^LN-BEG}' + this.name;
      }
    }
    if (boundEnd) {
      this.flags |= WORD_END;
      regex += '(?=\\b|\\W|$)';
    }
    if (!(this.flags & LINE_BEGIN) && BEGINS_AT_LINE.test(regex)) this.flags |= LINE_BEGIN;
    if (!(this.flags & LINE_END) && ENDS_AT_LINE.test(regex)) this.flags |= LINE_END;
    regex = regex.replace(WORD_BOUND_MARKS, (m) => m.replace(/\*\*/g, ''));
    if (gf) regex = gf[1] + regex;
    this.regex = regex;
    this.parsed = this.lean = this.whole = null;
    this.asciiRe = null;
  }

  /**
   * Compiles the regex (done on first use for the defaults, at once for a filter's own datepattern,
   * whose errors it reports); returns the lean pattern.
   */
  compile(): PyRegex {
    if (!this.lean) {
      try {
        this.parsed = parsePython(this.regex, { indices: !this.dateEndsMatch, global: true });
        this.lean = this.parsed.compile([1]);
      } catch (err) {
        throw new Error(`datepattern "${this.name}": ${(err as Error).message}`);
      }
      this.asciiRe = this.lean.asciiRe;
      this.dateGroups = this.lean.copies.get(1) ?? [];
    }
    return this.lean;
  }

  /** The whole pattern, every group captured (the lean one checked it: it cannot fail to compile). */
  protected wholePattern(): PyRegex {
    if (!this.whole) {
      this.compile();
      this.whole = this.parsed!.compile();
    }
    return this.whole;
  }

  /**
   * Python's search(line, pos, endpos): the match, with the span of its date text left in `start` and
   * `end`; counts the hit. `ascii`: the line has ASCII characters only. The match has group 1 only:
   * fullMatch() has the others.
   */
  matchDate(line: string, pos = 0, endpos = line.length, ascii = isAsciiText(line)): RegExpExecArray | null {
    // Called for every line of a log: the compiled pattern is held in fields, not looked up again.
    const re = ascii ? (this.asciiRe ?? (this.compile(), this.asciiRe!)) : this.compile().re;
    re.lastIndex = pos;
    const m = re.exec(endpos < line.length ? line.slice(0, endpos) : line);
    if (m === null) return null;
    this.hits++;
    // Group 1 is the date text, as in fail2ban's templates.
    const end = m.index + m[0].length;
    if (this.dateEndsMatch) {
      const text = copyValue(m, this.dateGroups);
      this.start = text === undefined ? end : end - text.length;
      this.end = end;
      return m;
    }
    const indices = (m as RegExpExecArray & { indices?: ([number, number] | undefined)[] }).indices;
    const groups = this.dateGroups;
    for (let i = 0; i < groups.length; i++) {
      const span = indices?.[groups[i]];
      if (span) {
        this.start = span[0];
        this.end = span[1];
        return m;
      }
    }
    this.start = this.end = m.index;
    return m;
  }

  /**
   * The match of the whole pattern, every group captured, where matchDate found `m` (the same match:
   * the two patterns differ only in what they capture); `ascii` as given to matchDate.
   */
  protected fullMatch(m: RegExpExecArray, ascii: boolean): RegExpExecArray | null {
    const rx = this.wholePattern();
    const re = ascii ? rx.asciiRe : rx.re;
    re.lastIndex = m.index;
    const full = re.exec(m.input);
    return full !== null && full.index === m.index ? full : null;
  }

  protected group(m: RegExpExecArray, index: number, ascii: boolean): string | undefined {
    const full = this.fullMatch(m, ascii);
    return full !== null ? groupValue(this.wholePattern(), full, index) : undefined;
  }

  /** Epoch seconds, or null when the text does not make a date. `m`, `ascii`: as matchDate's. */
  abstract getDate(m: RegExpExecArray, now: number, ascii: boolean): number | null;
}

class DateEpoch extends DateTemplate {
  private readonly long: boolean;
  private readonly grp: number;

  constructor(opts: { lineBeginOnly?: boolean; pattern?: string; long?: boolean }) {
    super();
    this.long = !!opts.long;
    this.name = opts.pattern ?? (this.long ? 'LongEpoch' : 'Epoch');
    const epoch = this.long ? '\\d{10,11}(?:\\d{3}(?:\\.\\d{1,6}|\\d{3})?)?' : '\\d{10,11}\\b(?:\\.\\d{3,6})?';
    this.grp = 1;
    if (opts.pattern) {
      this.grp = 2;
      this.setRegex('(' + opts.pattern.replace(new RegExp(EPOCH_FIELD.source, 'gi'), () => `(${epoch})`) + ')');
    } else if (!opts.lineBeginOnly) {
      this.dateEndsMatch = true;
      // At the line start, inside [...] at the line start, or in an audit(...) record.
      this.setRegex(
        `((?:^|(?P<square>(?<=^\\[))|(?P<selinux>(?<=\\baudit\\()))${epoch})(?:(?(selinux)(?=:\\d+\\)))|(?(square)(?=\\])))`,
        false,
      );
    } else {
      this.setRegex(`((?P<square>(?<=^\\[))?${epoch})(?(square)(?=\\]))`, 'start', true);
      this.dateEndsMatch = true;
    }
  }

  getDate(m: RegExpExecArray, _now: number, ascii: boolean): number | null {
    const v = this.group(m, this.grp, ascii);
    if (v === undefined) return null;
    let n = Number(v);
    if (this.long && v.length >= 13) n = v.length >= 16 && !v.includes('.') ? n / 1e6 : n / 1e3;
    return Number.isFinite(n) ? n : null;
  }
}

class DateTai64n extends DateTemplate {
  constructor(wordBegin: boolean | 'start') {
    super();
    this.name = 'TAI64N';
    this.setRegex('@[0-9a-f]{24}', wordBegin);
  }

  getDate(m: RegExpExecArray, _now: number, ascii: boolean): number | null {
    const v = this.group(m, 1, ascii);
    return v ? parseInt(v.slice(2, 17), 16) : null;
  }
}

class DatePatternRegex extends DateTemplate {
  readonly pattern: string;

  constructor(pattern: string) {
    super();
    this.pattern = pattern;
    let p = pattern;
    let wordBegin: boolean | 'start' = true;
    let wordEnd = true;
    if (UNBOUND.test(p)) {
      p = p.replace(UNBOUND, '');
      wordBegin = wordEnd = false;
    }
    if (wordBegin && LINE_BEGIN_TAG.test(p)) {
      p = p.replace(LINE_BEGIN_TAG, '');
      wordBegin = 'start';
    }
    const parts = p.split(FIELD_RE);
    // split() with one capture: even indexes are text, odd are field keys.
    let regex = '';
    let name = '';
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 0) {
        if (/%/.test(parts[i])) throw new Error(`datepattern "${pattern}": unknown or unescaped % field in "${parts[i]}"`);
        regex += parts[i];
        name += parts[i];
      } else {
        regex += FIELDS[parts[i]];
        name += fieldName(parts[i]);
      }
    }
    this.name = name;
    if (ALPHA_FIELD.test(p)) regex = '(?iu)' + regex;
    this.setRegex(regex, wordBegin, wordEnd);
  }

  /**
   * Date texts read for one `now` and their times: consecutive lines often share the same second, and
   * a file read at once (f2b-regex) has every line share one now. A dictionary object rather than a
   * Map: a date text is a fresh slice of its line, which a Map hashes and compares in V8's runtime, at
   * about twice the cost of the object's look-up of the interned key (measured on 200,000 lines).
   */
  private memo: Record<string, number | null> = Object.create(null);
  private memoSize = 0;
  private memoNow = NaN;
  /**
   * The last date text read, its length, last character and time: the next line's date is often the
   * same text, which the length and the last character (the seconds) mostly tell apart without a
   * comparison of the strings (itself done in the runtime for slices).
   */
  private lastText = '';
  private lastLength = -1;
  private lastCode = -1;
  private lastTime: number | null = null;

  /** The fields strptime reads, in the pattern's order, each with the JS groups of its copies; and %p's. */
  private plan: { keys: string[]; copies: number[][]; ampm: number[] } | null = null;

  getDate(m: RegExpExecArray, now: number, ascii: boolean): number | null {
    const text = m[0];
    const length = text.length;
    const code = length ? text.charCodeAt(length - 1) : -1;
    if (this.memoNow !== now) {
      this.memo = Object.create(null);
      this.memoSize = 0;
      this.memoNow = now;
      this.lastLength = -1;
    } else if (length === this.lastLength && code === this.lastCode && text === this.lastText) return this.lastTime;
    let known = this.memo[text];
    if (known === undefined) known = this.read(m, now, ascii);
    this.lastText = text;
    this.lastLength = length;
    this.lastCode = code;
    this.lastTime = known;
    return known;
  }

  /** Reads a date text not seen before (for this now), and remembers it. */
  private read(lean: RegExpExecArray, now: number, ascii: boolean): number | null {
    const text = lean[0];
    const m = this.fullMatch(lean, ascii);
    if (m === null) return null;
    const plan = (this.plan ??= this.makePlan());
    const p = clearParts();
    const ampm = plan.ampm.length ? copyValue(m, plan.ampm) : undefined;
    let time: number | null = null;
    for (let i = 0; i < plan.keys.length; i++) {
      const v = copyValue(m, plan.copies[i]);
      if (v === undefined) continue;
      readField(p, plan.keys[i], v, ampm);
      if (p.bad) break;
    }
    if (!p.bad) time = partsToTime(p, now);
    if (this.memoSize++ >= 1024) {
      this.memo = Object.create(null);
      this.memoSize = 1;
    }
    this.memo[text] = time;
    return time;
  }

  private makePlan(): { keys: string[]; copies: number[][]; ampm: number[] } {
    const rx = this.wholePattern();
    const keys: string[] = [];
    const copies: number[][] = [];
    for (const [name, index] of rx.names) {
      if (!READ_FIELDS.has(name)) continue;
      keys.push(name);
      copies.push(rx.copies.get(index) ?? []);
    }
    const p = rx.names.get('p');
    return { keys, copies, ampm: p === undefined ? [] : (rx.copies.get(p) ?? []) };
  }
}

/**
 * Local wall-clock time of an epoch (ms), as a "naive" UTC-based number to compare with others, and as a
 * Date to read its parts with getUTC*(); remembered, since every line of a run asks about the same now.
 */
let naiveMemo: { epochMs: number; naive: number; date: Date } = { epochMs: NaN, naive: NaN, date: new Date(0) };
function naiveNow(epochMs: number): { naive: number; date: Date } {
  if (naiveMemo.epochMs !== epochMs) {
    const d = new Date(epochMs);
    const naive = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds());
    naiveMemo = { epochMs, naive, date: new Date(naive) };
  }
  return naiveMemo;
}

/** Epoch (ms) of a naive local time, as time.mktime does. */
function localToEpoch(n: number): number {
  // The zone's offset is looked up once per local quarter hour (zones change offset on those).
  const key = Math.floor(n / 900_000);
  let offset = offsetMemo.get(key);
  if (offset === undefined) {
    const d = new Date(n);
    offset = new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()).getTime() - Math.floor(n / 1000) * 1000;
    if (offsetMemo.size >= 4096) offsetMemo.clear();
    offsetMemo.set(key, offset);
  }
  return Math.floor(n / 1000) * 1000 + offset;
}
const offsetMemo = new Map<number, number>();

const valid = (y: number, mo: number, d: number) => mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (y: number, mo: number) => (mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : DAYS_IN_MONTH[mo - 1]);

/** The fields of a date read so far (one scratch record: a date is read at a time, never nested). */
interface Parts {
  year: number | undefined;
  month: number | undefined;
  day: number | undefined;
  hour: number;
  minute: number;
  second: number;
  tz: number | undefined;
  julian: number | undefined;
  /** A zone that is not known: no date. */
  bad: boolean;
}
const parts: Parts = { year: undefined, month: undefined, day: undefined, hour: 0, minute: 0, second: 0, tz: undefined, julian: undefined, bad: false };

function clearParts(): Parts {
  parts.year = parts.month = parts.day = parts.tz = parts.julian = undefined;
  parts.hour = parts.minute = parts.second = 0;
  parts.bad = false;
  return parts;
}

/** The `%` fields strptime reads; the others (a, A, w, u, U, W, f and a pattern's own groups) are not. */
const READ_FIELDS = new Set(['y', 'Y', 'm', 'B', 'b', 'd', 'H', 'I', 'M', 'S', 'j', 'z', 'Z']);

/** Month number (1-12, 0 when unknown) of a %b or %B text, remembered by the text as written. */
const monthMemo = new Map<string, number>();
const monthNameMemo = new Map<string, number>();
function monthOf(val: string, names: string[], memo: Map<string, number>): number {
  let n = memo.get(val);
  if (n === undefined) {
    n = names.indexOf(val.toLowerCase()) + 1;
    if (memo.size >= 1024) memo.clear();
    memo.set(val, n);
  }
  return n;
}

/** Reads one field into `p`; `ampm` is the %p text, for %I. */
function readField(p: Parts, key: string, val: string, ampm: string | undefined): void {
  switch (key) {
    case 'y':
      p.year = Number(val);
      if (p.year <= 2000) p.year += 2000;
      break;
    case 'Y':
      p.year = Number(val);
      break;
    case 'm':
      p.month = Number(val);
      break;
    case 'B':
      p.month = monthOf(val, MONTH_NAMES, monthNameMemo);
      break;
    case 'b':
      p.month = monthOf(val, MONTHS, monthMemo);
      break;
    case 'd':
      p.day = Number(val);
      break;
    case 'H':
      p.hour = Number(val);
      break;
    case 'I': {
      p.hour = Number(val);
      const a = (ampm ?? '').toLowerCase();
      if (a === '' || a === 'am') {
        if (p.hour === 12) p.hour = 0;
      } else if (a === 'pm' && p.hour !== 12) p.hour += 12;
      break;
    }
    case 'M':
      p.minute = Number(val);
      break;
    case 'S':
      p.second = Number(val);
      break;
    case 'j':
      p.julian = Number(val);
      break;
    case 'z':
    case 'Z':
      if (val === 'Z' || val === 'UTC' || val === 'GMT') p.tz = 0;
      else {
        p.tz = zoneOffset(val);
        if (p.tz === undefined) p.bad = true;
      }
      break;
    default:
  }
}

/** fail2ban's strptime on the named fields; epoch seconds, null for an impossible date. */
export function fieldsToTime(f: Record<string, string | undefined>, nowMs: number): number | null {
  const p = clearParts();
  for (const key in f) {
    const val = f[key];
    if (val === undefined) continue;
    readField(p, key, val, f.p);
    if (p.bad) return null;
  }
  return partsToTime(p, nowMs);
}

/** The time of the fields read, as fieldsToTime. */
function partsToTime(p: Parts, nowMs: number): number | null {
  let { year, month, day } = p;
  const { hour, minute, second, tz, julian } = p;
  if (month === 0) return null;
  const { naive: nowNaive, date: nowDate } = naiveNow(nowMs);
  let assumeYear = false;
  if (year === undefined) {
    year = nowDate.getUTCFullYear();
    assumeYear = true;
  }
  if ((month === undefined || day === undefined) && julian !== undefined) {
    const d = new Date(Date.UTC(year, 0, julian));
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  let assumeToday = false;
  if (month === undefined && day === undefined) {
    month = nowDate.getUTCMonth() + 1;
    day = nowDate.getUTCDate();
    assumeToday = true;
  }
  if (month === undefined || day === undefined) {
    month ??= 1;
    day ??= 1;
  }
  if (!valid(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  let result = Date.UTC(year, month - 1, day, hour, minute, second);
  if (tz !== undefined) result -= tz * 60_000;
  if (assumeToday && result > nowNaive) result -= 86_400_000;
  if (assumeYear && result > nowNaive + 86_400_000) {
    if (!valid(year - 1, month, day)) return null;
    const d = new Date(result);
    result = Date.UTC(year - 1, month - 1, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  }
  return (tz !== undefined ? result : localToEpoch(result)) / 1000;
}

// ---------------------------------------------------------------- the template cache and the defaults

const cache = new Map<string, DateTemplate>();

function patternTemplate(pattern: string, key?: string): DateTemplate {
  const k = key ?? (pattern.includes('%') ? pattern : pattern.toUpperCase());
  let t = cache.get(k);
  if (t) return t;
  if (k.includes('EPOCH')) {
    if (EPOCH_FIELD.test(pattern)) t = new DateEpoch({ pattern, long: k.includes('LEPOCH') });
    else if (['EPOCH', '{^LN-BEG}EPOCH', '^EPOCH'].includes(k)) t = new DateEpoch({ lineBeginOnly: k !== 'EPOCH' });
    else if (['LEPOCH', '{^LN-BEG}LEPOCH', '^LEPOCH'].includes(k)) t = new DateEpoch({ lineBeginOnly: k !== 'LEPOCH', long: true });
  }
  if (!t) {
    if (['TAI64N', '{^LN-BEG}TAI64N', '^TAI64N'].includes(k)) t = new DateTai64n(k !== 'TAI64N' ? 'start' : false);
    else t = new DatePatternRegex(pattern);
  }
  cache.set(k, t);
  return t;
}

function anchoredTemplate(t: DateTemplate, wrap: (s: string) => string = (s) => '{^LN-BEG}' + s): DateTemplate {
  const name = wrap(t.name);
  let t2 = cache.get(name);
  if (t2) return t2;
  const pattern = t instanceof DatePatternRegex ? t.pattern : undefined;
  const regex = wrap(pattern ?? t.regex);
  if (pattern !== undefined) t2 = cache.get(regex);
  if (!t2) t2 = pattern === undefined ? patternTemplate(name) : patternTemplate(regex);
  return t2;
}

const DEFAULT_PATTERNS = [
  '%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\\s*%z)?',
  '(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  '(?:%a )?%b %d %ExY %k:%M:%S(?:\\.%f)?',
  '%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S',
  '%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\\.%f)?(?: %z)?',
  '%m/%d/%ExY:%H:%M:%S',
  '%m-%d-%ExY %k:%M:%S(?:\\.%f)?',
  'EPOCH',
  '{^LN-BEG}%H:%M:%S',
  '^<%m/%d/%Exy@%H:%M:%S>',
  '%Exy%Exm%Exd  ?%H:%M:%S',
  '%b %d, %ExY %I:%M:%S %p',
  '^%b-%d-%Exy %k:%M:%S',
  '%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\\s*%z)?',
  '(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  '(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  'TAI64N',
];

let defaults: DateTemplate[] | null = null;
let defaultsWithAnchored: DateTemplate[] | null = null;

function defaultTemplates(): DateTemplate[] {
  defaults ??= DEFAULT_PATTERNS.map((p) => patternTemplate(p));
  return defaults;
}

/** The defaults, each also anchored at the line start (tried first, weighted higher). */
function allDefaultTemplates(): DateTemplate[] {
  if (defaultsWithAnchored) return defaultsWithAnchored;
  const anchored: DateTemplate[] = [];
  const plain: DateTemplate[] = [];
  for (const t of defaultTemplates()) {
    if (!t.name.startsWith('{^LN-BEG}') && !t.name.startsWith('^')) {
      const t2 = anchoredTemplate(t);
      if (t2.name !== t.name) {
        t2.weight = 100.0;
        anchored.push(t2);
      }
    }
    plain.push(t);
  }
  defaultsWithAnchored = [...anchored, ...plain];
  return defaultsWithAnchored;
}

function unboundPattern(pattern: string): string {
  return pattern.replace(UNBOUND, '').replace(LINE_BEGIN_TAG, '').replace(START_ANCHOR, '').replace(END_ANCHOR, '');
}

// ---------------------------------------------------------------- the detector

interface Slot {
  template: DateTemplate;
  hits: number;
  lastUsed: number;
  distance: number;
}

const ALNUM = /^[\p{L}\p{N}]+$/u;
/** Python's str.isalnum() for the one character (UTF-16 unit) around a date; -1 (no character): false. */
const isAlnum = (code: number) => {
  if (code < 128) return (code >= 48 && code <= 57) || ((code | 32) >= 97 && (code | 32) <= 122);
  return ALNUM.test(String.fromCharCode(code));
};
/** The UTF-16 unit at `i`, or -1 out of the line (the empty text line.slice(i, i + 1) gives). */
const codeAt = (line: string, i: number) => (i >= 0 && i < line.length ? line.charCodeAt(i) : -1);

const weightOf = (s: Slot) => (s.hits * s.template.weight) / Math.max(1, s.distance);
const BIG = 0x7fffffff;

/** What the detector found in a line. */
export interface DateHit {
  /** Epoch ms, or null when the text matched but is no valid date. */
  time: number | null;
  /** Span of the date text (empty when the template matched empty text). */
  start: number;
  end: number;
}

/**
 * A match put aside while later templates are tried (fail2ban's `found`): its template's index, where
 * it begins, and its date span. One per detector, reused for every line.
 */
class Aside {
  m: RegExpExecArray | null = null;
  index = -1;
  distance = BIG;
  start = 0;
  end = 0;

  clear(): void {
    this.m = null;
    this.index = -1;
    this.distance = BIG;
  }

  take(m: RegExpExecArray, index: number, distance: number, template: DateTemplate): void {
    this.m = m;
    this.index = index;
    this.distance = distance;
    this.start = template.start;
    this.end = template.end;
  }
}

export class DateDetector {
  private readonly slots: Slot[] = [];
  private readonly names = new Set<string>();
  /**
   * Where the last date began and ended, and its line: the characters around those places are read
   * from it when the next line asks (the last template is not anchored at the line), not copied out of
   * every line. The empty line: no characters, as fail2ban starts.
   */
  private lastPos = 1;
  private lastEndPos = BIG;
  private lastLine = '';
  private lastIndex = BIG;
  private readonly aside = new Aside();
  private firstUnused = 0;
  private readonly unusedTime = 300;

  /** `datepattern` lines; empty for fail2ban's default templates. */
  constructor(datepattern?: string) {
    const lines = (datepattern ?? '').split(/\n+/).map((l) => l.trim()).filter(Boolean);
    for (const p of lines) this.append(p);
  }

  private add(t: DateTemplate, ignoreDup = false): void {
    if (this.names.has(t.name)) {
      if (ignoreDup) return;
      throw new Error(`datepattern: there is already a template named ${t.name}`);
    }
    this.names.add(t.name);
    this.slots.push({ template: t, hits: 0, lastUsed: 0, distance: BIG });
  }

  private append(pattern: string): void {
    const key = pattern.includes('%') ? pattern : pattern.toUpperCase();
    let t = cache.get(key);
    if (!t) {
      if (key === '{^LN-BEG}' || key === '{DEFAULT}') {
        this.addDefaults(key === '{^LN-BEG}' ? (x) => !!(x.flags & LINE_BEGIN) : undefined);
        return;
      }
      if (key.includes('{DATE}')) {
        this.addDefaults(undefined, pattern);
        return;
      }
      t = key === '{NONE}' ? patternTemplate('{UNB}^', key) : patternTemplate(pattern, key);
      t.compile();
      cache.set(key, t);
    }
    this.add(t);
  }

  private addDefaults(keep?: (t: DateTemplate) => boolean, preMatch?: string): void {
    const ignoreDup = this.slots.length > 0;
    for (let t of preMatch === undefined ? allDefaultTemplates() : defaultTemplates()) {
      if (keep && !keep(t)) continue;
      if (preMatch !== undefined) {
        t = anchoredTemplate(t, (s) => preMatch.replace(/(?<!\\)\{DATE\}/gi, () => unboundPattern(s)));
      }
      this.add(t, ignoreDup);
    }
  }

  /**
   * Finds the date in a line, as fail2ban's matchTime + getTime. `ascii`: as isAsciiText(line);
   * `wallMs`: the wall clock, which tells how long ago a template last found a date.
   *
   * Run on every line of a log, so it allocates nothing but the result: the match put aside while later
   * templates are tried is held in the detector's one Aside, and a template leaves its date span in its
   * fields.
   */
  find(line: string, nowMs: number, ascii = isAsciiText(line), wallMs = Date.now()): DateHit | null {
    if (this.slots.length === 0) this.addDefaults();
    const slots = this.slots;
    const count = slots.length;
    let m: RegExpExecArray | null = null;
    const aside = this.aside;
    aside.clear();
    let ignoreBySearch = BIG;
    let i = this.lastIndex;
    let slot: Slot | undefined;
    let template: DateTemplate | undefined;
    if (i < count) {
      slot = slots[i];
      template = slot.template;
      if (template.flags & (LINE_BEGIN | LINE_END)) {
        m = template.matchDate(line, 0, line.length, ascii);
        ignoreBySearch = i;
      } else {
        // Where the last date was, if this line has the same characters around that place.
        // The character before the last date, its first and last characters, the character after it.
        const distance = this.lastPos;
        const endpos = this.lastEndPos;
        const prev = this.lastLine;
        const first = codeAt(prev, distance);
        const last = codeAt(prev, endpos - 1);
        if (
          (codeAt(line, distance - 1) === codeAt(prev, distance - 1) || (codeAt(line, distance) === first && !isAlnum(first))) &&
          (codeAt(line, endpos) === codeAt(prev, endpos) || (codeAt(line, endpos - 1) === last && !isAlnum(last)))
        ) {
          m = template.matchDate(line, distance, endpos, ascii);
        } else {
          m = template.matchDate(line, 0, line.length, ascii);
          ignoreBySearch = i;
        }
      }
      if (m !== null) {
        const distance = m.index;
        const endpos = distance + m[0].length;
        if (!(count === 1 || template.flags & (LINE_BEGIN | LINE_END) || (distance === this.lastPos && endpos === this.lastEndPos))) {
          aside.take(m, i, distance, template);
          m = null;
        }
      }
    }
    if (m === null) {
      for (i = 0; i < count; i++) {
        if (i === ignoreBySearch) continue;
        slot = slots[i];
        template = slot.template;
        m = template.matchDate(line, 0, line.length, ascii);
        if (m !== null) {
          const distance = m.index;
          if (i + 1 >= count) break;
          if (template.flags & (LINE_BEGIN | LINE_END)) break;
          if (distance === 0 && slot.hits && !slots[i + 1].template.hits) break;
          if (distance > slot.distance || distance > this.lastPos) {
            if (distance < aside.distance) aside.take(m, i, distance, template);
            m = null;
            continue;
          }
          break;
        }
      }
    }
    let start: number;
    let end: number;
    if (m !== null && template !== undefined) {
      start = template.start;
      end = template.end;
    } else if (aside.m !== null) {
      m = aside.m;
      i = aside.index;
      slot = slots[i];
      template = slot.template;
      start = aside.start;
      end = aside.end;
    } else return null;
    if (slot === undefined) return null;
    const distance = m.index;
    const endpos = distance + m[0].length;
    slot.hits++;
    slot.lastUsed = wallMs / 1000;
    slot.distance = distance;
    if (this.firstUnused === i) this.firstUnused++;
    this.lastPos = distance;
    this.lastEndPos = endpos;
    this.lastLine = line;
    if (i && i !== this.lastIndex) i = this.reorder(i);
    this.lastIndex = i;
    if (start === end) return { time: null, start, end };
    const t = template.getDate(m, nowMs, ascii);
    return { time: t === null ? null : t * 1000, start, end };
  }

  /** Moves a template that keeps finding dates towards the front. */
  private reorder(num: number): number {
    const slots = this.slots;
    const slot = slots[num];
    const untime = slot.lastUsed - this.unusedTime;
    const weight = weightOf(slot);
    let pos = this.firstUnused < num ? this.firstUnused : Math.floor(num / 2);
    const moveable = () => weight > weightOf(slots[pos]) || untime > slots[pos].lastUsed;
    if (!moveable()) {
      if (pos === num - 1) return num;
      pos = num - 1;
      if (!moveable()) return num;
    }
    slots.splice(num, 1);
    slots.splice(pos, 0, slot);
    while (this.firstUnused < slots.length && slots[this.firstUnused].hits) this.firstUnused++;
    return pos;
  }
}
