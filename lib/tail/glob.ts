/** Expands a path whose last component may hold `*`, `?` or `[...]` wildcards. */
import { readdirSync, statSync } from 'fs';
import { basename, dirname, join, resolve } from 'path';

export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

const compiled = new Map<string, RegExp>();

function patternToRegExp(pattern: string): RegExp {
  const known = compiled.get(pattern);
  if (known) return known;
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[' || ch === ']') re += ch;
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  const made = new RegExp(`^${re}$`);
  compiled.set(pattern, made);
  return made;
}

/** True when `file`'s name matches the last component of glob `pattern` (directories are not compared). */
export function matchesGlob(pattern: string, file: string): boolean {
  return patternToRegExp(basename(pattern)).test(basename(file));
}

/** The regular files that match `path` now (a plain path is returned as it is, existing or not). */
export function expandPath(path: string): string[] {
  const abs = resolve(path);
  if (!hasWildcard(abs)) return [abs];
  const dir = dirname(abs);
  if (hasWildcard(dir)) throw new Error(`path "${path}": wildcards are allowed in the file name only, not in directories`);
  const re = patternToRegExp(basename(abs));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n))
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}
