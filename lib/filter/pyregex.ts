/**
 * Python `re` patterns, compiled to JavaScript RegExps that mean the same thing.
 *
 * fail2ban's filters are written for Python's engine. The two dialects part ways in places a log line
 * can reach: `$` also matches before a final newline, `.` only stops at `\n`, `\w` `\d` `\s` `\b` are
 * Unicode-aware, `{,n}` is a quantifier, `[^]]` is a class, scoped flags `(?i:...)`, and conditionals
 * `(?(name)yes|no)`, which JavaScript lacks. So the pattern is parsed into a tree and written out again.
 * A conditional (or a back-reference to a group that may not have taken part) is resolved by splitting
 * the pattern into alternatives in which it is known whether the group took part.
 */

export class PyRegexError extends Error {}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
  a: boolean;
}

type ClassItem =
  | { t: 'range'; from: number; to: number }
  | { t: 'esc'; kind: string };

type Node =
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'group'; kind: 'cap'; index: number; name?: string; body: Node }
  | { t: 'group'; kind: 'noncap' | 'ahead' | 'nahead' | 'behind' | 'nbehind' | 'atomic'; body: Node }
  | { t: 'cond'; ref: number; yes: Node; no: Node }
  | { t: 'backref'; ref: number; ci: boolean; target?: Node }
  | { t: 'repeat'; body: Node; min: number; max: number; lazy: boolean; possessive: boolean }
  /** Literal characters in a row; only a run of one is ever quantified (the parser stops a run before a quantifier). */
  | { t: 'chars'; cps: number[]; ci: boolean }
  | { t: 'class'; negated: boolean; items: ClassItem[]; ci: boolean; ascii: boolean }
  | { t: 'any'; dotall: boolean }
  | { t: 'bol'; multiline: boolean }
  | { t: 'eol'; multiline: boolean }
  | { t: 'A' }
  | { t: 'Z' }
  | { t: 'wordb'; negated: boolean; ascii: boolean }
  | { t: 'esc'; kind: string; ascii: boolean };

/** The ASCII characters that end a run of literal text in a pattern (Parser.chars): \ ( ) [ . ^ $ | * + ? { */
const SPECIAL = new Uint8Array(128);
for (const c of '\\()[.^$|*+?{') SPECIAL[c.charCodeAt(0)] = 1;

