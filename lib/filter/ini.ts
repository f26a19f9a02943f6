/** A reader for fail2ban's INI dialect: sections, multi-line values, `;` inline comments. */

export interface IniSection {
  name: string;
  values: Map<string, string>;
}

export interface IniFile {
  path: string;
  sections: Map<string, Map<string, string>>;
}

export class FilterFileError extends Error {
  constructor(readonly file: string, readonly lineNo: number | null, reason: string) {
    super(`filter file ${file}${lineNo ? `: line ${lineNo}` : ''}: ${reason}`);
  }
}

const SECTION = /^\[([^\]]+)\]\s*$/;
const OPTION = /^([^=:\s][^=:]*?)\s*[=:]\s?(.*)$/;

/** Parses INI text as Python's ConfigParser does for fail2ban (continuation lines join with "\n"). */
export function parseIni(text: string, path: string): IniFile {
  const sections = new Map<string, Map<string, string>>();
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
    const option = OPTION.exec(raw);
    if (!option) throw new FilterFileError(path, lineNo, `cannot read "${raw.trim()}": expected "name = value" or [section]`);
    if (!current) throw new FilterFileError(path, lineNo, `"${option[1]}" stands before any [section]`);
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
