/**
 * A fail2ban jail configuration as a Node-RED flow: per enabled jail one chain log-tail → failregex-match →
 * threshold-window → firewall-ban (→ mail-notify), and a report of what each key became and what did not come.
 */
import { existsSync } from 'fs';
import { hostname } from 'os';
import { basename, dirname, join } from 'path';
import { parseFilterOptions, splitFilterSpec, loadFilterFile } from '../filter/load';
import { DEFAULT_BODY } from '../mail/render';
import { expandPath, hasWildcard } from '../tail/glob';
import { BACKENDS } from '../firewall';
import { isTrue, readJailConfig, type JailSection } from './jails';
import { portsOf, readServices, type ServiceTable } from './services';

export interface FlowNode {
  id: string;
  type: string;
  [property: string]: unknown;
}

/** One line of a jail's report: a key (or action) as the configuration has it, and what it became. */
export interface ReportLine {
  key: string;
  value: string;
  /** What it became in the flow; for a line in `notCarried`, why it did not come and what to do. */
  became: string;
}

export interface JailReport {
  jail: string;
  /** The files that set something in the jail's section, relative to the configuration directory. */
  files: string[];
  carried: ReportLine[];
  notCarried: ReportLine[];
}

export interface ImportResult {
  dir: string;
  flow: FlowNode[];
  /** The enabled (or --only) jails, in the order of the configuration. */
  jails: JailReport[];
  /** Sections that are no enabled jail. */
  disabled: string[];
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

/** The keys fail2ban reads for a jail (beside those only used through interpolation). */
const JAIL_KEYS = [
  'enabled', 'filter', 'mode', 'logpath', 'backend', 'journalmatch', 'logencoding', 'logtimezone', 'usedns', 'prefregex',
  'failregex', 'ignoreregex', 'datepattern', 'maxlines', 'maxretry', 'maxmatches', 'findtime', 'bantime', 'bantime.increment',
  'bantime.factor', 'bantime.formula', 'bantime.multipliers', 'bantime.maxtime', 'bantime.rndtime', 'bantime.overalljails',
  'ignoreip', 'ignoreself', 'ignorecommand', 'ignorecache', 'banaction', 'banaction_allports', 'port', 'protocol', 'chain', 'action',
];

/** fail2ban's action.d names and the firewall-ban backend that does the same job. */
const FIREWALLS: Array<[RegExp, string]> = [
  [/^nftables(?:-.+)?$/, 'nftables'],
  [/^iptables-ipset(?:-.+)?$/, 'iptables-ipset'],
  [/^iptables(?:-.+)?$/, 'iptables'],
  [/^ufw$/, 'ufw'],
  [/^firewallcmd-.+$/, 'firewalld'],
  [/^shorewall(?:-.+)?$/, 'shorewall'],
  [/^route$/, 'route'],
  [/^hostsdeny$/, 'hostsdeny'],
];
const MAIL = /^(?:mail|mail-whois|mail-whois-lines|mail-buffered|sendmail|sendmail-.+)$/;
/** Options of a firewall action that firewall-ban takes (the rest are named in the report). */
const FIREWALL_OPTIONS = new Set(['port', 'protocol', 'chain', 'name']);
const MAIL_OPTIONS = new Set(['dest', 'sender', 'name', 'logpath', 'protocol', 'chain', 'port']);

/** fail2ban's defaults for keys a configuration leaves out (its server's own). */
const FAIL2BAN_DEFAULTS: Record<string, string> = { maxretry: '3', findtime: '10m', bantime: '10m' };

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

const idOf = (jail: string) => `f2bimp.${jail.replace(/[^\w-]/g, '_')}`;
const quoteList = (o: Map<string, string>) => [...o].map(([k, v]) => `${k}=${v}`).join(', ');
/** A value for the report: one line, not endless. */
const shown = (v: string) => {
  const one = v.replace(/\s*\n\s*/g, ' | ');
  return one.length > 160 ? `${one.slice(0, 157)}...` : one;
};

interface Context {
  dir: string;
  backend?: string;
  services: ServiceTable;
  mailServerId: string | null;
  needsMailServer: boolean;
  host: string;
}

/** Reads DIR as fail2ban does and maps every enabled jail (or those in `only`) to a chain of nodes. */
export function importJails(dir: string, options: ImportOptions = {}): ImportResult {
  if (options.backend !== undefined && !(BACKENDS as readonly string[]).includes(options.backend)) {
    throw new Error(`--backend ${options.backend} is not a firewall-ban backend: choose one of ${BACKENDS.join(', ')}`);
  }
  const config = readJailConfig(dir, { jailLocal: options.jailLocal });
  const ctx: Context = { dir: config.dir, backend: options.backend, services: options.services ?? readServices(), mailServerId: 'f2bimp.smtp', needsMailServer: false, host: hostname() };
  const result: ImportResult = { dir: config.dir, flow: [], jails: [], disabled: [], notes: [] };
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
    const { nodes, report } = mapJail(section, ctx, 60 + row * 100);
    row++;
    for (const n of nodes) result.flow.push({ z: tab.id, ...n });
    result.jails.push(report);
  }
  if (ctx.needsMailServer) {
    result.flow.push({ id: ctx.mailServerId!, type: 'mail-server', name: 'local MTA', host: 'localhost', port: '25', secure: false, starttls: 'auto', allowSelfSigned: false });
  }
  return result;
}