const PY_SPACE = String.raw`\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const WORD = String.raw`\p{L}\p{N}_`;
/** Python's Unicode \s and \w, on ASCII characters. */
const PY_SPACE_ASCII = String.raw`\t\n\v\f\r\x1c-\x1f `;
const WORD_ASCII = 'a-zA-Z0-9_';

/**
 * The contents of a character class for an escape such as \w, and whether it is a complement. `ascii`
 * is Python's ASCII flag; `asciiText` writes the Unicode meaning for a text known to be ASCII only.
 */
function escSet(kind: string, ascii: boolean, asciiText = false): { body: string; negated: boolean } {
  const lower = kind.toLowerCase();
  const negated = kind !== lower;
  if (lower === 'd') return { body: ascii || asciiText ? '0-9' : String.raw`\p{Nd}`, negated };
  if (lower === 'w') return { body: ascii || asciiText ? WORD_ASCII : WORD, negated };
  return { body: ascii ? String.raw` \t\n\r\f\v` : asciiText ? PY_SPACE_ASCII : PY_SPACE, negated };
}

class Parser {
  private pos = 0;
  groupCount = 0;
  readonly names = new Map<string, number>();
  readonly flags: Flags;

  constructor(private readonly src: string, flags: Partial<Flags>) {
    this.flags = { i: false, m: false, s: false, x: false, a: false, ...flags };
  }

  parse(): Node {
    this.leadingFlags();
    const node = this.alternation(this.flags);
    if (this.pos < this.src.length) this.fail(this.src[this.pos] === ')' ? 'unbalanced parenthesis' : 'unexpected character');
    return node;
  }

  fail(reason: string, at = this.pos): never {
    throw new PyRegexError(`${reason} at position ${at}`);
  }

  /** Python allows global flags only at the very start, as `(?i)`; they apply to the whole pattern. */
  private leadingFlags(): void {
    for (;;) {
      const m = /^\(\?([aiLmsux]+)\)/.exec(this.src.slice(this.pos));
      if (!m) return;
      for (const f of m[1]) if (f in this.flags) (this.flags as unknown as Record<string, boolean>)[f] = true;
      this.pos += m[0].length;
    }
  }

  private alternation(flags: Flags): Node {
    const alts: Node[] = [this.sequence(flags)];
    while (this.src[this.pos] === '|') {
      this.pos++;
      alts.push(this.sequence(flags));
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private sequence(flags: Flags): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '|' || c === ')') break;
      if (flags.x && /\s/.test(c)) {
        this.pos++;
        continue;
      }
      if (flags.x && c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
        continue;
      }
      const atom = this.atom(flags);
      if (atom === null) continue;
      items.push(this.quantified(atom, flags));
    }
    return items.length === 1 ? items[0] : { t: 'seq', items };
  }

  private quantified(atom: Node, flags: Flags): Node {
    let node = atom;
    for (;;) {
      if (flags.x) while (/\s/.test(this.src[this.pos] ?? '')) this.pos++;
      const c = this.src[this.pos];
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.pos));
        if (!m || (m[1] === '' && m[2] === '')) return node; // not a quantifier: a literal "{"
        min = m[1] === '' ? 0 : Number(m[1]);
        max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) this.fail('min repeat greater than max repeat');
        this.pos += m[0].length - 1;
      } else return node;
      this.pos++;
      if (node.t === 'repeat' || node.t === 'bol' || node.t === 'eol' || node.t === 'A' || node.t === 'Z' || node.t === 'wordb') {
        if (node.t === 'repeat') this.fail('multiple repeat', this.pos - 1);
        this.fail('nothing to repeat', this.pos - 1);
      }
      let lazy = false;
      let possessive = false;
      if (this.src[this.pos] === '?') {
        lazy = true;
        this.pos++;
      } else if (this.src[this.pos] === '+') {
        possessive = true;
        this.pos++;
      }
      node = { t: 'repeat', body: node, min, max, lazy, possessive };
    }
  }

  private atom(flags: Flags): Node | null {
    const c = this.src[this.pos];
    if (c === '(') return this.group(flags);
    if (c === '[') return this.charClass(flags);
    if (c === '\\') return this.escape(flags);
    this.pos++;
    if (c === '.') return { t: 'any', dotall: flags.s };
    if (c === '^') return { t: 'bol', multiline: flags.m };
    if (c === '$') return { t: 'eol', multiline: flags.m };
    if (c === '*' || c === '+' || c === '?') this.fail('nothing to repeat', this.pos - 1);
    this.pos--;
    return this.chars(flags);
  }

  /**
   * A run of literal characters, as one node: most of a fail2ban pattern is literal text, and a node
   * for each character made every later step (specializing, writing, finding first characters) walk
   * thousands of nodes at every start. The first character is taken whatever it is (atom() has dealt
   * with the special ones); the run ends at the next special character, and gives back its last
   * character when a quantifier follows, which applies to that character alone. In verbose mode
   * (?x), where white space and # are not literal, every character is a node of its own.
   */
  private chars(flags: Flags): Node {
    const src = this.src;
    const first = src.codePointAt(this.pos)!;
    const cps = [first];
    let pos = this.pos + (first > 0xffff ? 2 : 1);
    let last = this.pos;
    if (!flags.x) {
      while (pos < src.length) {
        const c = src.charCodeAt(pos);
        if (c < 128 && SPECIAL[c] === 1) break;
        const cp = src.codePointAt(pos)!;
        cps.push(cp);
        last = pos;
        pos += cp > 0xffff ? 2 : 1;
      }
      const next = src.charCodeAt(pos); // * + ? {
      if (cps.length > 1 && (next === 42 || next === 43 || next === 63 || next === 123)) {
        cps.pop();
        pos = last;
      }
    }
    this.pos = pos;
    return { t: 'chars', cps, ci: flags.i };
  }

  private group(flags: Flags): Node | null {
    const start = this.pos;
    this.pos++;
    const rest = this.src.slice(this.pos);
    let node: Node;
    if (rest.startsWith('?')) {
      let m: RegExpExecArray | null;
      if ((m = /^\?P<([A-Za-z_]\w*)>/.exec(rest))) {
        this.pos += m[0].length;
        if (this.names.has(m[1])) this.fail(`redefinition of group name '${m[1]}'`, start);
        const index = ++this.groupCount;
        this.names.set(m[1], index);
        node = { t: 'group', kind: 'cap', index, name: m[1], body: this.alternation(flags) };
      } else if ((m = /^\?P=([A-Za-z_]\w*)\)/.exec(rest))) {
        this.pos += m[0].length;
        const ref = this.names.get(m[1]);
        if (ref === undefined) this.fail(`unknown group name '${m[1]}'`, start);
        return { t: 'backref', ref, ci: flags.i };
      } else if (rest.startsWith('?#')) {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) this.fail('missing ), unterminated comment', start);
        this.pos = end + 1;
        return null;
      } else if ((m = /^\?(=|!|<=|<!|:|>)/.exec(rest))) {
        this.pos += m[0].length;
        const kinds = { '=': 'ahead', '!': 'nahead', '<=': 'behind', '<!': 'nbehind', ':': 'noncap', '>': 'atomic' } as const;
        node = { t: 'group', kind: kinds[m[1] as keyof typeof kinds], body: this.alternation(flags) };
      } else if ((m = /^\?\((?:(\d+)|([A-Za-z_]\w*))\)/.exec(rest))) {
        this.pos += m[0].length;
        const ref = m[1] !== undefined ? Number(m[1]) : this.names.get(m[2]);
        if (ref === undefined) this.fail(`unknown group name '${m[2]}'`, start);
        const yes = this.sequence(flags);
        let no: Node = { t: 'seq', items: [] };
        if (this.src[this.pos] === '|') {
          this.pos++;
          no = this.sequence(flags);
          if (this.src[this.pos] === '|') this.fail('conditional backref with more than two branches');
        }
        node = { t: 'cond', ref, yes, no };
      } else if ((m = /^\?([aiLmsux]*)(?:-([imsx]+))?:/.exec(rest))) {
        this.pos += m[0].length;
        const scoped: Flags = { ...flags };
        for (const f of m[1]) if (f in scoped) (scoped as unknown as Record<string, boolean>)[f] = true;
        for (const f of m[2] ?? '') (scoped as unknown as Record<string, boolean>)[f] = false;
        node = { t: 'group', kind: 'noncap', body: this.alternation(scoped) };
      } else if (/^\?[aiLmsux]+\)/.test(rest)) {
        this.fail('global flags not at the start of the expression', start);
      } else {
        this.fail('unknown extension ?' + (rest[1] ?? ''), start);
      }
    } else {
      const index = ++this.groupCount;
      node = { t: 'group', kind: 'cap', index, body: this.alternation(flags) };
    }
    if (this.src[this.pos] !== ')') this.fail('missing ), unterminated subpattern', start);
    this.pos++;
    return node;
  }

  private charClass(flags: Flags): Node {
    const start = this.pos;
    this.pos++;
    let negated = false;
    if (this.src[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated character set', start);
      const c = this.src[this.pos];
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (lo.t === 'range' && this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        const hi = this.classAtom();
        if (hi.t !== 'range') this.fail('bad character range', start);
        if (hi.from < lo.from) this.fail('bad character range', start);
        items.push({ t: 'range', from: lo.from, to: hi.from });
      } else items.push(lo);
    }
    return { t: 'class', negated, items, ci: flags.i, ascii: flags.a };
  }

  private classAtom(): ClassItem {
    const c = this.src[this.pos];
    if (c !== '\\') {
      const cp = this.src.codePointAt(this.pos)!;
      this.pos += cp > 0xffff ? 2 : 1;
      return { t: 'range', from: cp, to: cp };
    }
    const e = this.src[this.pos + 1];
    if (e === undefined) this.fail('bad escape (end of pattern)');
    if ('dDwWsS'.includes(e)) {
      this.pos += 2;
      return { t: 'esc', kind: e };
    }
    if (e === 'b') {
      this.pos += 2;
      return { t: 'range', from: 8, to: 8 };
    }
    const cp = this.codeEscape();
    return { t: 'range', from: cp, to: cp };
  }

  /** An escape that stands for one character: \n, \x41, \u0041, \101, \. ... */
  private codeEscape(): number {
    const e = this.src[this.pos + 1];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7, '0': 0 };
    let m: RegExpExecArray | null;
    const rest = this.src.slice(this.pos + 1);
    if ((m = /^x([0-9a-fA-F]{2})/.exec(rest)) || (m = /^u([0-9a-fA-F]{4})/.exec(rest)) || (m = /^U([0-9a-fA-F]{8})/.exec(rest))) {
      this.pos += 1 + m[0].length;
      return parseInt(m[1], 16);
    }
    if ((m = /^0[0-7]{0,2}|^[0-7]{3}/.exec(rest))) {
      this.pos += 1 + m[0].length;
      return parseInt(m[0], 8);
    }
    if (e in simple) {
      this.pos += 2;
      return simple[e];
    }
    if (/[A-Za-z0-9]/.test(e)) this.fail(`bad escape \\${e}`);
    const cp = this.src.codePointAt(this.pos + 1)!;
    this.pos += cp > 0xffff ? 3 : 2;
    return cp;
  }

  private escape(flags: Flags): Node {
    const e = this.src[this.pos + 1];
    if (e === undefined) this.fail('bad escape (end of pattern)');
    if ('dDwWsS'.includes(e)) {
      this.pos += 2;
      return { t: 'esc', kind: e, ascii: flags.a };
    }
    if (e === 'b' || e === 'B') {
      this.pos += 2;
      return { t: 'wordb', negated: e === 'B', ascii: flags.a };
    }
    if (e === 'A' || e === 'Z') {
      this.pos += 2;
      return { t: e };
    }
    const m = /^[1-9]\d?/.exec(this.src.slice(this.pos + 1));
    if (m && !/^[0-7]{3}/.test(this.src.slice(this.pos + 1))) {
      this.pos += 1 + m[0].length;
      const ref = Number(m[0]);
      if (ref > this.groupCount) this.fail(`invalid group reference ${ref}`);
      return { t: 'backref', ref, ci: flags.i };
    }
    return { t: 'chars', cps: [this.codeEscape()], ci: flags.i };
  }
}

// ---------------------------------------------------------------- conditionals and back-references

/** For each group a conditional or back-reference asks about: the copy that took part, or absent. */
type State = ReadonlyMap<number, Node & { t: 'group'; kind: 'cap' }>;

interface Branch {
  node: Node;
  state: State;
}

const EMPTY: Node = { t: 'seq', items: [] };

function sameState(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Collapses neighbouring branches that end in the same state into one alternation (order is kept). */
function mergeAdjacent(branches: Branch[]): Branch[] {
  const out: Branch[] = [];
  for (const b of branches) {
    const last = out[out.length - 1];
    if (last && sameState(last.state, b.state)) {
      const alts = last.node.t === 'alt' && (last as Branch & { merged?: boolean }).merged ? last.node.alts : [last.node];
      const merged: Branch & { merged?: boolean } = { node: { t: 'alt', alts: [...alts, b.node] }, state: last.state, merged: true };
      out[out.length - 1] = merged;
    } else out.push(b);
  }
  return out;
}

class Specializer {
  /** The nodes that hold a conditional, a back-reference or a tracked group: every other one is kept as it is. */
  private readonly involved = new Set<Node>();

  constructor(
    root: Node,
    private readonly tracked: Set<number>,
  ) {
    this.mark(root);
  }

  private mark(node: Node): boolean {
    let involved = false;
    switch (node.t) {
      case 'seq':
        for (const n of node.items) if (this.mark(n)) involved = true;
        break;
      case 'alt':
        for (const n of node.alts) if (this.mark(n)) involved = true;
        break;
      case 'group':
        involved = this.mark(node.body) || (node.kind === 'cap' && this.tracked.has(node.index));
        break;
      case 'repeat':
        involved = this.mark(node.body);
        break;
      case 'cond':
        this.mark(node.yes);
        this.mark(node.no);
        involved = true;
        break;
      case 'backref':
        involved = true;
        break;
      default:
    }
    if (involved) this.involved.add(node);
    return involved;
  }

  expand(node: Node, state: State): Branch[] {
    // Nothing in it can split the pattern or change the state: expanding would copy it, node by node.
    if (!this.involved.has(node)) return [{ node, state }];
    switch (node.t) {
      case 'seq': {
        let branches: { items: Node[]; state: State }[] = [{ items: [], state }];
        for (const item of node.items) {
          const next: { items: Node[]; state: State }[] = [];
          for (const b of branches) for (const r of this.expand(item, b.state)) next.push({ items: [...b.items, r.node], state: r.state });
          branches = next;
          if (branches.length > 64) throw new PyRegexError('pattern too complex: too many conditional combinations');
        }
        return mergeAdjacent(branches.map((b) => ({ node: b.items.length === 1 ? b.items[0] : { t: 'seq', items: b.items }, state: b.state })));
      }
      case 'alt':
        return mergeAdjacent(node.alts.flatMap((a) => this.expand(a, state)));
      case 'group': {
        const inner = this.expand(node.body, state);
        return inner.map((b) => {
          if (node.kind !== 'cap') return { node: { ...node, body: b.node }, state: b.state };
          const copy = { ...node, body: b.node };
          if (!this.tracked.has(node.index)) return { node: copy, state: b.state };
          const s = new Map(b.state);
          s.set(node.index, copy);
          return { node: copy, state: s };
        });
      }
      case 'cond':
        return this.expand(state.has(node.ref) ? node.yes : node.no, state);
      case 'backref': {
        const copy = state.get(node.ref);
        // Python fails a back-reference to a group that did not take part; JavaScript would match "".
        return [{ node: copy ? { ...node, target: copy } : { t: 'group', kind: 'nahead', body: EMPTY }, state }];
      }
      case 'repeat': {
        const body = this.expand(node.body, state);
        if (body.length === 1 && sameState(body[0].state, state)) return [{ node: { ...node, body: body[0].node }, state }];
        if (node.max === 1) {
          const taken = body;
          const skipped: Branch = { node: EMPTY, state };
          return mergeAdjacent(node.lazy ? [skipped, ...taken] : [...taken, skipped]);
        }
        if (body.length === 1) {
          const more = { node: { ...node, body: body[0].node, min: Math.max(1, node.min) } as Node, state: body[0].state };
          if (node.min > 0) return [more];
          const none: Branch = { node: EMPTY, state };
          return node.lazy ? [none, more] : [more, none];
        }
        throw new PyRegexError('a conditional or back-reference depends on a group inside a repetition with alternatives');
      }
      default:
        return [{ node, state }];
    }
  }
}

/**
 * The whole pattern's branches as one node, the items they all begin with (the same nodes: nothing
 * before the first conditional's group is copied) written once in front of the alternation:
 * `^Failed (?:(publickey)|\S+) for (?:A|B|C|D)` rather than the start again in each branch. That is
 * also Python's order of trying: every way of the shared start, then the branches for each.
 */
function sharedStart(alts: Node[]): Node {
  const lists = alts.map((a) => (a.t === 'seq' ? a.items : [a]));
  let k = 0;
  while (lists.every((l) => k < l.length && l[k] === lists[0][k])) k++;
  if (k === 0) return { t: 'alt', alts };
  const rest: Node[] = lists.map((l) => (l.length - k === 1 ? l[k] : { t: 'seq', items: l.slice(k) }));
  return { t: 'seq', items: [...lists[0].slice(0, k), { t: 'group', kind: 'noncap', body: { t: 'alt', alts: rest } }] };
}

function collectRefs(node: Node, into: Set<number>): void {
  switch (node.t) {
    case 'seq':
      node.items.forEach((n) => collectRefs(n, into));
      break;
    case 'alt':
      node.alts.forEach((n) => collectRefs(n, into));
      break;
    case 'group':
    case 'repeat':
      collectRefs(node.body, into);
      break;
    case 'cond':
      into.add(node.ref);
      collectRefs(node.yes, into);
      collectRefs(node.no, into);
      break;
    case 'backref':
      into.add(node.ref);
      break;
    default:
  }
}

// ---------------------------------------------------------------- writing JavaScript

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function literal(cp: number, inClass: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (SYNTAX.has(ch) || (inClass && ch === '-')) return '\\' + ch;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp <= 0xdfff)) {
    return `\\u{${cp.toString(16)}}`;
  }
  return ch;
}

function caseVariants(cp: number): number[] {
  if (cp < 128) return ASCII_CASE_VARIANTS[cp];
  return caseVariantsOf(cp);
}

function caseVariantsOf(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const set = new Set([cp]);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) if ([...v].length === 1) set.add(v.codePointAt(0)!);
  return [...set];
}

/** caseVariants of the ASCII characters, asked for every letter of a case-insensitive pattern (a date's). */
const ASCII_CASE_VARIANTS = Array.from({ length: 128 }, (_, cp) => caseVariantsOf(cp));

function classBody(items: ClassItem[], ci: boolean, asciiOnly: boolean, asciiText: boolean): { positive: string; complements: string[] } {
  let positive = '';
  const complements: string[] = [];
  for (const item of items) {
    if (item.t === 'esc') {
      const set = escSet(item.kind, asciiOnly, asciiText);
      if (set.negated) complements.push(set.body);
      else positive += set.body;
      continue;
    }
    positive += item.from === item.to ? literal(item.from, true) : `${literal(item.from, true)}-${literal(item.to, true)}`;
    if (ci) {
      // Scoped (?i:...): add the other case of ASCII letters by hand; JavaScript's `i` flag is global.
      const lo = Math.max(item.from, 0x41);
      const hi = Math.min(item.to, 0x7a);
      for (const [a, z, shift] of [[0x41, 0x5a, 32], [0x61, 0x7a, -32]] as const) {
        const from = Math.max(lo, a);
        const to = Math.min(hi, z);
        if (from <= to) positive += `${literal(from + shift, true)}-${literal(to + shift, true)}`;
      }
      if (item.from === item.to && item.from > 0x7f) for (const v of caseVariants(item.from)) if (v !== item.from) positive += literal(v, true);
    }
  }
  return { positive, complements };
}

/** An alternation of exactly ^ (or $), \b and \W, in any order: true where a word does not go on. */
function isWordEdge(node: Node): boolean {
  if (node.t !== 'alt' || node.alts.length !== 3) return false;
  const kinds = node.alts.map((a) => {
    if (a.t === 'bol' && !a.multiline) return 'edge';
    if (a.t === 'eol' && !a.multiline) return 'edge';
    if (a.t === 'wordb' && !a.negated && !a.ascii) return 'b';
    if (a.t === 'esc' && a.kind === 'W' && !a.ascii) return 'W';
    return '?';
  });
  return kinds.includes('edge') && kinds.includes('b') && kinds.includes('W');
}

class Writer {
  private groups = 0;
  /** The JS group number a group node was last written as: a split pattern writes a group once per branch. */
  private readonly written = new Map<Node, number>();
  /** Python group index -> the JS group numbers of its copies. */
  readonly copies = new Map<number, number[]>();

  /**
   * `asciiText`: written for texts of ASCII characters only, where Python's Unicode classes (\w \d \s
   * \b) are their ASCII part; the same matches and groups on such a text, and no Unicode property set
   * for V8 to build, which is the slow part of compiling these patterns.
   */
  constructor(
    private readonly globalCi: boolean,
    private readonly asciiText = false,
    /** The Python groups to capture; the others are written as (?:...). Undefined: all of them. */
    private readonly keep?: ReadonlySet<number>,
  ) {}

  /** (?>X) as JavaScript can say it: a lookahead cannot be backtracked into, and the reference consumes its text. */
  private atomic(body: string): string {
    const n = ++this.groups;
    return `(?:(?=(${body}))\\${n})`;
  }

  write(node: Node): string {
    switch (node.t) {
      case 'seq':
        return node.items.map((n) => this.atomOf(n, node.items.length > 1)).join('');
      case 'alt':
        return node.alts.map((n) => this.write(n)).join('|');
      case 'group': {
        if (node.kind === 'cap' && this.keep && !this.keep.has(node.index)) return `(?:${this.write(node.body)})`;
        if (node.kind === 'cap') {
          // Numbered, not named: V8 builds a `groups` object for every match of a named pattern.
          const n = ++this.groups;
          this.written.set(node, n);
          this.copies.set(node.index, [...(this.copies.get(node.index) ?? []), n]);
          return `(${this.write(node.body)})`;
        }
        if (node.kind === 'ahead' && isWordEdge(node.body)) {
          // fail2ban's date bounds (?=^|\b|\W) and (?=\b|\W|$): "not between two word characters".
          // Written out as Unicode \b they cost a lookbehind at every position of a search.
          const w = `[${this.asciiText ? WORD_ASCII : WORD}]`;
          return `(?:(?<!${w})|(?!${w}))`;
        }
        const body = this.write(node.body);
        switch (node.kind) {
          case 'noncap':
            return `(?:${body})`;
          case 'ahead':
            return `(?=${body})`;
          case 'nahead':
            return `(?!${body})`;
          case 'behind':
            return `(?<=${body})`;
          case 'nbehind':
            return `(?<!${body})`;
          case 'atomic':
            // (?>X): a lookahead cannot backtrack into X, and the back-reference consumes what it took.
            return this.atomic(body);
        }
        return body;
      }
      case 'backref': {
        const n = node.target ? this.written.get(node.target) : undefined;
        return n ? `(?:\\${n})` : '(?!)';
      }
      case 'repeat': {
        const body = this.atomOf(node.body, true);
        let q: string;
        if (node.min === 0 && node.max === Infinity) q = '*';
        else if (node.min === 1 && node.max === Infinity) q = '+';
        else if (node.min === 0 && node.max === 1) q = '?';
        else if (node.max === Infinity) q = `{${node.min},}`;
        else if (node.min === node.max) q = `{${node.min}}`;
        else q = `{${node.min},${node.max}}`;
        if (node.lazy) q += '?';
        if (node.possessive) return this.atomic(body + q);
        return body + q;
      }
      case 'chars': {
        let s = '';
        for (const cp of node.cps) {
          if (node.ci && !this.globalCi) {
            const variants = caseVariants(cp);
            if (variants.length > 1) {
              s += `[${variants.map((v) => literal(v, true)).join('')}]`;
              continue;
            }
          }
          s += literal(cp, false);
        }
        return s;
      }
      case 'class': {
        const { positive, complements } = classBody(node.items, node.ci && !this.globalCi, node.ascii, this.asciiText);
        if (!node.negated) {
          const parts = [];
          if (positive || complements.length === 0) parts.push(`[${positive}]`);
          for (const c of complements) parts.push(`[^${c}]`);
          return parts.length === 1 ? parts[0] : `(?:${parts.join('|')})`;
        }
        if (complements.length === 0) return positive ? `[^${positive}]` : '[\\s\\S]';
        // [^A\W] = not in A and a word character.
        const ahead = complements.slice(1).map((c) => `(?=[${c}])`).join('');
        return `${positive ? `(?![${positive}])` : ''}${ahead}[${complements[0]}]`;
      }
      case 'any':
        return node.dotall ? '[\\s\\S]' : '[^\\n]';
      case 'bol':
        return node.multiline ? '(?<![^\\n])' : '^';
      case 'eol':
        return node.multiline ? '(?![^\\n])' : '(?=\\n?$)';
      case 'A':
        return '^';
      case 'Z':
        return '$';
      case 'wordb': {
        const w = node.ascii || this.asciiText ? `[${WORD_ASCII}]` : `[${WORD}]`;
        return node.negated ? `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))` : `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
      }
      case 'esc': {
        const set = escSet(node.kind, node.ascii, this.asciiText);
        if (!node.ascii && !this.asciiText && node.kind === 'd') return '\\p{Nd}';
        if (!node.ascii && !this.asciiText && node.kind === 'D') return '\\P{Nd}';
        return set.negated ? `[^${set.body}]` : `[${set.body}]`;
      }
      case 'cond':
        throw new PyRegexError('internal: conditional left after specialization');
    }
  }

  /** A node written so that a quantifier or a neighbour cannot change its meaning. */
  private atomOf(node: Node, wrap: boolean): string {
    const s = this.write(node);
    if (node.t === 'alt' || (node.t === 'seq' && (wrap || node.items.length !== 1))) return node.t === 'seq' && node.items.length === 0 ? '(?:)' : `(?:${s})`;
    return s;
  }
}

