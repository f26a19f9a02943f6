/** What the editor shows about the built-in filters: name, what each reads, and its options. */
import { readFileSync } from 'fs';
import { join } from 'path';
import { BUILTIN_FILTER_DIR, builtinFilterNames } from './filter/load';

export interface BuiltinFilterInfo {
  /** The name to give as filterName ("postfix"). */
  name: string;
  /** What the filter reads, from its header's first line ("Postfix smtpd"). */
  description: string;
  /** Its options and their values where the file lists them: { mode: ["normal", "auth", ...] }. */
  options: Record<string, string[]>;
}

/**
 * Reads each built-in filter's header and [Init] section. A file that cannot be read is listed by
 * name only, so one broken file does not hide the others.
 */
export function builtinFilterInfo(dir = BUILTIN_FILTER_DIR): BuiltinFilterInfo[] {
  return builtinFilterNames(dir).map((name) => infoOf(name, dir));
}

/**
 * For a built-in filter, an option value that is not one of the values the filter lists
 * ("mode=agressive"), said so a person can fix it; null when the options are fine. Options
 * without a list of values (and unknown names, which override the filter's variables as in
 * fail2ban) are not checked.
 */
export function builtinOptionProblem(name: string, options: Map<string, string>, dir = BUILTIN_FILTER_DIR): string | null {
  if (!builtinFilterNames(dir).includes(name)) return null;
  const info = infoOf(name, dir);
  for (const [key, value] of options) {
    const values = info.options[key];
    if (values && values.length > 0 && !values.includes(value)) {
      return `filter ${name}: ${key}=${value} is not one of its values (${values.join(', ')})`;
    }
  }
  return null;
}

function infoOf(name: string, dir: string): BuiltinFilterInfo {
  const info: BuiltinFilterInfo = { name, description: '', options: {} };
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.conf`), 'utf8');
  } catch {
    return info;
  }
  info.description = /^#[^\n:]*built-in filter:\s*(.+)$/m.exec(text)?.[1].trim() ?? '';
  const init = /^\[Init\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  for (const m of init.matchAll(/^([A-Za-z][\w-]*)\s*=/gm)) {
    // An option that picks a value by name, as in "<mode_<mode>>", has the values PREFIX<value> = ... .
    const ref = new RegExp(`<([\\w-]+)<${m[1]}>>`).exec(text);
    const values = ref ? [...text.matchAll(new RegExp(`^${ref[1]}([\\w-]+)\\s*=`, 'gm'))].map((v) => v[1]) : [];
    info.options[m[1]] = values;
  }
  return info;
}
