/** fail2ban's tags (<HOST>, <F-USER>...), expanded into Python regex groups, then compiled for JavaScript. */
import { groupValue, isAsciiText, parsePython, PyRegexError, type PyRegex } from './pyregex';

const IP4 = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
const IP6 = String.raw`(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)`;
const IP4_GROUP = String.raw`(?:::f{4,6}:)?(?P<ip4>${IP4})`;
const IP6_GROUP = `(?P<ip6>${IP6})`;
const DNS_GROUP = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const CIDR_GROUP = String.raw`(?P<cidr>\d+)`;
const ADDR = String.raw`\[?(?:${IP4_GROUP}|${IP6_GROUP})\]?`;
const SUBNET = String.raw`\[?(?:${IP4_GROUP}|${IP6_GROUP})(?:/${CIDR_GROUP})?\]?`;

/** Tags with a fixed expansion (self-closing `<F-X/>` forms included). */
const FIXED: Record<string, string> = {
  IP4: IP4_GROUP,
  'F-IP4/': IP4_GROUP,
  IP6: IP6_GROUP,
  'F-IP6/': IP6_GROUP,
  ADDR,
  'F-ADDR/': ADDR,
  CIDR: CIDR_GROUP,
  'F-CIDR/': CIDR_GROUP,
  SUBNET,
  'F-SUBNET/': SUBNET,
  DNS: DNS_GROUP,
  'F-DNS/': DNS_GROUP,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};

/** Groups that name whom a failure is about, in the order fail2ban looks for them. */
export const FAILURE_ID_GROUPS = ['fid', 'ip4', 'ip6', 'dns'] as const;

export class RegexError extends Error {}

/**
 * Replaces fail2ban's tags with Python regex groups. `<F-NAME>...</F-NAME>` becomes the group `name`
 * (`<F-ID>` is `fid`, `<F-PORT>` `fport`); an unknown tag, or a closing tag never opened, stays as text.
 */
export function expandTags(pattern: string, useDns = 'warn'): string {
  const open = new Set<string>();
  let skip = 0;
  return pattern.replace(/<\/?[\w-]+\/?>/g, (tag) => {
    const name = tag.slice(1, -1);
    if (name === 'HOST') return useDns !== 'no' ? `(?:${ADDR}|${DNS_GROUP})` : ADDR;
    if (name === 'SKIPLINES') return `\\n(?P<skiplines${skip++}>(?:(?:.*\\n)*?))`;
    if (FIXED[name] !== undefined) return FIXED[name];
    const m = /^(\/?)F-([A-Z0-9_-]+)$/.exec(name);
    if (!m) return tag;
    if (m[1]) return open.has(m[2]) ? ')' : tag;
    open.add(m[2]);
    return `(?P<${groupName(m[2])}>`;
  });
}

function groupName(tag: string): string {
  const t = tag.toLowerCase();
  return t === 'id' ? 'fid' : t === 'port' ? 'fport' : t;
}

/** `((?i)x)` and `(?:(?i)x)` mean `(?i:x)` to fail2ban: global flags inside a group are scoped to it. */
function scopeFlags(pattern: string): string {
  return pattern.replace(/(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g, '$1:');
}

/**
 * Compiled patterns, shared within a thread: the same filter in several jails (and the same prefregex
 * in many filters) is compiled once. A compiled pattern's code takes far more memory than its text
 * (about 0.6 MB for the sshd filter's), and a PyRegex is never changed once made (no g or y flag).
 */
const compiled = new Map<string, PyRegex>();
const MAX_COMPILED = 512;

function compileShared(source: string, multiline: boolean): PyRegex {
  const key = `${multiline ? 'm' : 's'}${source}`;
  let rx = compiled.get(key);
  if (!rx) {
    // Only named groups are read (fail2ban reads a match by groupdict()): a plain group is written as
    // (?:...) unless a back-reference or a conditional needs it, so no string is made for it on a match.
    const parsed = parsePython(source, { multiline });
    rx = parsed.compile([...parsed.names.values()]);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, rx);
  }
  return rx;
}

/**
 * The named groups of a match into an object, as fail2ban's groupdict() then its alt_ and tuple_ merges,
 * written out as straight-line code for one pattern: every line that matches pays for this, and a loop
 * over names and copies (with its object growing by computed keys) cost more than the pattern did. The
 * code is made only from group names the Python parser accepted (identifiers, quoted with JSON) and
 * group numbers; the same pattern always fills its object in the same order, so it keeps one shape.
 */
function fillerFor(
  names: string[],
  copies: number[][],
  alts: [string, string, boolean][],
  tuples: [string, string][],
): (m: RegExpExecArray, g: Record<string, unknown>) => void {
  const key = (name: string) => `g[${JSON.stringify(name)}]`;
  const body: string[] = ['let v;'];
  for (let i = 0; i < names.length; i++) {
    const c = copies[i];
    if (c.length === 0) body.push('v = undefined;');
    else {
      body.push(`v = m[${c[0]}];`);
      for (let j = 1; j < c.length; j++) body.push(`if (v === undefined) v = m[${c[j]}];`);
    }
    body.push(`${key(names[i])} = v;`);
  }
  // Only this pattern's own value of n counts (a prefregex value already in g is replaced, as dict.update does).
  for (const [k, n, own] of alts) body.push(own ? `if (${key(k)} && !${key(n)}) ${key(n)} = ${key(k)};` : `if (${key(k)}) ${key(n)} = ${key(k)};`);
  // fail2ban makes a tuple; a string joined the same way is what a person reads.
  for (const [k, n] of tuples) {
    body.push(`if (${key(k)} !== undefined) ${key(n)} = ${key(n)} === undefined ? ${key(k)} : ${key(n)} + "\\u0000" + ${key(k)};`);
  }
  return new Function('m', 'g', body.join('\n')) as (m: RegExpExecArray, g: Record<string, unknown>) => void;
}