/** A compiled pattern: the RegExp and how to read Python's groups back out of a match. */
export interface PyRegex {
  /** The pattern for any text; compiled on first use. */
  readonly re: RegExp;
  /**
   * The pattern for a text of ASCII characters only (see isAsciiText): the same matches and groups as
   * `re` on such a text, with Python's Unicode classes written as their ASCII part. It is much cheaper
   * to compile, and compiling it is what checks the pattern.
   */
  readonly asciiRe: RegExp;
  /** The source of `re` (written on first use). */
  readonly source: string;
  /** Python group name -> index. */
  names: ReadonlyMap<string, number>;
  groupCount: number;
  /** Python group index -> the JS group numbers of its copies. */
  copies: ReadonlyMap<number, number[]>;
  /**
   * For a pattern anchored at the start of the text: every character a match can begin with. A text
   * that starts with another cannot match, and the engine need not be run (null: no such shortcut).
   */
  firstChars: ReadonlySet<number> | null;
  /**
   * The longest piece of literal text that every match holds (null: none of 4 characters or more). A
   * text without it cannot match, and a search for it is much cheaper than the engine failing.
   */
  requiredText: string | null;
}

export interface CompileOptions {
  multiline?: boolean;
  ignoreCase?: boolean;
  /** Record group positions (the `d` flag); needed to cut a date out of a line. */
  indices?: boolean;
  /** Search from lastIndex (the `g` flag). */
  global?: boolean;
}

