/** One enabled jail as one row of nodes, and the report of what each of its keys became. */
import { existsSync } from 'fs';
import { basename, dirname, join } from 'path';
import { loadFilterFile, splitFilterSpec } from '../filter/load';
import { DEFAULT_BODY } from '../mail/render';
import { expandPath, hasWildcard } from '../tail/glob';
import { FIREWALL_OPTIONS, FIREWALLS, MAIL, MAIL_OPTIONS, splitActions, type ActionSpec } from './actions';
import { isTrue, type JailSection } from './jails';
import { portsOf, type ServiceTable } from './services';

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

/** What the rows of one import share. */
export interface RowContext {
  dir: string;
  backend?: string;
  services: ServiceTable;
  mailServerId: string;
  /** Set when a row mails: the flow then gets the mail-server. */
  needsMailServer: boolean;
  host: string;
}

/** The keys fail2ban reads for a jail (beside those only used through interpolation). */
const JAIL_KEYS = [
  'enabled', 'filter', 'mode', 'logpath', 'backend', 'journalmatch', 'logencoding', 'logtimezone', 'usedns', 'prefregex',
  'failregex', 'ignoreregex', 'datepattern', 'maxlines', 'maxretry', 'maxmatches', 'findtime', 'bantime', 'bantime.increment',
  'bantime.factor', 'bantime.formula', 'bantime.multipliers', 'bantime.maxtime', 'bantime.rndtime', 'bantime.overalljails',
  'ignoreip', 'ignoreself', 'ignorecommand', 'ignorecache', 'banaction', 'banaction_allports', 'port', 'protocol', 'chain', 'action',
];

/** fail2ban's defaults for keys a configuration leaves out (its server's own). */
const FAIL2BAN_DEFAULTS: Record<string, string> = { maxretry: '3', findtime: '10m', bantime: '10m' };

const quoteList = (o: Map<string, string>) => [...o].map(([k, v]) => `${k}=${v}`).join(', ');
/** A value for the report: one line, not endless. */
const shown = (v: string) => {
  const one = v.replace(/\s*\n\s*/g, ' | ');
  return one.length > 160 ? `${one.slice(0, 157)}...` : one;
};

/** The jail's `filter = NAME[options]`, and what its file says. */
interface FilterSpec {
  filterSpecText: string;
  filterName: string;
  filterOptions: Map<string, string>;
  filterFile: string;
  filterExists: boolean;
  filterJournalmatch?: string;
  filterError: string | null;
}

/** Maps one jail, at height y: log-tail → failregex-match → threshold-window → firewall-ban (→ switch → mail-notify). */
export class JailRow {
  readonly report: JailReport;
  private readonly done = new Set<string>();
  private readonly id: string;

  constructor(private readonly j: JailSection, private readonly ctx: RowContext, private readonly y: number) {
    this.report = { jail: j.name, files: j.files, carried: [], notCarried: [] };
    this.id = `f2bimp.${j.name.replace(/[^\w-]/g, '_')}`;
  }

  private readonly carried = (key: string, value: string, became: string): void => {
    this.done.add(key);
    this.report.carried.push({ key, value: shown(value), became });
  };

  private readonly dropped = (key: string, value: string, why: string): void => {
    this.done.add(key);
    this.report.notCarried.push({ key, value: shown(value), became: why });
  };

  private readonly value = (key: string): string | undefined => this.j.get(key)?.trim();

  /** The row's nodes, its comment first (the comment's info is the jail's report). */
  nodes(): FlowNode[] {
    const { j, id, y } = this;
    this.carried('enabled', this.value('enabled') ?? 'false', 'the jail is imported');
    const spec = this.filterSpec();
    const { tail, journal } = this.logTail(spec);
    const match = this.filterNode(spec, journal);
    const window = this.windowNode();
    const { ban, mail } = this.actionNodes(window);
    this.leftovers();
    const nodes: FlowNode[] = [tail, match, window, ban];
    if (mail) {
      ban.wires = [[`${id}.bans`]];
      nodes.push({
        id: `${id}.bans`, type: 'switch', name: 'bans only', property: 'payload.event', propertyType: 'msg', rules: [{ t: 'eq', v: 'ban', vt: 'str' }],
        checkall: 'true', repair: false, outputs: 1, x: 910, y: y + 40, wires: [[`${id}.mail`]],
      }, mail);
    }
    const comment: FlowNode = {
      id: `${id}.comment`, type: 'comment', name: `[${j.name}] from ${j.files.join(', ') || 'jail.conf [DEFAULT]'}`, info: formatJailReport(this.report), x: 130, y, wires: [],
    };
    return [comment, ...nodes];
  }