/** One compiled fail2ban regex (failregex, ignoreregex or prefregex). */
export class F2bRegex {
  readonly original: string;
  readonly rx: PyRegex;
  /** alt_ and tuple_ groups to merge into their base name (and whether this pattern has that name). */
  private readonly alts: [string, string, boolean][] = [];
  private readonly tuples: [string, string][] = [];
  readonly skiplines: number;
  /** Python group names in the pattern's order, and the JS groups of each one's copies. */
  private readonly groupNames: string[] = [];
  private readonly groupCopies: number[][] = [];
  /** firstChars as a table of the ASCII characters (null: any character may begin a match). */
  private readonly firstAscii: Uint8Array | null = null;
  /** Literal text every match holds (PyRegex.requiredText): a text without it is not searched. */
  private readonly needs: string | null;
  /** groups() written out for this pattern's own groups (see fillerFor). */
  private readonly fill: (m: RegExpExecArray, g: Record<string, unknown>) => void;

  constructor(pattern: string, opts: { multiline?: boolean; kind?: string; useDns?: string; requireId?: boolean; prefHasId?: boolean } = {}) {
    this.original = pattern;
    const kind = opts.kind ?? 'failregex';
    const expanded = expandTags(pattern, opts.useDns);
    if (expanded.trim() === '') throw new RegexError(`${kind}: an empty pattern`);
    try {
      this.rx = compileShared(scopeFlags(expanded), !!opts.multiline);
    } catch (err) {
      const reason = err instanceof PyRegexError ? err.message : String(err);
      throw new RegexError(`${kind} "${pattern}": ${reason}`);
    }
    if (opts.requireId && !opts.prefHasId && !this.hasFailureId()) {
      throw new RegexError(`${kind} "${pattern}": no <HOST> (or <ADDR>, <IP4>, <IP6>, <F-ID>) in it: fail2ban needs to know whom to ban`);
    }
    for (const name of [...this.rx.names.keys()].sort()) {
      const m = /^(alt_|tuple_)(.*?)(?:_\d+)?$/.exec(name);
      if (!m || name.length <= 4) continue;
      const base = groupName(m[2]);
      if (m[1] === 'alt_') this.alts.push([name, base, this.rx.names.has(base)]);
      else this.tuples.push([name, base]);
    }
    for (const [name, index] of this.rx.names) {
      this.groupNames.push(name);
      this.groupCopies.push(this.rx.copies.get(index) ?? []);
    }
    this.needs = this.rx.requiredText;
    const first = this.rx.firstChars;
    if (first !== null) {
      this.firstAscii = new Uint8Array(128);
      for (const c of first) if (c < 128) this.firstAscii[c] = 1;
    }
    this.skiplines = [...this.rx.names.keys()].filter((n) => /^skiplines\d+$/.test(n)).length;
    this.fill = fillerFor(this.groupNames, this.groupCopies, this.alts, this.tuples);
  }

  hasFailureId(): boolean {
    return [...FAILURE_ID_GROUPS, 'mlfid'].some((g) => this.rx.names.has(g));
  }

  /**
   * Whether a match can begin with the character `code` (a code point; -1 for an empty text): an
   * anchored pattern cannot match a text that starts with none of its first characters.
   */
  mayStartWith(code: number): boolean {
    const ascii = this.firstAscii;
    if (ascii === null) return true;
    return code >= 0 && code < 128 ? ascii[code] === 1 : this.rx.firstChars!.has(code);
  }

  /** True when `text` cannot match: it lacks the literal text every match holds. */
  lacksRequiredText(text: string): boolean {
    return this.needs !== null && !text.includes(this.needs);
  }

  /** Searches a text; `ascii`: the text has ASCII characters only (as isAsciiText), so the cheaper pattern serves. */
  search(buffer: string, ascii = isAsciiText(buffer)): RegExpExecArray | null {
    if (!this.mayStartWith(buffer.codePointAt(0) ?? -1)) return null;
    if (this.lacksRequiredText(buffer)) return null;
    return (ascii ? this.rx.asciiRe : this.rx.re).exec(buffer);
  }

  /** The named groups of a match, alt_ groups merged into their base name as fail2ban does. */
  groups(m: RegExpExecArray, into: Record<string, unknown> = {}): Record<string, string | undefined> {
    this.fill(m, into);
    return into as Record<string, string | undefined>;
  }

  /** Every key groups() may set: the pattern's group names, then the names alt_ and tuple_ groups merge into. */
  groupKeys(): string[] {
    return [...this.groupNames, ...this.alts.map(([, n]) => n), ...this.tuples.map(([, n]) => n)];
  }

  /** The JS groups of the copies of the named group `name`, in order (none when there is no such group). */
  copiesOf(name: string): number[] {
    const i = this.groupNames.indexOf(name);
    return i < 0 ? [] : this.groupCopies[i];
  }

  /** Text captured by <SKIPLINES>, as lines. */
  skippedLines(m: RegExpExecArray): string[] {
    let text = '';
    for (let i = 0; i < this.skiplines; i++) {
      const index = this.rx.names.get(`skiplines${i}`);
      const v = index === undefined ? undefined : groupValue(this.rx, m, index);
      if (v !== undefined) text += v;
    }
    return text === '' ? [] : text.replace(/\n$/, '').split('\n');
  }
}
