/** fail2ban's tags (<HOST>, <F-USER>...), expanded into Python regex groups, then compiled for JavaScript. */
import { compilePython, isAsciiText, PyRegexError, type PyRegex } from './pyregex';

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
    rx = compilePython(source, { multiline });
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, rx);
  }
  return rx;
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
    const first = this.rx.firstChars;
    if (first !== null) {
      this.firstAscii = new Uint8Array(128);
      for (const c of first) if (c < 128) this.firstAscii[c] = 1;
    }
    this.skiplines = [...this.rx.names.keys()].filter((n) => /^skiplines\d+$/.test(n)).length;
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

  /** Searches a text; `ascii`: the text has ASCII characters only (as isAsciiText), so the cheaper pattern serves. */
  search(buffer: string, ascii = isAsciiText(buffer)): RegExpExecArray | null {
    if (!this.mayStartWith(buffer.codePointAt(0) ?? -1)) return null;
    return (ascii ? this.rx.asciiRe : this.rx.re).exec(buffer);
  }

  /** The named groups of a match, alt_ groups merged into their base name as fail2ban does. */
  groups(m: RegExpExecArray, into: Record<string, unknown> = {}): Record<string, string | undefined> {
    const g = into as Record<string, string | undefined>;
    const names = this.groupNames;
    const copies = this.groupCopies;
    for (let i = 0; i < names.length; i++) {
      const c = copies[i];
      let v: string | undefined;
      for (let j = 0; j < c.length && v === undefined; j++) v = m[c[j]];
      g[names[i]] = v;
    }
    // Only this pattern's own value of n counts (a prefregex value under `into` is replaced, as dict.update does).
    for (const [k, n, own] of this.alts) if (g[k] && !(own ? g[n] : undefined)) g[n] = g[k];
    for (const [k, n] of this.tuples) {
      // fail2ban makes a tuple; a string joined the same way is what a person reads.
      if (g[k] !== undefined) g[n] = g[n] === undefined ? g[k] : `${g[n]}\u0000${g[k]}`;
    }
    return g;
  }

  /** Text captured by <SKIPLINES>, as lines. */
  skippedLines(m: RegExpExecArray): string[] {
    let text = '';
    for (let i = 0; i < this.skiplines; i++) {
      const index = this.rx.names.get(`skiplines${i}`);
      let v: string | undefined;
      for (const c of index === undefined ? [] : (this.rx.copies.get(index) ?? [])) v ??= m[c];
      if (v !== undefined) text += v;
    }
    return text === '' ? [] : text.replace(/\n$/, '').split('\n');
  }
}
