/** fail2ban's tags (<HOST>, <F-USER>...) and the translation of Python `re` patterns to JavaScript. */

const IPV4 = String.raw`(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV6 = String.raw`(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,7}:|(?:[0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,5}(?::[0-9a-fA-F]{1,4}){1,2}|(?:[0-9a-fA-F]{1,4}:){1,4}(?::[0-9a-fA-F]{1,4}){1,3}|(?:[0-9a-fA-F]{1,4}:){1,3}(?::[0-9a-fA-F]{1,4}){1,4}|(?:[0-9a-fA-F]{1,4}:){1,2}(?::[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(?::[0-9a-fA-F]{1,4}){1,6}|:(?:(?::[0-9a-fA-F]{1,4}){1,7}|:)|::(?:[fF]{4}(?::0{1,4})?:)?${IPV4}|(?:[0-9a-fA-F]{1,4}:){1,4}:${IPV4})`;
const DNS = String.raw`[\w\-.^_]*\w`;
const CIDR = String.raw`\d{1,3}`;

/** Named groups a tag makes; several per pattern are renamed name__2, name__3 and merged back. */
function tagPattern(tag: string, group: (name: string) => string): string | null {
  switch (tag) {
    case 'HOST':
      return `(?:\\[?(?:${group('ip4')}${IPV4})|${group('ip6')}${IPV6}))\\]?|${group('dns')}${DNS}))`;
    case 'ADDR':
      return `\\[?(?:${group('ip4')}${IPV4})|${group('ip6')}${IPV6}))\\]?`;
    case 'IP4':
      return `${group('ip4')}${IPV4})`;
    case 'IP6':
      return `${group('ip6')}${IPV6})`;
    case 'DNS':
      return `${group('dns')}${DNS})`;
    case 'CIDR':
      return `${group('cidr')}${CIDR})`;
    case 'SUBNET':
      return `\\[?(?:${group('ip4')}${IPV4})|${group('ip6')}${IPV6}))(?:/${group('cidr')}${CIDR}))?\\]?`;
    default:
      return null;
  }
}

export class RegexError extends Error {}

/** The result of expanding one failregex. */
export interface ExpandedRegex {
  source: string;
  /** JS group name -> fail2ban field name (ip4, user, alt_user, ...). */
  groups: Map<string, string>;
}

const F_TAG = /<(\/?)F-([A-Z][A-Z0-9_]*)>/g;

/** Expands fail2ban tags and translates Python regex syntax to a JavaScript RegExp source. */
export function expandRegex(pattern: string, opts: { requireHost: boolean }): ExpandedRegex {
  const groups = new Map<string, string>();
  const used = new Map<string, number>();
  const group = (field: string): string => {
    const n = (used.get(field) ?? 0) + 1;
    used.set(field, n);
    const js = n === 1 ? field : `${field}__${n}`;
    groups.set(js, field);
    return `(?<${js}>`;
  };

  let hasHost = false;
  let out = pattern.replace(/<(HOST|ADDR|IP4|IP6|DNS|CIDR|SUBNET)>/g, (_all, tag: string) => {
    if (tag !== 'CIDR') hasHost = true;
    return tagPattern(tag, group) ?? '';
  });
  out = out.replace(/<SKIPLINES>/g, '(?:.*\\n)*?');
  out = out.replace(F_TAG, (_all, close: string, name: string) => {
    if (close) return ')';
    const field = fieldName(name);
    if (field === 'fid' || field === 'ip4' || field === 'ip6' || field === 'dns') hasHost = true;
    return group(field);
  });
  if (opts.requireHost && !hasHost) {
    throw new RegexError(`no <HOST> (or <ADDR>, <IP4>, <IP6>, <F-ID>) in "${pattern}": fail2ban needs to know whom to ban`);
  }
  out = translatePython(out, pattern, groups);
  return { source: out, groups };
}

/** fail2ban's group names: <F-USER> -> user, <F-ID> -> fid, <F-ALT_USER1> -> alt_user1. */
function fieldName(tag: string): string {
  if (tag === 'ID') return 'fid';
  return tag.toLowerCase();
}

/** Python `re` syntax that JavaScript spells differently or reads differently. */
function translatePython(source: string, original: string, groups: Map<string, string>): string {
  let out = source;
  out = out.replace(/\(\?P<([A-Za-z_]\w*)>/g, (_all, name: string) => {
    groups.set(name, name);
    return `(?<${name}>`;
  });
  out = out.replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>');
  out = out.replace(/(?<!\\)\{,(\d+)\}/g, '{0,$1}');
  out = out.replace(/\\Z/g, '$(?![\\s\\S])');
  out = out.replace(/\\A/g, '^');
  if (/\(\?\(/.test(out)) {
    throw new RegexError(`"${original}": conditional groups (?(name)yes|no) are not supported yet`);
  }
  return out;
}

/** Compiles a translated source, naming the pattern in the error. */
export function compile(source: string, original: string, flags = '', kind = 'failregex'): RegExp {
  let extra = flags;
  let body = source;
  // A global inline flag at the start, as Python allows: (?i)...
  const lead = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (lead) {
    body = body.slice(lead[0].length);
    if (lead[1].includes('i') && !extra.includes('i')) extra += 'i';
    if (lead[1].includes('s') && !extra.includes('s')) extra += 's';
    if (lead[1].includes('m') && !extra.includes('m')) extra += 'm';
  }
  try {
    return new RegExp(body, extra);
  } catch (err) {
    // V8 puts the whole expanded pattern in its message; the person wrote `original`, so name that.
    const reason = (err as Error).message.split(': ').pop() ?? 'does not compile';
    throw new RegexError(`${kind} "${original}": ${reason.toLowerCase()}`);
  }
}
