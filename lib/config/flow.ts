/**
 * A fail2ban jail configuration as a Node-RED flow: per enabled jail one row log-tail → failregex-match →
 * threshold-window → firewall-ban (→ mail-notify) under a comment, and a report of what each key became and
 * what did not come.
 */
import { hostname } from 'os';
import { BACKENDS } from '../firewall';
import { JailRow, formatJailReport, type FlowNode, type JailReport, type RowContext } from './jail-row';
import { isTrue, readJailConfig } from './jails';
import { readServices, type ServiceTable } from './services';

export interface ImportResult {
  dir: string;
  flow: FlowNode[];
  /** The enabled (or --only) jails, in the order of the configuration. */
  jails: JailReport[];
  /** Sections that are no enabled jail. */
  disabled: string[];
  /** Enabled jails that could not be read (an interpolation loop...), each with what to fix: skipped, as fail2ban skips them. */
  skipped: { jail: string; error: string }[];
  /** Anything about the import as a whole (a --only name that is no jail). */
  notes: string[];
}

export interface ImportOptions {
  /** A firewall-ban backend for every jail (`dry-run` to try an import safely). */
  backend?: string;
  /** Only these jails (enabled or not). */
  only?: string[];
  /** Text standing for DIR/jail.local (the editor's pasted jail.local). */
  jailLocal?: string;
  /** Port names; /etc/services by default. */
  services?: ServiceTable;
}

/** Reads DIR as fail2ban does and maps every enabled jail (or those in `only`) to a chain of nodes. */
export function importJails(dir: string, options: ImportOptions = {}): ImportResult {
  if (options.backend !== undefined && !(BACKENDS as readonly string[]).includes(options.backend)) {
    throw new Error(`--backend ${options.backend} is not a firewall-ban backend: choose one of ${BACKENDS.join(', ')}`);
  }
  const config = readJailConfig(dir, { jailLocal: options.jailLocal });
  const ctx: RowContext = { dir: config.dir, backend: options.backend, services: options.services ?? readServices(), mailServerId: 'f2bimp.smtp', needsMailServer: false, host: hostname() };
  const result: ImportResult = { dir: config.dir, flow: [], jails: [], disabled: [], skipped: [], notes: [] };
  const only = options.only?.map((s) => s.trim()).filter(Boolean);
  for (const name of only ?? []) {
    if (!config.sections.some((s) => s.name === name)) result.notes.push(`--only ${name}: there is no [${name}] section in ${config.dir}'s jail files`);
  }
  const tab: FlowNode = { id: 'f2bimp.tab', type: 'tab', label: 'fail2ban jails', info: `Imported by f2b-import from ${config.dir} (${config.files.join(', ')}).` };
  result.flow.push(tab);
  let row = 0;
  for (const section of config.sections) {
    const wanted = only ? only.includes(section.name) : isTrue(section.get('enabled'));
    if (!wanted) {
      result.disabled.push(section.name);
      continue;
    }
    // As fail2ban ("Errors in jail ... Skipping..."): a jail that cannot be read is left out, the others come.
    let nodes: FlowNode[];
    const jail = new JailRow(section, ctx, 60 + row * 100);
    try {
      nodes = jail.nodes();
    } catch (err) {
      result.skipped.push({ jail: section.name, error: (err as Error).message });
      continue;
    }
    row++;
    for (const n of nodes) result.flow.push({ z: tab.id, ...n });
    result.jails.push(jail.report);
  }
  if (result.jails.length === 0 && result.skipped.length > 0) {
    throw new Error(`no jail could be imported: ${result.skipped.map((s) => s.error).join('; ')}`);
  }
  if (ctx.needsMailServer) {
    result.flow.push({ id: ctx.mailServerId, type: 'mail-server', name: 'local MTA', host: 'localhost', port: '25', secure: false, starttls: 'auto', allowSelfSigned: false });
  }
  return result;
}

/** The whole report, as f2b-import prints it on stderr. */
export function formatReport(result: ImportResult): string {
  const lost = result.jails.reduce((n, j) => n + j.notCarried.length, 0);
  const out = [
    `f2b-import: ${result.dir}: ${result.jails.length} jail(s) imported (${result.jails.map((j) => j.jail).join(', ') || 'none'}), ${result.disabled.length} section(s) not enabled, ${lost} item(s) not carried over${result.skipped.length ? `, ${result.skipped.length} jail(s) skipped` : ''}`,
    ...result.notes.map((n) => `note: ${n}`),
    ...result.skipped.map((s) => `SKIPPED [${s.jail}], as fail2ban skips a jail it cannot read: ${s.error}`),
  ];
  for (const j of result.jails) out.push('', formatJailReport(j));
  return out.join('\n') + '\n';
}