/** Compiles a Python `re` pattern. Throws PyRegexError with the reason and position. */
export function compilePython(pattern: string, options: CompileOptions = {}): PyRegex {
  return parsePython(pattern, options).compile();
}

/** A Python pattern parsed, from which JavaScript patterns are written (parsePython). */
export interface ParsedPython {
  /**
   * The pattern, compiled. `capture`: the Python groups to capture (with those a back-reference
   * needs); the others are written as (?:...) and have no `copies`. Such a pattern matches exactly
   * what the whole one matches, but exec() builds no string for the groups left out, which is most of
   * its cost on a short match with many groups (a date). Throws PyRegexError as compilePython.
   */
  compile(capture?: readonly number[]): PyRegex;
  /** Python group name -> index, as in the compiled PyRegex. */
  readonly names: ReadonlyMap<string, number>;
}

/** Parses a Python `re` pattern, to compile it (whole, or with fewer groups) later. Throws PyRegexError. */
export function parsePython(pattern: string, options: CompileOptions = {}): ParsedPython {
  const parser = new Parser(pattern, { m: !!options.multiline, i: !!options.ignoreCase });
  const tree = parser.parse();
  const tracked = new Set<number>();
  collectRefs(tree, tracked);
  // Without a conditional or a back-reference there is nothing to specialize: the tree is its own
  // single branch (expanding it would copy every node, a tenth of compiling a filter).
  let root = tree;
  if (tracked.size > 0) {
    const branches = new Specializer(tree, tracked).expand(tree, new Map());
    root = branches.length === 1 ? branches[0].node : sharedStart(branches.map((b) => b.node));
  }
  // Case-insensitivity is written into the pattern ([aA]): V8's `iu` mode folds every character and
  // is several times slower. Only a back-reference needs the flag, to compare without case.
  const globalCi = parser.flags.i && tracked.size > 0;
  let flags = 'u';
  if (globalCi) flags += 'i';
  if (options.indices) flags += 'd';
  if (options.global) flags += 'g';
  let firstChars: Set<number> | null | undefined;
  let requiredText: string | null | undefined;
  return {
    names: parser.names,
    compile(capture?: readonly number[]): PyRegex {
      // Capturing a group changes no match in JavaScript, except for what a back-reference refers to.
      const keep = capture ? new Set([...tracked, ...capture]) : undefined;
      // The ASCII form is written and compiled at once (it checks the pattern); the Unicode form is
      // written when a line with other characters first asks for it: most logs have none.
      const writer = new Writer(globalCi, true, keep);
      const asciiSource = writer.write(root);
      let source: string | null = null;
      const unicodeSource = () => (source ??= new Writer(globalCi, false, keep).write(root));
      let asciiRe: RegExp;
      try {
        asciiRe = new RegExp(asciiSource, flags);
      } catch (err) {
        throw new PyRegexError(`cannot be written as a JavaScript pattern: ${(err as Error).message.split(': ').pop()}`);
      }
      let re: RegExp | null = null;
      return {
        get re(): RegExp {
          return (re ??= unicodeSource() === asciiSource ? asciiRe : new RegExp(unicodeSource(), flags));
        },
        asciiRe,
        get source(): string {
          return unicodeSource();
        },
        names: parser.names,
        groupCount: parser.groupCount,
        copies: writer.copies,
        // Asked by failregexes only, not by date templates.
        get firstChars(): ReadonlySet<number> | null {
          return firstChars === undefined ? (firstChars = anchoredFirstChars(root, globalCi)) : firstChars;
        },
        get requiredText(): string | null {
          return requiredText === undefined ? (requiredText = longestRequiredText(root, globalCi)) : requiredText;
        },
      };
    },
  };
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Whether a text has ASCII characters only, so that a PyRegex's `asciiRe` may search it. */
export function isAsciiText(text: string): boolean {
  return ASCII_ONLY.test(text);
}

/** The value of Python group `index` in a JS match, or undefined when it did not take part. */
export function groupValue(rx: PyRegex, m: RegExpExecArray, index: number): string | undefined {
  const copies = rx.copies.get(index);
  return copies ? copyValue(m, copies) : undefined;
}

/** The value of the first of a Python group's copies (its JS groups, as in PyRegex.copies) that took part. */
export function copyValue(m: RegExpExecArray, copies: readonly number[]): string | undefined {
  for (let i = 0; i < copies.length; i++) {
    const v = m[copies[i]];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Start and end of Python group `index` (needs the `indices` option). */
export function groupSpan(rx: PyRegex, m: RegExpExecArray, index: number): [number, number] | undefined {
  const indices = (m as RegExpExecArray & { indices?: ([number, number] | undefined)[] }).indices;
  for (const n of rx.copies.get(index) ?? []) {
    const span = indices?.[n];
    if (span) return span;
  }
  return undefined;
}

/** Python's groupdict(): every named group, undefined when it did not take part. */
export function groupDict(rx: PyRegex, m: RegExpExecArray): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, index] of rx.names) out[name] = groupValue(rx, m, index);
  return out;
}

