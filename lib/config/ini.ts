/**
 * fail2ban's configuration files, as its ConfigReader reads them: the INI dialect (sections, multi-line
 * values, `;` inline comments), NAME.conf / NAME.d / NAME.local layering, [INCLUDES] before/after, and
 * ConfigParser's `%(name)s` interpolation with fail2ban's `%(section/name)s` and `%(known/name)s`.
 * One reader for filter files and jail files alike.
 */
import { existsSync, readFileSync, readdirSync } from 'fs';
import { basename, dirname, join, resolve } from 'path';

export type Sections = Map<string, Map<string, string>>;

export interface IniFile {
  path: string;
  sections: Sections;
}

/** A configuration file that cannot be used: "<kind> <file>: line N: <what to fix>". */
export class ConfigFileError extends Error {
  constructor(readonly file: string, readonly lineNo: number | null, readonly reason: string, kind = '') {
    super(`${kind ? `${kind} ` : ''}${file}${lineNo ? `: line ${lineNo}` : ''}: ${reason}`);
  }
}

/** A filter (or action) file that cannot be used. */
export class FilterFileError extends ConfigFileError {
  constructor(file: string, lineNo: number | null, reason: string) {
    super(file, lineNo, reason, 'filter file');
  }
}

/** Which error a file's problems are reported as. */
export type ErrorKind = (file: string, lineNo: number | null, reason: string) => ConfigFileError;
export const filterFileError: ErrorKind = (file, lineNo, reason) => new FilterFileError(file, lineNo, reason);
export const configFileError: ErrorKind = (file, lineNo, reason) => new ConfigFileError(file, lineNo, reason);

const SECTION = /^\[([^\]]+)\]\s*$/;
const OPTION = /^([^=:\s][^=:]*?)\s*[=:]\s?(.*)$/;

/** Parses INI text as Python's ConfigParser does for fail2ban (continuation lines join with "\n"). */
export function parseIni(text: string, path: string, error: ErrorKind = filterFileError): IniFile {
  const sections: Sections = new Map();
  let current: Map<string, string> | null = null;
  let lastKey: string | null = null;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') {
      // A blank line or a comment ends nothing: ConfigParser keeps multi-line values across comments.
      return;
    }
    if (/^\s/.test(raw) && lastKey && current) {
      const prev = current.get(lastKey) ?? '';
      current.set(lastKey, prev === '' ? stripInline(raw.trim()) : `${prev}\n${stripInline(raw.trim())}`);
      return;
    }
    const section = SECTION.exec(raw.trim());
    if (section) {
      const name = section[1].trim();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      lastKey = null;
      return;
    }
    if (/^\s*\[/.test(raw)) throw error(path, lineNo, `cannot read "${raw.trim()}": a [section] header must end with "]"`);
    const option = OPTION.exec(raw);
    if (!option) throw error(path, lineNo, `cannot read "${raw.trim()}": expected "name = value" or [section]`);
    if (!current) throw error(path, lineNo, `"${option[1]}" stands before any [section]`);
    lastKey = option[1].trim();
    current.set(lastKey, stripInline(option[2].trim()));
  });
  return { path, sections };
}

/** ConfigParser's inline comments: a `;` preceded by white space starts a comment. */
function stripInline(value: string): string {
  const m = /\s;/.exec(value);
  return (m ? value.slice(0, m.index) : value).trimEnd();
}

