/** A jail's `action` lines: their syntax, and which fail2ban action.d files are firewalls or mail. */
import { parseFilterOptions } from '../filter/load';

/** fail2ban's action.d names and the firewall-ban backend that does the same job. */
export const FIREWALLS: Array<[RegExp, string]> = [
  [/^nftables(?:-.+)?$/, 'nftables'],
  [/^iptables-ipset(?:-.+)?$/, 'iptables-ipset'],
  [/^iptables(?:-.+)?$/, 'iptables'],
  [/^ufw$/, 'ufw'],
  [/^firewallcmd-.+$/, 'firewalld'],
  [/^shorewall(?:-.+)?$/, 'shorewall'],
  [/^route$/, 'route'],
  [/^hostsdeny$/, 'hostsdeny'],
];
export const MAIL = /^(?:mail|mail-whois|mail-whois-lines|mail-buffered|sendmail|sendmail-.+)$/;
/** Options of a firewall action that firewall-ban takes (the rest are named in the report). */
export const FIREWALL_OPTIONS = new Set(['port', 'protocol', 'chain', 'name']);
/** Options of a mail action that mail-notify takes (or that the log lines stand for). */
export const MAIL_OPTIONS = new Set(['dest', 'sender', 'name', 'logpath', 'protocol', 'chain', 'port']);

/** An action line of a jail: `name[opt=value, ...]`. */
export interface ActionSpec {
  name: string;
  options: Map<string, string>;
  text: string;
}

/** Splits a jail's `action` value into its actions (one a line, or beside each other; options may span lines). */
export function splitActions(text: string): ActionSpec[] {
  const out: ActionSpec[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && !/[\s[]/.test(text[i])) i++;
    const name = text.slice(start, i);
    // NAME[opts] and NAME[opts][more]: later groups add to (and override) the earlier ones, as fail2ban reads them.
    const groups: string[] = [];
    for (;;) {
      let j = i;
      while (j < text.length && /[ \t]/.test(text[j])) j++;
      if (text[j] !== '[') break;
      let depth = 0;
      let quote: string | null = null;
      let k = j;
      for (; k < text.length; k++) {
        const c = text[k];
        if (quote) {
          if (c === quote) quote = null;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '[') depth++;
        else if (c === ']' && --depth === 0) break;
      }
      if (k >= text.length) throw new Error(`action "${text.slice(start).split('\n')[0]}": "[" is never closed; write NAME[key=value, ...]`);
      groups.push(text.slice(j + 1, k));
      i = k + 1;
    }
    if (!name) throw new Error(`action "${text.slice(start, i)}": an action needs a name before "["`);
    // Options written over several lines read as one list.
    const options = new Map(groups.flatMap((g) => [...parseFilterOptions(g.replace(/\s*\n\s*/g, ' '))]));
    out.push({ name, options, text: text.slice(start, i).replace(/\s*\n\s*/g, ' ') });
  }
  return out;
}
