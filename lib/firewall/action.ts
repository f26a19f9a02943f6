/**
 * fail2ban-action: runs the commands of a fail2ban `action.d/*.conf` file (actionstart, actionban,
 * actionunban, actioncheck, actionstop) as fail2ban does, through /bin/sh, because that is what the file
 * format is: shell command lines.
 *
 * What reaches the shell: the file's own text, its [Init] values and the node's `actionOptions` (all
 * written by the administrator), and these tags filled by this package: `<ip>` and `<fid>` (an address
 * or CIDR prefix that parsed, checked again here to hold only hex digits, '.', ':' and '/'), `<family>`
 * (inet4 / inet6), `<bantime>`, `<failures>`, `<bancount>`, `<time>` (whole numbers). Tags that would
 * carry text from a log (`<matches>`, `<ipmatches>`, `<ip-host>`, `<F-...>` and the like) are refused
 * when the file is loaded, as is any tag left unresolved, so nothing a log line says reaches the shell.
 */
import { hostname } from 'os';
import { basename } from 'path';
import { parseFilterOptions, readFilter } from '../filter/load';
import type { Address } from '../ip';
import { FirewallError, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, type Runner } from './run';

type Sections = Map<string, Map<string, string>>;
type Family = 'inet4' | 'inet6';
const OPERATIONS = ['actionstart', 'actionstop', 'actioncheck', 'actionban', 'actionunban'] as const;
type Operation = (typeof OPERATIONS)[number];

/** Tags this package fills at ban time, with values it made or checked. */
const DYNAMIC = new Set(['ip', 'fid', 'ip-rev', 'family', 'bantime', 'failures', 'bancount', 'time', 'fq-hostname', 'sh-hostname']);
/** Tags fail2ban fills with text from logs or DNS: never here. */
const FOREIGN = /^(matches|ipmatches|ipjailmatches|ipfailures|ipjailfailures|ip-host|F-.*|raw-ticket)$/;
const SAFE_IP = /^[0-9A-Fa-f:./]+$/;

export interface ActionCommands {
  /** The file's commands for one family, static tags resolved, dynamic tags left for fill(). */
  commands: Record<Operation, string>;
}

/** Loads an action file and resolves its commands for `family`; throws an error that says what to fix. */
export function loadAction(file: string, optionsText: string | undefined, defaults: Map<string, string>): { forFamily(f: Family): Record<Operation, string>; conditional: boolean; warnings: string[] } {
  const warnings = new Set<string>();
  let sections: Sections;
  try {
    sections = readFilter(file);
  } catch (err) {
    throw new FirewallError(`action file ${(err as Error).message.replace(/^filter file /, '')}`);
  }
  if (!sections.has('Definition')) throw new FirewallError(`action file ${file}: has no [Definition] section`);
  let options: Map<string, string>;
  try {
    options = parseFilterOptions(optionsText);
  } catch (err) {
    throw new FirewallError(`actionOptions: ${(err as Error).message.replace(/^filter options: /, '')}`);
  }
  const conditional = [...sections.keys()].some((k) => /^(Init|Definition)\?family=inet6$/.test(k));

  const forFamily = (family: Family): Record<Operation, string> => {
    const get = (name: string) => sections.get(name) ?? new Map<string, string>();
    const cond = family === 'inet6' ? [...get('Definition?family=inet6'), ...get('Init?family=inet6')] : [];
    const known = new Map<string, string>([...get('DEFAULT'), ...get('Definition'), ...get('Init')]);
    // What the jail passes (name, port, protocol) overrides the file's [Init], as in fail2ban; options override both.
    const scope = new Map<string, string>([...known, ...defaults, ...options, ...cond]);
    const lookup = (name: string): string | undefined => {
      if (name.startsWith('known/')) return known.get(name.slice(6));
      const slash = name.indexOf('/');
      if (slash > 0) return sections.get(name.slice(0, slash))?.get(name.slice(slash + 1));
      return scope.get(name);
    };
    const resolve = (value: string, depth: number, key: string): string => {
      if (depth > 30) throw new FirewallError(`action file ${file}: "${key}" refers to itself (interpolation deeper than 30)`);
      let out = value.replace(/%%|%\(([^)]+)\)s/g, (all, name: string | undefined) => {
        if (all === '%%') return '%'; // ConfigParser's escaped percent sign
        if (name === undefined) return all;
        const v = lookup(name);
        if (v === undefined) throw new FirewallError(`action file ${file}: "${key}" refers to %(${name})s, which is not defined`);
        return resolve(v, depth + 1, name);
      });
      for (let i = 0; i < 30; i++) {
        let changed = false;
        out = out.replace(/<([^ <>]+)>/g, (all, name: string) => {
          if (name === 'br') return (changed = true), '\n';
          if (name === 'sp') return (changed = true), ' ';
          const v = DYNAMIC.has(name) && !scope.has(name) ? undefined : lookup(name);
          if (v === undefined) return all;
          changed = true;
          return resolve(v, depth + 1, name);
        });
        if (!changed) break;
      }
      return out;
    };
    const commands = {} as Record<Operation, string>;
    for (const op of OPERATIONS) {
      const text = resolve(lookup(op) ?? '', 0, op).trim();
      for (const m of text.matchAll(/<([^ <>\n]+)>/g)) {
        if (FOREIGN.test(m[1])) throw new FirewallError(`action file ${file}: ${op} uses <${m[1]}>, which firewall-ban does not fill: it carries text from logs or DNS (or counts it does not keep), and none of that goes into a shell command`);
        // Left as it is, as fail2ban does (`From: <sender>` in a mail text is no tag), but said.
        if (!DYNAMIC.has(m[1])) warnings.add(`action file ${file}: ${op} uses <${m[1]}>, which is not defined and stays as it is; if it is meant as a tag, give it in actionOptions (${m[1]}=...)`);
      }
      commands[op] = text;
    }
    if (!commands.actionban) throw new FirewallError(`action file ${file}: has no actionban`);
    return commands;
  };
  forFamily('inet4');
  if (conditional) forFamily('inet6');
  return { forFamily, conditional, warnings: [...warnings] };
}