function mapJail(j: JailSection, ctx: Context, y: number): { nodes: FlowNode[]; report: JailReport } {
  const report: JailReport = { jail: j.name, files: j.files, carried: [], notCarried: [] };
  const done = new Set<string>();
  const carried = (key: string, value: string, became: string) => {
    done.add(key);
    report.carried.push({ key, value: shown(value), became });
  };
  const dropped = (key: string, value: string, why: string) => {
    done.add(key);
    report.notCarried.push({ key, value: shown(value), became: why });
  };
  const value = (key: string): string | undefined => {
    const v = j.get(key);
    return v === undefined ? undefined : v.trim();
  };
  const id = idOf(j.name);

  carried('enabled', value('enabled') ?? 'false', 'the jail is imported');

  // Backend and log files.
  const backendSpec = splitFilterSpec(value('backend') || 'auto');
  const backend = backendSpec.name;
  const logpaths: string[] = [];
  let start = 'end';
  for (const line of (value('logpath') ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) {
    // "path tail" / "path head": where fail2ban starts reading a file it has not seen.
    const m = /^(.*?)\s+(head|tail)$/.exec(line);
    if (m && m[2] === 'head') start = 'beginning';
    logpaths.push(m ? m[1] : line);
  }
  const filterSpecText = value('filter') ?? '';
  let filterName = '';
  let filterOptions = new Map<string, string>();
  let filterError: string | null = null;
  try {
    if (filterSpecText) ({ name: filterName, options: filterOptions } = splitFilterSpec(filterSpecText));
  } catch (err) {
    filterError = (err as Error).message;
  }
  const filterFile = filterName ? join(ctx.dir, 'filter.d', `${filterName}.conf`) : '';
  const filterExists = !!filterName && (existsSync(filterFile) || existsSync(filterFile.replace(/\.conf$/, '.local')));
  let filterJournalmatch: string | undefined;
  if (filterExists) {
    try {
      filterJournalmatch = loadFilterFile(filterFile, filterOptions).journalmatch;
    } catch (err) {
      filterError = (err as Error).message;
    }
  }
  const journalmatch = value('journalmatch') || filterJournalmatch || '';
  const filesPresent = logpaths.some((p) => {
    try {
      return expandPath(p).some((f) => existsSync(f));
    } catch {
      return false;
    }
  });
  const journal = backend === 'systemd' || (backend === 'auto' && !!journalmatch && !filesPresent);
  const tail: FlowNode = {
    id: `${id}.tail`, type: 'log-tail', name: journal ? 'journal' : basename(logpaths[0] ?? 'log'), paths: journal ? '' : logpaths.join('\n'), start, resume: true,
    source: journal ? 'journal' : 'file', journalMatch: journal ? journalmatch : '', journalPath: '', encoding: 'utf8', x: 130, y: y + 40, wires: [[`${id}.match`]],
  };
  if (journal) {
    carried('backend', backendSpec.name, backend === 'systemd' ? 'log-tail source journal' : 'log-tail source journal (auto: the filter has a journalmatch and no log file is present)');
    for (const [k, v] of backendSpec.options) {
      if (k === 'journalpath' || k === 'journalfiles') carried(`backend[${k}]`, v, `log-tail journalPath ${v}`), (tail.journalPath = v);
      else dropped(`backend[${k}]`, v, 'log-tail has no such journal option');
    }
    carried('journalmatch', journalmatch, `log-tail journalMatch ${journalmatch}`);
    if (logpaths.length) dropped('logpath', logpaths.join('\n'), 'not used: the jail reads the journal');
  } else {
    carried('backend', value('backend') ?? 'auto', `log-tail source file (${backend} follows files)`);
    for (const [k, v] of backendSpec.options) dropped(`backend[${k}]`, v, 'log-tail has no such file option');
    if (logpaths.length) carried('logpath', logpaths.join('\n'), `log-tail paths ${logpaths.join(', ')}${start === 'beginning' ? ', start beginning (head)' : ''}`);
    else dropped('logpath', '', 'no logpath: log-tail has no file to follow; set logpath in the jail');
    for (const p of logpaths) if (hasWildcard(dirname(p))) dropped('logpath', p, 'log-tail follows wildcards in file names only, not in directories: list the directories');
    if (value('journalmatch')) dropped('journalmatch', value('journalmatch')!, 'not used: the jail reads files');
  }
  const encoding = value('logencoding');
  if (encoding !== undefined) {
    const node = ({ auto: 'utf8', 'utf-8': 'utf8', utf8: 'utf8', 'latin-1': 'latin1', latin1: 'latin1', 'iso-8859-1': 'latin1', ascii: 'ascii' } as Record<string, string>)[encoding.toLowerCase()];
    if (node) carried('logencoding', encoding, `log-tail encoding ${node}`), (tail.encoding = node);
    else dropped('logencoding', encoding, 'log-tail reads utf8, latin1 or ascii: it reads utf8');
  }

  // Filter.
  const matchOptions = new Map(filterOptions);
  if (journal && !matchOptions.has('logtype')) matchOptions.set('logtype', 'journal');
  const usedns = value('usedns');
  if (usedns !== undefined) {
    if (/^(warn|yes)$/i.test(usedns)) carried('usedns', usedns, "failregex-match's default: <HOST> takes an address or a host name (not resolved)");
    else matchOptions.set('usedns', usedns), carried('usedns', usedns, `failregex-match filterOptions usedns=${usedns}`);
  }
  const match: FlowNode = {
    id: `${id}.match`, type: 'failregex-match', name: filterName || 'filter', filterSource: 'file', filterName: '', filterFile, filterOptions: quoteList(matchOptions),
    failregex: '', ignoreregex: '', prefregex: '', datepattern: '', maxlines: '', x: 330, y: y + 40, wires: [[`${id}.window`]],
  };
  if (!filterSpecText) dropped('filter', '', 'the jail names no filter: set filter = NAME; its failregex-match shows red until then');
  else if (filterError && !filterName) dropped('filter', filterSpecText, filterError);
  else if (!filterExists) dropped('filter', filterSpecText, `${filterFile} does not exist: put the filter there or fix "filter ="; this jail's failregex-match shows red until then`);
  else if (filterError) dropped('filter', filterSpecText, `${filterError}; this jail's failregex-match shows red until it is fixed`);
  else carried('filter', filterSpecText, `failregex-match filterFile ${filterFile}${matchOptions.size ? `, filterOptions ${quoteList(matchOptions)}` : ''}`);
  const mode = value('mode');
  if (mode !== undefined) {
    if (filterOptions.get('mode') === mode) carried('mode', mode, `failregex-match filterOptions mode=${mode}`);
    else if (j.ownKeys.includes('mode')) dropped('mode', mode, `not used: the jail's filter line passes ${filterOptions.has('mode') ? `mode=${filterOptions.get('mode')}` : 'no mode'}; write filter = ${filterName}[mode=${mode}]`);
    else done.add('mode');
  }
  for (const key of ['datepattern', 'maxlines', 'ignoreregex']) {
    const v = value(key);
    if (v) carried(key, v, `failregex-match ${key}`), (match[key] = v);
  }
  for (const key of ['prefregex', 'failregex']) {
    const v = value(key);
    if (v) dropped(key, v, `failregex-match with a filter file takes ${key} from the file: put it in a filter.d/${filterName}.local`);
  }
  const tz = value('logtimezone');
  if (tz) dropped('logtimezone', tz, 'failregex-match reads times without a zone in the local time zone');

  // Counting and ban time.
  const window: FlowNode = {
    id: `${id}.window`, type: 'threshold-window', name: j.name, maxretry: '', findtime: '', bantime: '', increment: false, factor: '1', multipliers: '', maxtime: '', rndtime: '',
    ignoreip: '', ignoreself: true, keyProperty: 'payload.host', jail: j.name, x: 530, y: y + 40, wires: [[`${id}.ban`]],
  };
  for (const key of ['maxretry', 'findtime', 'bantime']) {
    const v = value(key);
    window[key] = v || FAIL2BAN_DEFAULTS[key];
    carried(key, v ?? '(not set)', `threshold-window ${key} ${window[key]}${v ? '' : " (fail2ban's default)"}${key === 'bantime' ? ' (and firewall-ban bantime)' : ''}`);
  }
  const ignoreip = value('ignoreip');
  window.ignoreip = (ignoreip ?? '').split(/[\s,]+/).filter(Boolean).join(' ');
  carried('ignoreip', ignoreip ?? '(not set)', `threshold-window ignoreip "${window.ignoreip}"${ignoreip === undefined ? ' (none, as fail2ban: only ignoreself)' : ''}`);
  const ignoreself = value('ignoreself');
  window.ignoreself = ignoreself === undefined ? true : isTrue(ignoreself);
  carried('ignoreself', ignoreself ?? '(not set)', `threshold-window ignoreself ${window.ignoreself}`);
  const increment = value('bantime.increment');
  if (increment !== undefined) {
    window.increment = isTrue(increment);
    carried('bantime.increment', increment, `threshold-window increment ${window.increment}`);
    for (const [key, prop] of [['bantime.factor', 'factor'], ['bantime.multipliers', 'multipliers'], ['bantime.maxtime', 'maxtime'], ['bantime.rndtime', 'rndtime']]) {
      const v = value(key);
      if (v) carried(key, v, `threshold-window ${prop} ${v}`), (window[prop] = v);
    }
  }
  const formula = value('bantime.formula');
  if (formula) dropped('bantime.formula', formula, 'a Python expression, not evaluated: threshold-window doubles the ban time per earlier ban (factor, multipliers, maxtime apply)');
  const overall = value('bantime.overalljails');
  if (overall && isTrue(overall)) dropped('bantime.overalljails', overall, 'threshold-window counts earlier bans in its own jail only');
  const maxmatches = value('maxmatches');
  if (maxmatches) dropped('maxmatches', maxmatches, 'threshold-window keeps the lines of the failures that counted');
  const ignorecommand = value('ignorecommand');
  if (ignorecommand) dropped('ignorecommand', ignorecommand, 'no command is run to decide; list the addresses in ignoreip');
  else done.add('ignorecommand');
  const ignorecache = value('ignorecache');
  if (ignorecache) dropped('ignorecache', ignorecache, 'there is no ignorecommand to cache');

  // Actions: the first firewall action is the firewall-ban; mail actions are a mail-notify.
  const ban: FlowNode = {
    id: `${id}.ban`, type: 'firewall-ban', name: j.name, jail: j.name, backend: ctx.backend ?? 'dry-run', setName: '', table: 'fail2ban', hook: '', chain: '', ports: '', protocol: 'tcp',
    bantime: window.bantime, reconcile: '30', persist: true, unbanOnStop: false, actionFile: '', actionOptions: '', banCommand: '', unbanCommand: '', checkCommand: '',
    x: 730, y: y + 40, wires: [[]],
  };
  let firewall: ActionSpec | null = null;
  let mail: FlowNode | null = null;
  let actions: ActionSpec[] = [];
  try {
    actions = splitActions(value('action') ?? '');
  } catch (err) {
    dropped('action', value('action') ?? '', (err as Error).message);
  }
  if (!done.has('action')) done.add('action');
  if (actions.length === 0 && !report.notCarried.some((l) => l.key === 'action')) dropped('action', '', 'the jail has no action: firewall-ban bans with the dry-run backend (set --backend or the node\'s backend)');
  for (const action of actions) {
    const key = `action ${action.name}`;
    const known = FIREWALLS.find(([re]) => re.test(action.name));
    if (MAIL.test(action.name)) {
      if (mail) {
        dropped(key, action.text, 'a second mail action: the jail has one mail-notify');
        continue;
      }
      const lines = /lines|matches/.test(action.name);
      const whois = /whois/.test(action.name);
      const dest = action.options.get('dest') ?? 'root@localhost';
      const sender = (action.options.get('sender') ?? `fail2ban@${ctx.host}`).replace(/<fq-hostname>|<hostname>/g, ctx.host);
      mail = {
        id: `${id}.mail`, type: 'mail-notify', name: `mail ${j.name} bans`, server: ctx.mailServerId, to: dest, from: sender, subject: '',
        body: lines ? '' : DEFAULT_BODY.replace(/\{\{#hasMatches\}\}[\s\S]*?\{\{\/hasMatches\}\}\n/, ''),
        whois, whoisServer: '', whoisTimeout: '10', digest: '0', maxPerHour: '60', skipRestored: true, x: 1090, y: y + 40, wires: [[]],
      };
      ctx.needsMailServer = true;
      carried(key, action.text, `mail-notify to ${dest}, from ${sender}, whois ${whois}, ${lines ? 'with' : 'without'} the log lines; mail-server localhost:25`);
      for (const [k, v] of action.options) if (!MAIL_OPTIONS.has(k)) dropped(`${key}[${k}]`, v, 'mail-notify has no such option (its subject and body are templates)');
      if (/buffered/.test(action.name)) dropped(`${key}`, action.text, 'mails each ban at once: set mail-notify digest to collect them');
      if (/geoip/.test(action.name)) dropped(`${key}`, action.text, 'no GeoIP lookup: mail-notify can add a whois answer instead');
      continue;
    }
    if (firewall) {
      dropped(key, action.text, `a second ban action beside ${firewall.name}: the jail's one firewall-ban carries ${firewall.name}; add a firewall-ban for this one by hand`);
      continue;
    }
    firewall = action;
    const backendName = known ? known[1] : 'fail2ban-action';
    const options = new Map(action.options);
    const protocol = (options.get('protocol') ?? value('protocol') ?? 'tcp').toLowerCase();
    if (/^(tcp|udp|sctp|all)$/.test(protocol)) ban.protocol = protocol;
    else dropped(`${key}[protocol]`, protocol, 'firewall-ban blocks tcp, udp, sctp or all: it blocks tcp');
    const allports = /allports/.test(action.name) || backendName === 'shorewall' || backendName === 'route' || backendName === 'hostsdeny';
    const portText = allports ? '' : (options.get('port') ?? (j.ownKeys.includes('port') ? value('port') : undefined) ?? '');
    const ports = portsOf(portText, ban.protocol as string, ctx.services);
    ban.ports = ports.ports;
    for (const u of ports.unknown) dropped(`${key}[port]`, u, 'no such port name in /etc/services: give the number in the jail\'s port');
    let chain = options.get('chain') ?? '';
    if (/^<known\/chain>$/.test(chain)) chain = '';
    if (chain) {
      if (backendName === 'nftables' && /^(input|forward)$/i.test(chain)) ban.hook = chain.toLowerCase();
      else if (backendName === 'iptables' || backendName === 'iptables-ipset') ban.chain = chain;
      else dropped(`${key}[chain]`, chain, `the ${backendName} backend has no chain to choose`);
    }
    const name = options.get('name');
    if (name && name !== j.name && name !== 'default') ban.setName = `f2b-${name}`;
    if (backendName === 'fail2ban-action') {
      ban.actionFile = join(ctx.dir, 'action.d', `${action.name}.conf`);
      ban.actionOptions = quoteList(options);
      if (!existsSync(ban.actionFile as string)) dropped(key, action.text, `${ban.actionFile} does not exist: put the action there; firewall-ban shows red until then`);
    } else {
      for (const [k, v] of options) if (!FIREWALL_OPTIONS.has(k)) dropped(`${key}[${k}]`, v, `firewall-ban's ${backendName} backend has no such option`);
    }
    ban.backend = ctx.backend ?? backendName;
    const what = [`firewall-ban backend ${ban.backend}${ctx.backend && ctx.backend !== backendName ? ` (by --backend; the configuration's is ${backendName})` : ''}`];
    if (backendName === 'fail2ban-action') what.push(`actionFile ${ban.actionFile}`);
    what.push(ban.ports ? `ports ${ban.ports}` : 'every port', `protocol ${ban.protocol}`);
    if (ban.chain) what.push(`chain ${ban.chain}`);
    if (ban.hook) what.push(`hook ${ban.hook}`);
    if (ban.setName) what.push(`setName ${ban.setName}`);
    carried(key, action.text, what.join(', '));
  }
  for (const key of ['banaction', 'banaction_allports', 'port', 'protocol', 'chain']) {
    const v = value(key);
    if (v !== undefined && !done.has(key)) carried(key, v, 'used through the action line(s) above');
  }

  // Everything else the section itself sets.
  const rawOf = (k: string) => j.raw(k) ?? '';
  const all = [...JAIL_KEYS, ...j.ownKeys];
  for (const key of all) {
    if (done.has(key) || key === '__name__') continue;
    done.add(key);
    if (!j.ownKeys.includes(key)) continue;
    const used = all.some((other) => other !== key && new RegExp(`%\\((?:[^)]*/)?${key.replace(/[.]/g, '\\.')}\\)s`).test(rawOf(other)));
    dropped(key, value(key) ?? '', used ? 'no node property; used through %(' + key + ')s in the values above' : 'no node property takes it');
  }

  const nodes: FlowNode[] = [tail, match, window, ban];
  if (mail) {
    ban.wires = [[`${id}.bans`]];
    nodes.push({
      id: `${id}.bans`, type: 'switch', name: 'bans only', property: 'payload.event', propertyType: 'msg', rules: [{ t: 'eq', v: 'ban', vt: 'str' }],
      checkall: 'true', repair: false, outputs: 1, x: 910, y: y + 40, wires: [[`${id}.mail`]],
    }, mail);
  }
  const comment: FlowNode = {
    id: `${id}.comment`, type: 'comment', name: `[${j.name}] from ${j.files.join(', ') || 'jail.conf [DEFAULT]'}`, info: formatJailReport(report), x: 130, y, wires: [],
  };
  return { nodes: [comment, ...nodes], report };
}

/** One jail's report as text: what each key became, then what did not come along. */
export function formatJailReport(r: JailReport): string {
  const out = [`[${r.jail}] (${r.files.join(', ') || 'no file of its own'})`];
  for (const l of r.carried) out.push(`  ${l.key} = ${l.value}  ->  ${l.became}`);
  for (const l of r.notCarried) out.push(`  NOT CARRIED ${l.key}${l.value ? ` = ${l.value}` : ''}: ${l.became}`);
  return out.join('\n');
}

/** The whole report, as f2b-import prints it on stderr. */
export function formatReport(result: ImportResult): string {
  const lost = result.jails.reduce((n, j) => n + j.notCarried.length, 0);
  const out = [
    `f2b-import: ${result.dir}: ${result.jails.length} jail(s) imported (${result.jails.map((j) => j.jail).join(', ') || 'none'}), ${result.disabled.length} section(s) not enabled, ${lost} item(s) not carried over`,
    ...result.notes.map((n) => `note: ${n}`),
  ];
  for (const j of result.jails) out.push('', formatJailReport(j));
  return out.join('\n') + '\n';
}