// ---------------------------------------------------------------- first characters of anchored patterns

const ANY = null;
type First = { chars: Set<number> | typeof ANY; nullable: boolean };

function union(a: Set<number> | null, b: Set<number> | null): Set<number> | null {
  if (a === null || b === null) return null;
  return new Set([...a, ...b]);
}

/** The characters a node's match can start with (a superset), and whether it can match empty. */
function firstOf(node: Node, ci: boolean): First {
  switch (node.t) {
    case 'chars':
      return { chars: new Set(node.ci || ci ? caseVariants(node.cps[0]) : [node.cps[0]]), nullable: false };
    case 'class': {
      if (node.negated || node.ci || ci || node.items.some((i) => i.t === 'esc')) return { chars: ANY, nullable: false };
      const chars = new Set<number>();
      for (const i of node.items) {
        if (i.t !== 'range' || i.to - i.from > 128) return { chars: ANY, nullable: false };
        for (let c = i.from; c <= i.to; c++) chars.add(c);
      }
      return { chars, nullable: false };
    }
    case 'any':
    case 'esc':
    case 'backref':
      return { chars: ANY, nullable: node.t === 'backref' };
    case 'bol':
    case 'eol':
    case 'A':
    case 'Z':
    case 'wordb':
      return { chars: new Set(), nullable: true };
    case 'group':
      if (node.kind === 'ahead' || node.kind === 'nahead' || node.kind === 'behind' || node.kind === 'nbehind') return { chars: new Set(), nullable: true };
      return firstOf(node.body, ci);
    case 'alt': {
      let chars: Set<number> | null = new Set();
      let nullable = false;
      for (const a of node.alts) {
        const f = firstOf(a, ci);
        chars = union(chars, f.chars);
        nullable ||= f.nullable;
      }
      return { chars, nullable };
    }
    case 'repeat': {
      const f = firstOf(node.body, ci);
      return { chars: f.chars, nullable: f.nullable || node.min === 0 };
    }
    case 'seq': {
      let chars: Set<number> | null = new Set();
      for (const item of node.items) {
        const f = firstOf(item, ci);
        chars = union(chars, f.chars);
        if (!f.nullable) return { chars, nullable: false };
      }
      return { chars, nullable: true };
    }
    case 'cond':
      return { chars: ANY, nullable: true };
  }
}