  private filterSpec(): FilterSpec {
    const { ctx, value } = this;
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
    return { filterSpecText, filterName, filterOptions, filterFile, filterExists, filterJournalmatch, filterError };
  }

  private logTail({ filterJournalmatch }: FilterSpec): { tail: FlowNode; journal: boolean } {
    const { id, y, carried, dropped, value } = this;
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
        if (k === 'journalpath' || k === 'journalfiles') {
          tail.journalPath = v;
          carried(`backend[${k}]`, v, `log-tail journalPath ${v}`);
        } else dropped(`backend[${k}]`, v, 'log-tail has no such journal option');
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
      if (node) {
        tail.encoding = node;
        carried('logencoding', encoding, `log-tail encoding ${node}`);
      } else dropped('logencoding', encoding, 'log-tail reads utf8, latin1 or ascii: it reads utf8');
    }
    return { tail, journal };
  }

  private filterNode({ filterSpecText, filterName, filterOptions, filterFile, filterExists, filterError }: FilterSpec, journal: boolean): FlowNode {
    const { j, id, y, carried, dropped, value, done } = this;
    // Filter.
    const matchOptions = new Map(filterOptions);
    if (journal && !matchOptions.has('logtype')) matchOptions.set('logtype', 'journal');
    const usedns = value('usedns');
    if (usedns !== undefined) {
      if (/^(warn|yes)$/i.test(usedns)) carried('usedns', usedns, "failregex-match's default: <HOST> takes an address or a host name (not resolved)");
      else {
        matchOptions.set('usedns', usedns);
        carried('usedns', usedns, `failregex-match filterOptions usedns=${usedns}`);
      }
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
      if (!v) continue;
      match[key] = v;
      carried(key, v, `failregex-match ${key}`);
    }
    for (const key of ['prefregex', 'failregex']) {
      const v = value(key);
      if (v) dropped(key, v, `failregex-match with a filter file takes ${key} from the file: put it in a filter.d/${filterName}.local`);
    }
    const tz = value('logtimezone');
    if (tz) dropped('logtimezone', tz, 'failregex-match reads times without a zone in the local time zone');
    return match;
  }

  private windowNode(): FlowNode {
    const { j, id, y, carried, dropped, value, done } = this;
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
        if (!v) continue;
        window[prop] = v;
        carried(key, v, `threshold-window ${prop} ${v}`);
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
    return window;
  }

  private actionNodes(window: FlowNode): { ban: FlowNode; mail: FlowNode | null } {
    const { j, ctx, id, y, carried, dropped, value, done } = this;
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
    done.add('action');
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
        const given = (k: string) => (action.options.has(k) ? '' : ` (${k} not given)`);
        carried(key, action.text, `mail-notify to ${dest}${given('dest')}, from ${sender}${given('sender')}, whois ${whois}, ${lines ? 'with' : 'without'} the log lines, for bans only (not for jail start and stop); mail-server localhost:25`);
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
    if (!firewall && !this.report.notCarried.some((l) => l.key === 'action')) {
      dropped('action', value('action') ?? '', `no ban action: firewall-ban uses the ${ban.backend} backend (give --backend, or set the node's backend)`);
    }
    for (const key of ['banaction', 'banaction_allports', 'port', 'protocol', 'chain']) {
      const v = value(key);
      if (v !== undefined && !done.has(key)) carried(key, v, 'used through the action line(s) above');
    }
    return { ban, mail };
  }

  /** Everything else the section itself sets: named, with why it did not come. */
  private leftovers(): void {
    const { j, dropped, value, done } = this;
    const rawOf = (k: string) => j.raw(k) ?? '';
    const all = [...JAIL_KEYS, ...j.ownKeys];
    for (const key of all) {
      if (done.has(key) || key === '__name__') continue;
      done.add(key);
      if (!j.ownKeys.includes(key)) continue;
      const used = all.some((other) => other !== key && new RegExp(`%\\((?:[^)]*/)?${key.replace(/[.]/g, '\\.')}\\)s`).test(rawOf(other)));
      dropped(key, value(key) ?? '', used ? 'no node property; used through %(' + key + ')s in the values above' : 'no node property takes it');
    }
  }
}

/** One jail's report as text: what each key became, then what did not come along. */
export function formatJailReport(r: JailReport): string {
  const out = [`[${r.jail}] (${r.files.join(', ') || 'no file of its own'})`];
  for (const l of r.carried) out.push(`  ${l.key} = ${l.value}  ->  ${l.became}`);
  for (const l of r.notCarried) out.push(`  NOT CARRIED ${l.key}${l.value ? ` = ${l.value}` : ''}: ${l.became}`);
  return out.join('\n');
}
