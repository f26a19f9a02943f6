/** A filter from failregex-match's properties (SPEC.md names). */
import { inlineFilter, linesOf, loadBuiltinFilter, loadFilterFile, parseFilterOptions, splitFilterSpec, type FilterDefinition } from './load';

export interface FilterSettings {
  filterSource?: unknown;
  filterName?: unknown;
  filterFile?: unknown;
  filterOptions?: unknown;
  failregex?: unknown;
  ignoreregex?: unknown;
  prefregex?: unknown;
  datepattern?: unknown;
  maxlines?: unknown;
}

/** Builds the filter a node's properties describe; throws an error that says what to fix. */
export function filterFromSettings(def: FilterSettings): FilterDefinition {
  const source = String(def.filterSource || 'builtin');
  const options = parseFilterOptions(def.filterOptions ? String(def.filterOptions) : undefined);
  let filter: FilterDefinition;
  if (source === 'builtin') {
    // "sshd[mode=aggressive]" as the name works as in a jail; options given apart win.
    const spec = splitFilterSpec(String(def.filterName || 'sshd').trim());
    filter = loadBuiltinFilter(spec.name, new Map([...spec.options, ...options]));
  } else if (source === 'file') {
    const file = String(def.filterFile ?? '').trim();
    if (!file) throw new Error('no filter file: give the path of a fail2ban filter .conf, e.g. /etc/fail2ban/filter.d/sshd.conf');
    filter = loadFilterFile(file, options);
  } else if (source === 'inline') {
    return inlineFilter({
      failregex: String(def.failregex ?? ''),
      ignoreregex: String(def.ignoreregex ?? ''),
      prefregex: String(def.prefregex ?? ''),
      datepattern: String(def.datepattern ?? ''),
      maxlines: def.maxlines as string | number | undefined,
    });
  } else {
    throw new Error(`filterSource "${source}" is not known: use builtin, file or inline`);
  }
  // Properties set in the node override the file's, as a jail's settings do.
  const extraIgnore = linesOf(String(def.ignoreregex ?? ''));
  if (extraIgnore.length) filter.ignoreregex.push(...extraIgnore);
  if (def.datepattern && String(def.datepattern).trim()) filter.datepattern = String(def.datepattern).trim();
  if (def.maxlines !== undefined && String(def.maxlines).trim() !== '') filter.maxlines = Number(def.maxlines);
  return filter;
}

