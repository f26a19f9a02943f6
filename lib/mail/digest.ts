/**
 * One mail for many events: a table of counts per jail, a bounded list of the events, the log lines
 * of the first few, and the whois answers that were asked. It stays readable for 10,000 events.
 */
import { formatDuration } from '../duration';
import { addressOf, payloadOf, type MailEvent } from './event';
import { quote, type RenderedMail, type WhoisResult } from './render';
import { cleanUntrusted } from './whois';

export interface DigestOptions {
  /** Events listed one per line at most; the rest are "... and N more". */
  maxRows?: number;
  /** Events whose log lines are shown. */
  maxDetails?: number;
  /** Log lines shown per event. */
  maxLinesPerEvent?: number;
  /** whois answers by address. */
  whois?: Map<string, WhoisResult>;
}

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s.padEnd(n));
const num = (n: number, w: number) => String(n).padStart(w);

/** The event name of a message ("ban", "unban", ...) as the table shows it. */
function eventName(msg: Record<string, unknown>): string {
  const p = payloadOf(msg);
  return String(p.event ?? p.action ?? 'event') || 'event';
}

function jailName(msg: Record<string, unknown>): string {
  return String(payloadOf(msg).jail ?? '') || '-';
}

/**
 * Renders a digest of `events`, plus `more`: counts ("jail\tevent" -> n) of events that were only
 * counted because the outbox was full.
 */
export function renderDigest(events: MailEvent[], more: Record<string, number> = {}, options: DigestOptions = {}): RenderedMail {
  const maxRows = options.maxRows ?? 200;
  const maxDetails = options.maxDetails ?? 20;
  const maxLines = options.maxLinesPerEvent ?? 10;

  // Counts per jail and event, listed events and counted ones alike.
  const counts = new Map<string, Map<string, number>>();
  const count = (jail: string, event: string, n: number) => {
    const row = counts.get(jail) ?? new Map<string, number>();
    row.set(event, (row.get(event) ?? 0) + n);
    counts.set(jail, row);
  };
  for (const e of events) count(jailName(e.msg), eventName(e.msg), 1);
  let counted = 0;
  for (const [key, n] of Object.entries(more)) {
    const [jail, event] = key.split('\t');
    count(jail || '-', event || 'event', n);
    counted += n;
  }
  const total = events.length + counted;
  const perEvent = new Map<string, number>();
  for (const row of counts.values()) for (const [ev, n] of row) perEvent.set(ev, (perEvent.get(ev) ?? 0) + n);
  // Columns: the most frequent event kinds, the rest together as "other".
  const kinds = [...perEvent.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const columns = kinds.length > 5 ? [...kinds.slice(0, 4), 'other'] : kinds;
  const colOf = (ev: string) => (columns.includes(ev) ? ev : 'other');
  const jails = [...counts.keys()].sort((a, b) => a.localeCompare(b));
  const jw = Math.min(24, Math.max(6, ...jails.map((j) => j.length + 1)));
  const cw = Math.max(7, ...columns.map((c) => c.length + 2), String(total).length + 2);
  const line = (label: string, cells: number[], sum: number) => pad(label.slice(0, 23), jw) + cells.map((n) => num(n, cw)).join('') + num(sum, cw);
  const table = [pad('jail', jw) + columns.map((c) => c.padStart(cw)).join('') + 'total'.padStart(cw)];
  const totals = columns.map(() => 0);
  for (const jail of jails) {
    const cells = columns.map(() => 0);
    let sum = 0;
    for (const [ev, n] of counts.get(jail)!) {
      cells[columns.indexOf(colOf(ev))] += n;
      sum += n;
    }
    cells.forEach((n, i) => (totals[i] += n));
    table.push(line(jail, cells, sum));
  }
  if (jails.length > 1) table.push(line('all jails', totals, total));

  const sorted = [...events].sort((a, b) => a.at - b.at);
  const listed = sorted.slice(0, maxRows);
  const aw = Math.min(44, Math.max(15, ...listed.map((e) => addressOf(e.msg).length + 1)));
  const ew = Math.min(10, Math.max(6, ...listed.map((e) => eventName(e.msg).length + 1)));
  const rows = listed.map((e) => {
    const p = payloadOf(e.msg);
    const bantime = typeof p.bantime === 'number' ? formatDuration(p.bantime) : '';
    return `${time(e.at)}  ${pad(eventName(e.msg), ew)} ${pad(addressOf(e.msg), aw)} ${pad(jailName(e.msg), jw)} ${pad(bantime, 9)} ${p.failures ?? ''}`.trimEnd();
  });
  const unlisted = total - rows.length;

  const parts: string[] = [];
  const span = sorted.length ? ` from ${time(sorted[0].at)} to ${time(sorted[sorted.length - 1].at)} UTC` : '';
  parts.push(`Hi,\n\n${total} event${total === 1 ? '' : 's'}${span}.\n`);
  parts.push(table.join('\n'));
  parts.push(`\n${'time (UTC)'.padEnd(19)}  ${pad('event', ew)} ${pad('address', aw)} ${pad('jail', jw)} ${pad('for', 9)} failures`);
  parts.push(rows.join('\n'));
  if (unlisted > 0) {
    parts.push(`... and ${unlisted} more${counted ? ` (${counted} of them arrived while ${events.length} were already waiting, and were only counted)` : ''}; all are in the table above.`);
  }

  const detailed = sorted.filter((e) => Array.isArray(payloadOf(e.msg).matches) && (payloadOf(e.msg).matches as unknown[]).length > 0).slice(0, maxDetails);
  if (detailed.length) {
    parts.push(`\nThe log lines that caused ${detailed.length === sorted.length ? 'them' : `the first ${detailed.length}`}:`);
    for (const e of detailed) {
      const lines = (payloadOf(e.msg).matches as unknown[]).map(String);
      parts.push(`${addressOf(e.msg)} in ${jailName(e.msg)}:\n${lines.slice(0, maxLines).map((l) => `  ${l}`).join('\n')}${lines.length > maxLines ? `\n  ... and ${lines.length - maxLines} more lines` : ''}`);
    }
  }
  for (const [ip, w] of options.whois ?? []) {
    if (w.text !== undefined && w.text.trim()) parts.push(`\nwhois answer for ${ip} from ${w.server} (quoted as received):\n${quote(cleanUntrusted(w.text))}${w.cut ? '\n[answer cut at 16 KiB]' : ''}`);
    else parts.push(`\nwhois ${ip}: ${w.error ?? `empty answer from ${w.server}`}`);
  }
  parts.push('\nRegards,\nNode-RED fail2ban');

  const byJail = jails.map((j) => {
    let n = 0;
    for (const v of counts.get(j)!.values()) n += v;
    return `${j} ${n}`;
  });
  const subject = `[fail2ban] ${total} event${total === 1 ? '' : 's'}: ${byJail.slice(0, 3).join(', ')}${byJail.length > 3 ? `, +${byJail.length - 3} jails` : ''}`;
  return { subject: cleanUntrusted(subject).replace(/\s+/g, ' ').slice(0, 250), text: cleanUntrusted(parts.join('\n')) };
}