/** Merges sections; a value replaced is kept as KNOWN/<section>, for `%(known/name)s`. */
export function mergeSections(into: Sections, from: Sections): void {
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

/** A line of a file read, kept to say where something was written. */
export type SourceLine = { file: string; line: number; text: string };

export interface ReadOptions {
  /** Receives every line read. */
  lines?: SourceLine[];
  /** Called with each top-level file (NAME.conf, NAME.d/*.conf, ...) and the sections it (with its includes) sets. */
  onFile?: (path: string, sections: Sections) => void;
  error?: ErrorKind;
  /** Texts to read instead of the files at these absolute paths (they need not exist). */
  texts?: Map<string, string>;
}

/** The files fail2ban reads for NAME, in order: NAME.conf, NAME.d/*.conf, NAME.local, NAME.d/*.local. */
export function layeredFiles(file: string, texts?: Map<string, string>): string[] {
  const base = file.replace(/\.(conf|local)$/, '');
  return [`${base}.conf`, ...dropIns(`${base}.d`, '.conf'), `${base}.local`, ...dropIns(`${base}.d`, '.local')].filter((p) => texts?.has(resolve(p)) || existsSync(p));
}

/** Reads NAME's layered files, each with its includes, later values winning. */
export function readLayered(file: string, options: ReadOptions = {}): Sections {
  const error = options.error ?? filterFileError;
  const found = layeredFiles(file, options.texts);
  if (found.length === 0) throw error(file, null, 'not found');
  const result: Sections = new Map();
  for (const path of found) {
    const sections = readWithIncludes(path, [], { ...options, error });
    options.onFile?.(path, sections);
    mergeSections(result, sections);
  }
  return result;
}

/**
 * Reads one file with its [INCLUDES]: `before` files first, then the file, then `after` files.
 * An included NAME.conf brings its NAME.local along; a missing include is skipped, as fail2ban does.
 */
function readWithIncludes(path: string, chain: string[], options: ReadOptions & { error: ErrorKind }): Sections {
  const { lines, error } = options;
  const abs = resolve(path);
  if (chain.includes(abs)) throw error(path, null, `includes itself through ${chain.map((c) => basename(c)).join(' -> ')} (an include loop)`);
  let text: string;
  try {
    text = options.texts?.get(abs) ?? readFileSync(abs, 'utf8');
    if (lines) text.split(/\r?\n/).forEach((t, i) => lines.push({ file: path, line: i + 1, text: t }));
  } catch (err) {
    throw error(path, null, (err as Error).message);
  }
  const ini = parseIni(text, path, error);
  const result: Sections = new Map();
  const includes = ini.sections.get('INCLUDES');
  const include = (key: string) => {
    for (const name of (includes?.get(key) ?? '').split(/\s+/).filter(Boolean)) {
      const target = resolve(dirname(abs), name);
      const withLocal = target.endsWith('.conf') ? [target, target.replace(/\.conf$/, '.local')] : [target];
      for (const p of withLocal) {
        if (p !== abs && existsSync(p)) mergeSections(result, readWithIncludes(p, [...chain, abs], options));
      }
    }
  };
  include('before');
  const own = new Map(ini.sections);
  own.delete('INCLUDES');
  mergeSections(result, own);
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

/** A value found for a `%(name)s`, and the section whose view resolves the references inside it. */
export type Reference = { value: string; section: string };

/**
 * ConfigParser's interpolation: `%(name)s` is the value `lookup` gives for name (seen from `section`),
 * itself interpolated; `%%` is a literal `%`. A reference that comes back to itself is a loop, named with
 * its path ("action -> action_ -> action"); `fail` turns a reason into the error to throw.
 */
export function expandReferences(
  value: string,
  section: string,
  lookup: (name: string, section: string) => Reference | undefined,
  fail: (reason: string) => Error,
  trail: string[],
): string {
  return value.replace(/%(?:%|\(([^)]+)\)s)/g, (_all, name: string | undefined) => {
    if (name === undefined) return '%';
    const at = trail.indexOf(name);
    if (at >= 0 || trail.length > 30) throw fail(`interpolation loop: ${[...trail.slice(Math.max(at, 0)), name].join(' -> ')}; make one of these values plain`);
    const v = lookup(name, section);
    if (v === undefined) throw fail(`"${trail[trail.length - 1] ?? name}" refers to %(${name})s, which is not defined`);
    return expandReferences(v.value, v.section, lookup, fail, [...trail, name]);
  });
}
