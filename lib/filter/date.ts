/** Finds a log line's timestamp as fail2ban's date detector does: a list of templates, last hit tried first. */

export interface DateHit {
  /** Epoch ms. */
  time: number;
  /** Where the date text stands in the line; it is cut out before matching. */
  start: number;
  end: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MON = String.raw`(?<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?`;
const DAY = String.raw`(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*`;
const TZ = String.raw`(?<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})`;

/** strftime directives that fail2ban's datepattern understands, as regex with named groups. */
const DIRECTIVES: Record<string, string> = {
  Y: String.raw`(?<Y>\d{4})`,
  ExY: String.raw`(?<Y>20[0-4]\d)`,
  y: String.raw`(?<y>\d{2})`,
  Exy: String.raw`(?<y>\d{2})`,
  m: String.raw`(?<m>1[0-2]|0?[1-9])`,
  Exm: String.raw`(?<m>1[0-2]|0[1-9])`,
  d: String.raw`(?<d>3[01]|[12]\d|0?[1-9])`,
  Exd: String.raw`(?<d>3[01]|[12]\d|0[1-9])`,
  e: String.raw`(?<d>3[01]|[12]\d|[ 0]?[1-9])`,
  H: String.raw`(?<H>2[0-3]|[01]?\d)`,
  ExH: String.raw`(?<H>2[0-3]|[01]\d)`,
  I: String.raw`(?<I>1[0-2]|0?[1-9])`,
  M: String.raw`(?<M>[0-5]?\d)`,
  ExM: String.raw`(?<M>[0-5]\d)`,
  S: String.raw`(?<S>6[01]|[0-5]?\d)`,
  ExS: String.raw`(?<S>6[01]|[0-5]\d)`,
  f: String.raw`(?<f>\d+)`,
  p: String.raw`(?<p>AM|PM|am|pm)`,
  b: MON,
  B: MON,
  a: DAY,
  A: DAY,
  z: String.raw`(?<tz>Z|[+-]\d{2}:?\d{2}|[+-]\d{4})`,
  Z: String.raw`(?<tzname>UTC|GMT|Z|[A-Z]{3,4})`,
  j: String.raw`(?<j>\d{1,3})`,
  s: String.raw`(?<epoch>\d{9,11})`,
  '%': '%',
};

interface Template {
  name: string;
  re: RegExp;
}

function template(name: string, source: string, anchored = false): Template {
  // A default template must stand at a word boundary, not inside another number.
  return { name, re: new RegExp(anchored ? `^\\s*(?:\\[)?${source}` : `(?<![\\w.:])${source}(?![\\d])`, 'i') };
}

/** Our default templates, in the order they are first tried. */
function defaultTemplates(): Template[] {
  return [
    template('ISO 8601', String.raw`(?<Y>\d{4})-(?<m>\d{2})-(?<d>\d{2})[T ](?<H>\d{2}):(?<M>\d{2}):(?<S>\d{2})(?:[.,](?<f>\d+))?(?:\s*${TZ})?`),
    template('BSD syslog', String.raw`(?:${DAY} )?${MON} +(?<d>\d{1,2}) (?<H>\d{2}):(?<M>\d{2}):(?<S>\d{2})(?:\.(?<f>\d+))?(?: (?<Y>\d{4})(?!\d|:))?`),
    template('Apache', String.raw`(?<d>\d{2})/${MON}/(?<Y>\d{4}):(?<H>\d{2}):(?<M>\d{2}):(?<S>\d{2})(?: (?<tz>[+-]\d{4}))?`),
    template('slashes', String.raw`(?<Y>\d{4})/(?<m>\d{2})/(?<d>\d{2}) (?<H>\d{2}):(?<M>\d{2}):(?<S>\d{2})`),
    template('day-month-year', String.raw`(?<d>\d{2})-${MON}-(?<Y>\d{4}) (?<H>\d{2}):(?<M>\d{2}):(?<S>\d{2})(?:\.(?<f>\d+))?`),
    template('MySQL', String.raw`(?<y>\d{2})(?<m>\d{2})(?<d>\d{2}) +(?<H>\d{1,2}):(?<M>\d{2}):(?<S>\d{2})`),
    template('Epoch', String.raw`(?<epoch>\d{10})(?:\.(?<f>\d+))?`, true),
  ];
}

/** Turns a fail2ban `datepattern` (strftime-like, with {^LN-BEG}, Epoch, ...) into a template. */
export function datepatternTemplate(pattern: string): Template | null {
  let p = pattern.trim();
  if (p === '{NONE}' || p === '') return null;
  let anchored = false;
  if (p.startsWith('{^LN-BEG}')) {
    anchored = true;
    p = p.slice('{^LN-BEG}'.length);
  }
  if (p === 'Epoch' || p === 'LEPOCH') return template(p, String.raw`(?<epoch>\d{10})(?:\.(?<f>\d+))?`, anchored);
  if (p === 'TAI64N') return template(p, String.raw`@?(?<tai>[0-9a-fA-F]{24})`, anchored);
  if (p === '') return null;
  let source = '';
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== '%') {
      source += p[i];
      continue;
    }
    const rest = p.slice(i + 1);
    const key = Object.keys(DIRECTIVES).sort((a, b) => b.length - a.length).find((k) => rest.startsWith(k));
    if (!key) throw new Error(`datepattern "${pattern}": unknown directive %${rest[0] ?? ''}`);
    source += DIRECTIVES[key];
    i += key.length;
  }
  // Several %b or %d in one pattern would repeat a group name: keep the first.
  const seen = new Set<string>();
  source = source.replace(/\(\?<(\w+)>/g, (all, name: string) => {
    if (seen.has(name)) return '(?:';
    seen.add(name);
    return all;
  });
  const explicitStart = source.startsWith('^');
  return { name: pattern, re: new RegExp(anchored && !explicitStart ? `^\\s*(?:\\[)?${source}` : source, 'i') };
}