/** Fills the dynamic tags of a resolved command for one ban. */
export function fillDynamic(command: string, ip: Address | null, request?: Partial<BanRequest>): string {
  if (ip && !SAFE_IP.test(ip.text)) throw new FirewallError(`refused to put "${ip.text}" into a command`);
  const whole = (n: unknown, fallback: string) => (typeof n === 'number' && Number.isFinite(n) ? String(Math.trunc(n)) : fallback);
  const values: Record<string, string> = {
    ip: ip?.text ?? '',
    fid: ip?.text ?? '',
    family: ip ? (ip.family === 4 ? 'inet4' : 'inet6') : '',
    bantime: request?.seconds === undefined ? '-1' : whole(request.seconds < 0 ? -1 : Math.ceil(request.seconds), '-1'),
    failures: whole(request?.failures, '0'),
    bancount: whole(request?.banCount, '1'),
    time: String(Math.floor(Date.now() / 1000)),
    'ip-rev': ip ? reversed(ip) : '',
    // This machine's own name, as fail2ban fills it; only a well-formed host name is used.
    'fq-hostname': /^[A-Za-z0-9.-]+$/.test(hostname()) ? hostname() : 'localhost',
    'sh-hostname': /^[A-Za-z0-9.-]+$/.test(hostname()) ? hostname().split('.')[0] : 'localhost',
  };
  return command.replace(/<([^ <>\n]+)>/g, (all, name: string) => (name in values ? values[name] : all));
}

/** The reverse DNS form of an address ("4.3.2.1." for 1.2.3.4, nibbles for IPv6), as fail2ban's <ip-rev>. */
function reversed(ip: Address): string {
  const bare = ip.text.split('/')[0];
  if (ip.family === 4) return `${bare.split('.').reverse().join('.')}.`;
  const groups = bare.split('::');
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups.length > 1 && groups[1] ? groups[1].split(':') : [];
  const full = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail].map((g) => g.padStart(4, '0')).join('');
  return `${full.split('').reverse().join('.')}.`;
}

export class ActionBackend implements FirewallBackend {
  readonly name = 'fail2ban-action';
  private readonly run: Runner;
  private readonly action: ReturnType<typeof loadAction>;
  private readonly file: string;
  /** Families whose actionstart ran ('inet4' stands for both when the file has no IPv6 section). */
  private readonly started = new Set<Family>();
  private readonly known = new Map<string, Address>();

