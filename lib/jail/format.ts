/** fail2ban-client's text layout for the answers of f2b-client, so habits and scripts carry over. */
import type { JailStatus } from './status';

/** A tree of `label:\tvalue` rows under `title`, drawn with |- and `- as fail2ban-client draws it. */
function tree(title: string, groups: Array<[string, Array<[string, string]>]>): string {
  const out = [title];
  groups.forEach(([group, rows], n) => {
    const lastGroup = n === groups.length - 1;
    out.push(`${lastGroup ? '`-' : '|-'} ${group}`);
    const indent = lastGroup ? '   ' : '|  ';
    rows.forEach(([label, value], m) => out.push(`${indent}${m === rows.length - 1 ? '`-' : '|-'} ${label}:\t${value}`));
  });
  return out.join('\n');
}

/** `status`: the number of jails and their names. */
export function formatOverview(jails: JailStatus[]): string {
  const names = jails.map((j) => j.jail);
  return ['Status', `|- Number of jail:\t${names.length}`, `\`- Jail list:\t${names.join(', ')}`].join('\n');
}

/** `status JAIL`: the filter's counters (and files or journal matches), then the actions'. */
export function formatJail(j: JailStatus): string {
  const filter: Array<[string, string]> = [
    ['Currently failed', String(j.currentlyFailed)],
    ['Total failed', String(j.totalFailed)],
  ];
  if (j.files) filter.push(['File list', j.files.join(' ')]);
  if (j.journalMatches) filter.push(['Journal matches', j.journalMatches.join(' + ')]);
  return tree(`Status for the jail: ${j.jail}`, [
    ['Filter', filter],
    ['Actions', [
      ['Currently banned', String(j.currentlyBanned)],
      ['Total banned', String(j.totalBanned)],
      ['Banned IP list', j.banned.join(' ')],
    ]],
  ]);
}

/** A Python-style list of quoted strings, as fail2ban-client prints its raw answers. */
function pyList(items: string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

/** `banned`: every jail with its banned addresses. */
export function formatBannedByJail(jails: JailStatus[]): string {
  return `[${jails.map((j) => `{'${j.jail}': ${pyList(j.banned)}}`).join(', ')}]`;
}

/** `banned IP...`: for each address, the jails that ban it. */
export function formatJailsOfAddresses(found: string[][]): string {
  return `[${found.map(pyList).join(', ')}]`;
}