/** ^ (not multi-line) or \A: the start of the text alone. */
function isTextStart(node: Node | undefined): boolean {
  return node !== undefined && ((node.t === 'bol' && !node.multiline) || node.t === 'A');
}

/** First characters of a pattern whose every branch starts with ^ (not multi-line) or \A. */
function anchoredFirstChars(root: Node, ci: boolean): Set<number> | null {
  const branches = root.t === 'alt' ? root.alts : [root];
  let chars: Set<number> | null = new Set();
  for (const b of branches) {
    const items = b.t === 'seq' ? b.items : [b];
    if (!isTextStart(items[0])) return null;
    const f = firstOf({ t: 'seq', items: items.slice(1) }, ci);
    if (f.nullable) return null;
    chars = union(chars, f.chars);
    if (chars === null) return null;
  }
  return chars;
}

// ---------------------------------------------------------------- literal text every match holds

/** The text of literal characters matched with case (null: not such a node). */
function caseText(node: Node, ci: boolean): string | null {
  return node.t === 'chars' && !node.ci && !ci ? String.fromCodePoint(...node.cps) : null;
}

/** A group whose body a match goes through, consuming it (not a lookaround). */
function matchesBody(node: Node & { t: 'group' }): boolean {
  return node.kind === 'cap' || node.kind === 'noncap' || node.kind === 'atomic';
}

