/** Loads a fail2ban filter: includes, .local overrides, [Init] options, %(x)s and <x> interpolation. */
import { readdirSync } from 'fs';
import { basename, join, resolve } from 'path';
import { expandReferences, FilterFileError, readLayered, type Sections, type SourceLine } from '../config/ini';

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

/**
 * Reads a filter (or action) file: NAME.conf, NAME.d/*.conf, NAME.local, NAME.d/*.local, each with its
 * includes. `lines`, when given, receives every line read.
 */
export function readFilter(file: string, lines?: SourceLine[]): Sections {
  return readLayered(file, { lines });
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
    let out = expandReferences(value, section, lookup, (reason) => new FilterFileError(file, null, reason), [key]);
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

/** A filter's name as failures and reports give it: its source, a built-in one without "builtin:". */
export function filterLabel(definition: FilterDefinition): string {
  return definition.source.replace(/^builtin:/, '');
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
