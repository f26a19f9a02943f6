/** Loads a fail2ban filter: includes, .local overrides, [Init] options, %(x)s and <x> interpolation. */
import { existsSync, readFileSync, readdirSync } from 'fs';
import { basename, dirname, join, resolve } from 'path';
import { FilterFileError, parseIni } from './ini';

export interface FilterDefinition {
  /** Where it came from: a path, a built-in name or "inline". */
  source: string;
  prefregex?: string;
  failregex: string[];
  ignoreregex: string[];
  datepattern?: string;
  maxlines: number;
  journalmatch?: string;
  /** `usedns`: "no" leaves host names out of <HOST>. */
  usedns?: string;
  /** Where a pattern was written ("file: line N"), to name it in an error. */
  locate?: (pattern: string, key: string) => string | undefined;
}

type Sections = Map<string, Map<string, string>>;

/** Options as written in a jail: "mode=aggressive, publickey=any". */
export function parseFilterOptions(text: string | undefined): Map<string, string> {
  const options = new Map<string, string>();
  if (!text) return options;
  const re = /\s*([\w.-]+)\s*=\s*("[^"]*"|'[^']*'|[^,]*)\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length && (m = re.exec(text))) {
    if (m[0] === '') break;
    let value = m[2].trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    options.set(m[1], value);
    pos = re.lastIndex;
  }
  if (text.slice(pos).trim() !== '') throw new Error(`filter options: cannot read "${text.slice(pos).trim()}"; write them as name=value, name=value`);
  return options;
}

/** Splits "sshd[mode=aggressive]" into name and options. */
export function splitFilterSpec(spec: string): { name: string; options: Map<string, string> } {
  const m = /^\s*([^[\]\s]+)\s*(?:\[(.*)\])?\s*$/.exec(spec);
  if (!m) throw new Error(`filter "${spec}": expected NAME or NAME[key=value, ...]`);
  return { name: m[1], options: parseFilterOptions(m[2]) };
}

/** Merges sections; a value replaced is kept as KNOWN/<section>, for `%(known/name)s`. */
function merge(into: Sections, from: Sections): void {
  for (const [name, values] of from) {
    const target = into.get(name) ?? new Map<string, string>();
    if (into.has(name) && !name.startsWith('KNOWN/')) {
      const known = into.get(`KNOWN/${name}`) ?? new Map<string, string>();
      for (const k of values.keys()) if (target.has(k)) known.set(k, target.get(k)!);
      if (known.size) into.set(`KNOWN/${name}`, known);
    }
    for (const [k, v] of values) target.set(k, v);
    into.set(name, target);
  }
}

/** A line of a file read for a filter, kept to say where a pattern was written. */
type SourceLine = { file: string; line: number; text: string };

/**
 * Reads a filter (or action) file: NAME.conf, NAME.d/*.conf, NAME.local, NAME.d/*.local, each with its
 * includes. `lines`, when given, receives every line read.
 */
export function readFilter(file: string, lines?: SourceLine[]): Sections {
  const base = file.replace(/\.(conf|local)$/, '');
  const candidates = [`${base}.conf`, ...dropIns(`${base}.d`, '.conf'), `${base}.local`, ...dropIns(`${base}.d`, '.local')];
  const found = candidates.filter((p) => existsSync(p));
  if (found.length === 0) throw new FilterFileError(file, null, 'not found');
  const result: Sections = new Map();
  for (const path of found) merge(result, readWithIncludes(path, [], lines));
  return result;
}

/**
 * Reads one file with its [INCLUDES]: `before` files first, then the file, then `after` files.
 * An included NAME.conf brings its NAME.local along; a missing include is skipped, as fail2ban does.
 */
function readWithIncludes(path: string, chain: string[], lines?: SourceLine[]): Sections {
  const abs = resolve(path);
  if (chain.includes(abs)) throw new FilterFileError(path, null, `includes itself through ${chain.map((c) => basename(c)).join(' -> ')} (an include loop)`);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
    if (lines) text.split(/\r?\n/).forEach((t, i) => lines.push({ file: path, line: i + 1, text: t }));
  } catch (err) {
    throw new FilterFileError(path, null, (err as Error).message);
  }
  const ini = parseIni(text, path);
  const result: Sections = new Map();
  const includes = ini.sections.get('INCLUDES');
  const include = (key: string) => {
    for (const name of (includes?.get(key) ?? '').split(/\s+/).filter(Boolean)) {
      const target = resolve(dirname(abs), name);
      const withLocal = target.endsWith('.conf') ? [target, target.replace(/\.conf$/, '.local')] : [target];
      for (const p of withLocal) {
        if (p !== abs && existsSync(p)) merge(result, readWithIncludes(p, [...chain, abs], lines));
      }
    }
  };
  include('before');
  const own = new Map(ini.sections);
  own.delete('INCLUDES');
  merge(result, own);
  include('after');
  return result;
}

