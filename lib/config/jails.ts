/** fail2ban's jail configuration read as fail2ban reads it: layered jail files, [DEFAULT], interpolation. */
import { existsSync, statSync } from 'fs';
import { join, relative, resolve } from 'path';
import { ConfigFileError, configFileError, expandReferences, readLayered, type Reference, type Sections } from './ini';

/** One section of the jail files, with its values seen as fail2ban sees them. */
export interface JailSection {
  name: string;
  /** The files (relative to the configuration directory) that set something in this section. */
  files: string[];
  /** Keys written in the section itself (not inherited from [DEFAULT]). */
  ownKeys: string[];
  /** A key's value after interpolation: the section's, else [DEFAULT]'s; undefined when neither sets it. */
  get(key: string): string | undefined;
  /** The value as written, before interpolation. */
  raw(key: string): string | undefined;
}

export interface JailConfig {
  dir: string;
  /** Every section but [DEFAULT], [INCLUDES] and the KNOWN/ bookkeeping, in the order first seen. */
  sections: JailSection[];
  /** The files read, relative to dir. */
  files: string[];
}

export interface ReadJailOptions {
  /** Text to use as DIR/jail.local instead of the file (the editor's pasted jail.local). */
  jailLocal?: string;
}

/** Reads DIR's jail.conf, jail.d/*.conf, jail.local, jail.d/*.local with their includes; throws what to fix. */
export function readJailConfig(dir: string, options: ReadJailOptions = {}): JailConfig {
  const abs = resolve(dir);
  // A pasted jail.local may stand alone (fail2ban's defaults fill in) where the directory does not exist.
  if (options.jailLocal === undefined && (!existsSync(abs) || !statSync(abs).isDirectory())) {
    throw new ConfigFileError(abs, null, 'no such directory: give the directory that holds jail.conf or jail.local (--from, default /etc/fail2ban)');
  }
  const texts = new Map<string, string>();
  if (options.jailLocal !== undefined) texts.set(join(abs, 'jail.local'), options.jailLocal);
  const files: string[] = [];
  const origin = new Map<string, string[]>();
  let sections: Sections;
  try {
    sections = readLayered(join(abs, 'jail.conf'), {
      error: configFileError,
      texts,
      onFile: (path, read) => {
        const rel = relative(abs, path);
        files.push(rel);
        for (const name of read.keys()) {
          const seen = origin.get(name) ?? [];
          if (!seen.includes(rel)) seen.push(rel);
          origin.set(name, seen);
        }
      },
    });
  } catch (err) {
    if (err instanceof ConfigFileError && err.reason === 'not found') {
      throw new ConfigFileError(abs, null, 'holds no fail2ban configuration (no jail.conf, jail.local or jail.d/): give the directory that does (--from, default /etc/fail2ban)');
    }
    throw err;
  }
  const defaults = sections.get('DEFAULT') ?? new Map<string, string>();
  const builtins = new Map([['fail2ban_confpath', abs], ['fail2ban_version', '1.0']]);

  /** fail2ban's lookup: the section, then [DEFAULT]; `%(sec/x)s` and `%(known/x)s` give a raw value read in the same section. */
  const lookup = (name: string, section: string): Reference | undefined => {
    const slash = name.indexOf('/');
    let value: string | undefined;
    if (slash > 0) {
      const sec = name.slice(0, slash);
      const key = name.slice(slash + 1);
      const lower = sec.toLowerCase();
      if (lower === 'known') value = sections.get(`KNOWN/${section}`)?.get(key) ?? defaults.get(key);
      else if (lower === 'default') value = defaults.get(key);
      else value = sections.get(sec)?.get(key) ?? defaults.get(key);
    } else {
      value = name === '__name__' ? section : (sections.get(section)?.get(name) ?? defaults.get(name) ?? builtins.get(name));
    }
    return value === undefined ? undefined : { value, section };
  };

  const where = (section: string) => (origin.get(section) ?? files).map((f) => join(abs, f)).join(', ');
  const jails: JailSection[] = [];
  for (const [name, values] of sections) {
    if (name === 'DEFAULT' || name === 'INCLUDES' || name.startsWith('KNOWN/')) continue;
    const cache = new Map<string, string | undefined>();
    jails.push({
      name,
      files: origin.get(name) ?? [],
      ownKeys: [...values.keys()],
      raw: (key) => values.get(key) ?? defaults.get(key),
      get(key) {
        if (cache.has(key)) return cache.get(key);
        const raw = values.get(key) ?? defaults.get(key);
        const fail = (reason: string) => new ConfigFileError(where(name), null, `[${name}] ${key}: ${reason}`);
        const v = raw === undefined ? undefined : expandReferences(raw, name, lookup, fail, [key]);
        cache.set(key, v);
        return v;
      },
    });
  }
  return { dir: abs, sections: jails, files };
}

/** fail2ban's boolean words. */
export function isTrue(value: string | undefined): boolean {
  return /^(true|yes|on|1)$/i.test((value ?? '').trim());
}