/**
 * Pieces of literal text that every match of `node` holds (a subset: what is easy to be sure of).
 * Literal characters in a row make one piece; an alternation holds what all its alternatives hold;
 * a repetition what its body holds if it must be taken; lookarounds, classes and conditionals none.
 * Text matched without case holds no piece.
 */
function requiredPieces(node: Node, ci: boolean): string[] {
  switch (node.t) {
    case 'chars': {
      const text = caseText(node, ci);
      return text === null ? [] : [text];
    }
    case 'seq': {
      const out: string[] = [];
      let run = '';
      for (const item of node.items) {
        const text = caseText(item, ci);
        if (text !== null) {
          run += text;
          continue;
        }
        if (run) out.push(run);
        run = '';
        for (const piece of requiredPieces(item, ci)) out.push(piece);
      }
      if (run) out.push(run);
      return out;
    }
    case 'alt': {
      let common = requiredPieces(node.alts[0], ci);
      for (let i = 1; i < node.alts.length && common.length > 0; i++) {
        const pieces = new Set(requiredPieces(node.alts[i], ci));
        common = common.filter((p) => pieces.has(p));
      }
      return common;
    }
    case 'group':
      return matchesBody(node) ? requiredPieces(node.body, ci) : [];
    case 'repeat':
      return node.min >= 1 ? requiredPieces(node.body, ci) : [];
    default:
      return [];
  }
}