function dropIns(dir: string, ext: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(ext)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

const KNOWN_TAGS = /^(?:HOST|ADDR|IP4|IP6|DNS|CIDR|SUBNET|SKIPLINES|\/?F-[\w/]+)$/;

/**
 * Resolves every value of [Definition] with fail2ban's two interpolations:
 * `%(name)s` (ConfigParser, also `%(section/name)s`) and `<name>` (fail2ban's own, tags left alone).
 */
function interpolate(sections: Sections, options: Map<string, string>, file: string): Map<string, string> {
  const defaults = sections.get('DEFAULT') ?? new Map<string, string>();
  const init = sections.get('Init') ?? new Map<string, string>();
  const definition = sections.get('Definition') ?? new Map<string, string>();
  // [Init] and jail options override [Definition] values of the same name, as fail2ban does.
  const scope = new Map<string, string>([...defaults, ...definition, ...init, ...options]);

  /** A value by name as seen from a section: `%(x)s` is resolved in the section its value came from. */
  const lookup = (name: string, section = 'Definition'): { value: string; section: string } | undefined => {
    const slash = name.indexOf('/');
    const found = (value: string | undefined, from: string) => (value === undefined ? undefined : { value, section: from });
    if (slash > 0) {
      const sec = name.slice(0, slash);
      const key = name.slice(slash + 1);
      // known/x: the value before this file overrode it; else [DEFAULT]'s, as fail2ban falls back.
      if (sec.toLowerCase() === 'known') return found(sections.get(`KNOWN/${section}`)?.get(key) ?? defaults.get(key), section) ?? lookup(key, section);
      return found(sections.get(sec)?.get(key), sec) ?? found(defaults.get(key), sec);
    }
    if (section === 'Definition') return found(scope.get(name), section);
    return found(sections.get(section)?.get(name) ?? defaults.get(name), section);
  };

  const resolveValue = (value: string, depth: number, key: string, section = 'Definition'): string => {
    if (depth > 30) throw new FilterFileError(file, null, `"${key}" refers to itself (interpolation deeper than 30)`);
    // ConfigParser's interpolation: %(name)s is the value of name, %% is a literal %.
    let out = value.replace(/%(?:%|\(([^)]+)\)s)/g, (_all, name: string | undefined) => {
      if (name === undefined) return '%';
      const v = lookup(name, section);
      if (v === undefined) throw new FilterFileError(file, null, `"${key}" refers to %(${name})s, which is not defined`);
      return resolveValue(v.value, depth + 1, name, v.section);
    });
    // <name> (fail2ban's own substitution), innermost first, so "<cmnfailed-<publickey>>" works.
    for (let i = 0; i < 30; i++) {
      let changed = false;
      out = out.replace(/<([^<>\s]+)>/g, (all, name: string) => {
        if (KNOWN_TAGS.test(name)) return all;
        const v = lookup(name);
        if (v === undefined) return all;
        changed = true;
        return resolveValue(v.value, depth + 1, name, v.section);
      });
      if (!changed) break;
    }
    return out;
  };

  const resolved = new Map<string, string>();
  for (const key of ['prefregex', 'failregex', 'ignoreregex', 'datepattern', 'maxlines', 'journalmatch', 'usedns']) {
    const v = lookup(key);
    if (v !== undefined) resolved.set(key, resolveValue(v.value, 0, key, v.section));
  }
  // A <name> left over means an option chose a value the filter does not have (mode=agressive).
  for (const key of ['prefregex', 'failregex', 'ignoreregex']) {
    const left = /(?<!\?P)<([a-z][a-z0-9]*_)([\w-]+)>/i.exec(resolved.get(key) ?? '');
    if (!left || KNOWN_TAGS.test(left[1] + left[2])) continue;
    const option = left[1].slice(0, -1);
    // Only when the filter has other <option_value> entries: then the value is what is wrong.
    const choices = [...scope.keys()].filter((k) => k.startsWith(left[1]) && k !== left[1] + left[2]).map((k) => k.slice(left[1].length));
    if (choices.length && options.has(option)) {
      throw new FilterFileError(file, null, `${key} refers to <${left[1]}${left[2]}>, which is not defined: ${option}=${left[2]} is not one of ${choices.join(', ')}`);
    }
  }
  return resolved;
}