  constructor(options: BackendOptions, private readonly shell = '/bin/sh') {
    this.run = options.runner ?? run;
    this.file = String(options.actionFile ?? '').trim();
    if (!this.file) throw new FirewallError('no action file: give the path of a fail2ban action .conf, e.g. /etc/fail2ban/action.d/iptables-multiport.conf');
    // What a jail passes to its action: name, port, protocol (the file's own defaults otherwise).
    const defaults = new Map<string, string>([
      // The node's name, made safe for a shell command line (it is typed by the administrator, but may hold spaces).
      ['name', (options.jail || 'default').replace(/[^\w.-]/g, '-')],
      ['actname', basename(this.file).replace(/\.(conf|local)$/, '')],
    ]);
    if (options.ports.length) defaults.set('port', options.ports.map((p) => p.replace('-', ':')).join(','));
    if (options.protocol !== 'all') defaults.set('protocol', options.protocol);
    this.action = loadAction(this.file, options.actionOptions, defaults);
  }

  /** What the file uses that looks like a tag and is not defined (left as it is). */
  get warnings(): string[] {
    return this.action.warnings;
  }

  private familyOf(ip: Address): Family {
    return this.action.conditional && ip.family === 6 ? 'inet6' : 'inet4';
  }

  private async exec(op: Operation, family: Family, ip: Address | null, request?: Partial<BanRequest>): Promise<void> {
    const command = this.action.forFamily(family)[op];
    if (!command) return;
    await this.run(this.shell, ['-c', fillDynamic(command, ip, request)], undefined, 60000).catch((err: Error) => {
      throw new FirewallError(`${this.file}: ${op} failed: ${err.message.replace(/^\S+ -c failed: /, '')}`);
    });
  }

  /** actioncheck: true when it passes or there is none. */
  private async checkFamily(family: Family): Promise<boolean> {
    try {
      await this.exec('actioncheck', family, null);
      return true;
    } catch {
      return false;
    }
  }

  private async startFamily(family: Family): Promise<void> {
    // Left over from a run that was killed: stop it first, as fail2ban's restart does.
    if (this.action.forFamily(family).actioncheck && (await this.checkFamily(family))) await this.exec('actionstop', family, null).catch(() => undefined);
    await this.exec('actionstart', family, null);
    this.started.add(family);
  }

  async start(): Promise<void> {
    const families = [...this.started];
    this.started.clear();
    // A file with an IPv6 section starts each family on demand, at its first ban (as fail2ban does).
    if (!this.action.conditional) await this.startFamily('inet4');
    else for (const f of families) await this.startFamily(f);
  }

  async ban(requests: BanRequest[]): Promise<void> {
    const errors: string[] = [];
    for (const r of requests) {
      const family = this.familyOf(r.ip);
      try {
        if (!this.started.has(family)) await this.startFamily(family);
        // A new ban of a held address: lift the old one first, so rule-per-address files hold one rule.
        if (this.known.has(r.ip.text)) await this.exec('actionunban', family, r.ip, r).catch(() => undefined);
        try {
          await this.exec('actionban', family, r.ip, r);
        } catch {
          // Maybe held from before a crash ("already exists"): lift it, then ban once more.
          await this.exec('actionunban', family, r.ip, r).catch(() => undefined);
          await this.exec('actionban', family, r.ip, r);
        }
        this.known.set(r.ip.text, r.ip);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length) throw new FirewallError(errors.length === 1 ? errors[0] : `${errors.length} bans failed, the first: ${errors[0]}`);
  }

  async unban(ips: Address[]): Promise<void> {
    const errors: string[] = [];
    for (const ip of ips) {
      await this.exec('actionunban', this.familyOf(ip), ip).then(
        () => this.known.delete(ip.text),
        (err: Error) => errors.push(err.message),
      );
    }
    if (errors.length) throw new FirewallError(errors.length === 1 ? errors[0] : `${errors.length} unbans failed, the first: ${errors[0]}`);
  }

  /** What this backend banned, as long as the file's actioncheck says its setup is intact (per family). */
  async list(): Promise<string[]> {
    const intact = new Map<Family, boolean>();
    const out: string[] = [];
    for (const ip of this.known.values()) {
      const family = this.familyOf(ip);
      if (!intact.has(family)) intact.set(family, this.started.has(family) && (await this.checkFamily(family)));
      if (intact.get(family)) out.push(ip.text);
    }
    return out;
  }

  async check(ip: Address): Promise<boolean> {
    return (await this.list()).includes(ip.text);
  }

  /** Runs actionstop, as fail2ban does when a jail stops: the file decides whether bans outlive it. */
  async stop(): Promise<void> {
    for (const family of this.started) await this.exec('actionstop', family, null);
    this.started.clear();
    this.known.clear();
  }
}