/**
 * Literal text every match holds, for a search before the pattern: the longest required piece,
 * without white space at its ends (a space stands at many places of a log line). None when that piece
 * is in the literal text the pattern begins with, right after ^: the engine then fails on a line
 * without it at once, at no more cost than the search.
 */
function longestRequiredText(root: Node, ci: boolean): string | null {
  let best: string | null = null;
  for (const whole of requiredPieces(root, ci)) {
    const piece = whole.trim();
    if (piece.length >= 4 && (best === null || piece.length > best.length)) best = piece;
  }
  return best !== null && leadingText(root, ci).includes(best) ? null : best;
}

/** The literal text right after the ^ (not multi-line) a pattern begins with; '' when none. */
function leadingText(root: Node, ci: boolean): string {
  const items = root.t === 'seq' ? root.items : [root];
  return isTextStart(items[0]) ? leadingOf(items.slice(1), ci) : '';
}

/** The literal text every match of `items`, one after the other, begins with ('' when none is certain). */
function leadingOf(items: readonly Node[], ci: boolean): string {
  let text = '';
  for (const item of items) {
    const piece = caseText(item, ci);
    if (piece !== null) text += piece;
    else if (item.t === 'group' && matchesBody(item)) {
      // What the group begins with, and no further: the group may end there.
      return text + leadingOf(item.body.t === 'seq' ? item.body.items : [item.body], ci);
    } else break;
  }
  return text;
}