/** The non-empty, trimmed lines of a multi-line value. */
export function linesOf(value: string | undefined): string[] {
  return (value ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

function toDefinition(values: Map<string, string>, source: string): FilterDefinition {
  const maxlines = Number(values.get('maxlines') ?? 1);
  if (!Number.isInteger(maxlines) || maxlines < 1) throw new FilterFileError(source, null, `maxlines must be a whole number of at least 1 (got "${values.get('maxlines')}")`);
  const prefregex = values.get('prefregex')?.trim();
  return {
    source,
    prefregex: prefregex || undefined,
    failregex: linesOf(values.get('failregex')),
    ignoreregex: linesOf(values.get('ignoreregex')),
    datepattern: values.get('datepattern')?.trim() || undefined,
    maxlines,
    journalmatch: values.get('journalmatch')?.trim() || undefined,
    usedns: values.get('usedns')?.trim() || undefined,
  };
}

/** Loads a filter file (`.../filter.d/NAME.conf`) with its includes and local overrides. */
export function loadFilterFile(path: string, options: Map<string, string> = new Map()): FilterDefinition {
  const lines: SourceLine[] = [];
  const sections = readFilter(path, lines);
  if (!sections.has('Definition')) throw new FilterFileError(path, null, 'has no [Definition] section');
  const def = toDefinition(interpolate(sections, options, path), path);
  if (def.failregex.length === 0) throw new FilterFileError(path, null, 'has no failregex');
  def.locate = (pattern, key) => {
    // The line that holds the pattern as written, else the line that sets the key.
    const bare = (t: string) => t.replace(new RegExp(`^\\s*${key}\\s*[=:]`), '').trim();
    const hit = lines.find((l) => bare(l.text) === pattern.trim()) ?? [...lines].reverse().find((l) => new RegExp(`^${key}\\s*[=:]`).test(l.text));
    return hit ? `filter file ${hit.file}: line ${hit.line}` : `filter file ${path}`;
  };
  return def;
}

/** Directory of the built-in filters shipped with the package. */
export const BUILTIN_FILTER_DIR = resolve(__dirname, '..', '..', '..', 'filters');

/** Names of the built-in filters. */
export function builtinFilterNames(dir = BUILTIN_FILTER_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.conf') && f !== 'common.conf')
      .map((f) => basename(f, '.conf'))
      .sort();
  } catch {
    return [];
  }
}

/** Loads a built-in filter by name ("sshd") with options. */
export function loadBuiltinFilter(name: string, options: Map<string, string> = new Map(), dir = BUILTIN_FILTER_DIR): FilterDefinition {
  if (!/^[\w.-]+$/.test(name) || !builtinFilterNames(dir).includes(name)) {
    const known = builtinFilterNames(dir).join(', ');
    throw new Error(`no built-in filter named "${name}"; built-in filters: ${known}`);
  }
  const def = loadFilterFile(join(dir, `${name}.conf`), options);
  return { ...def, source: `builtin:${name}` };
}

/** An inline filter from failregex/ignoreregex text, one pattern per line. */
export function inlineFilter(parts: { failregex?: string; ignoreregex?: string; prefregex?: string; datepattern?: string; maxlines?: string | number }): FilterDefinition {
  const values = new Map<string, string>();
  if (parts.failregex) values.set('failregex', parts.failregex);
  if (parts.ignoreregex) values.set('ignoreregex', parts.ignoreregex);
  if (parts.prefregex) values.set('prefregex', parts.prefregex);
  if (parts.datepattern) values.set('datepattern', parts.datepattern);
  if (parts.maxlines !== undefined && String(parts.maxlines).trim() !== '') values.set('maxlines', String(parts.maxlines));
  const def = toDefinition(values, 'inline');
  if (def.failregex.length === 0) throw new Error('inline filter has no failregex: give at least one pattern with <HOST>');
  return def;
}