function tzOffsetMinutes(tz: string | undefined): number | null {
  if (!tz) return null;
  if (/^(?:Z|UTC|GMT)$/i.test(tz)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const DAY_MS = 24 * 3600 * 1000;

/** Converts named groups to epoch ms, inferring a missing year as fail2ban does. */
function timeFromGroups(g: Record<string, string | undefined>, now: number): number | null {
  if (g.epoch) return Number(g.epoch) * 1000 + (g.f ? Number(`0.${g.f}`) * 1000 : 0);
  if (g.tai) return (parseInt(g.tai.slice(0, 16), 16) - 2 ** 62 - 10) * 1000;
  const nowDate = new Date(now);
  let month = g.m ? Number(g.m) - 1 : g.mon ? MONTHS.indexOf(g.mon.slice(0, 3).toLowerCase()) : null;
  const day = g.d ? Number(g.d.trim()) : null;
  let hour = g.H !== undefined ? Number(g.H) : g.I !== undefined ? Number(g.I) % 12 : 0;
  if (g.p && /pm/i.test(g.p)) hour += 12;
  const minute = g.M ? Number(g.M) : 0;
  const second = g.S ? Number(g.S) : 0;
  const explicitYear = g.Y ? Number(g.Y) : g.y ? 2000 + Number(g.y) : null;
  const offset = tzOffsetMinutes(g.tz ?? g.tzname);
  const build = (year: number, mon: number, d: number): number =>
    offset === null
      ? new Date(year, mon, d, hour, minute, second).getTime()
      : Date.UTC(year, mon, d, hour, minute, second) - offset * 60000;

  if (month === null && day === null) {
    // Time only: today, or yesterday when that would be in the future.
    let t = build(nowDate.getFullYear(), nowDate.getMonth(), nowDate.getDate());
    if (t > now) t -= DAY_MS;
    return t;
  }
  if (month === null || month < 0) month = nowDate.getMonth();
  const d = day ?? 1;
  if (explicitYear !== null) return build(explicitYear, month, d);
  let t = build(nowDate.getFullYear(), month, d);
  if (t > now + DAY_MS) t = build(nowDate.getFullYear() - 1, month, d);
  return t;
}

export class DateDetector {
  private readonly templates: Template[];
  /** No date expected at all ({NONE}): every line gets `now`. */
  readonly none: boolean;

  constructor(datepattern?: string) {
    const patterns = (datepattern ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    this.none = patterns.length === 1 && patterns[0] === '{NONE}';
    if (patterns.length === 0) {
      this.templates = defaultTemplates();
    } else {
      this.templates = patterns.map((p) => datepatternTemplate(p)).filter((t): t is Template => t !== null);
    }
  }

  /** The date in `line`, or null. The template that hits moves to the front, as fail2ban does. */
  detect(line: string, now: number): DateHit | null {
    for (let i = 0; i < this.templates.length; i++) {
      const t = this.templates[i];
      const m = t.re.exec(line);
      if (!m) continue;
      const time = timeFromGroups(m.groups ?? {}, now);
      if (time === null || Number.isNaN(time)) continue;
      if (i > 0) {
        this.templates.splice(i, 1);
        this.templates.unshift(t);
      }
      return { time, start: m.index, end: m.index + m[0].length };
    }
    return null;
  }
}
