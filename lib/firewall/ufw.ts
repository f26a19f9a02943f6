/**
 * ufw: one `ufw prepend deny from IP to any [port P proto T] comment SETNAME` rule per ban, so it comes
 * before ufw's own allow rules; lifted with `ufw delete deny ...`. ufw has no batch form and rewrites its
 * rule files on every call, so it suits a few hundred bans, not thousands (use nftables for those).
 * ufw must be enabled (`ufw enable`), or its rules do nothing: start() checks.
 */
import { parseAddressOrPrefix, type Address } from '../ip';
import { checkName, checkProtocol, FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, type Runner } from './run';

export class UfwBackend implements FirewallBackend {
  readonly name = 'ufw';
  private readonly run: Runner;
  private readonly comment: string;
  private readonly target: string[];

  constructor(options: BackendOptions, private readonly ufw = 'ufw') {
    this.run = options.runner ?? run;
    this.comment = checkName('setName', options.setName, 64);
    const protocol = checkProtocol(options.protocol);
    if (protocol === 'sctp') throw new FirewallError('protocol "sctp": ufw blocks tcp or udp ports; choose tcp, udp or all, or another backend');
    const ports = options.ports.map((p) => p.replace('-', ':'));
    if (ports.length === 0) this.target = protocol === 'all' ? [] : ['proto', protocol];
    else if (protocol === 'all' && (ports.length > 1 || ports[0].includes(':'))) {
      throw new FirewallError('ufw needs protocol tcp or udp for several ports or a range; choose one, or give one port');
    } else this.target = ['port', ports.join(','), ...(protocol === 'all' ? [] : ['proto', protocol])];
  }

  async start(): Promise<void> {
    const { stdout } = await this.run(this.ufw, ['status']);
    if (!/Status:\s*active/i.test(stdout)) throw new FirewallError('ufw is inactive, so its rules would block nothing: run "ufw enable" (allow ssh first), or choose another backend');
  }

  private rule(ip: Address): string[] {
    return ['from', ip.text, 'to', 'any', ...this.target];
  }

  async ban(requests: BanRequest[]): Promise<void> {
    const held = new Set(await this.list());
    for (const r of requests) {
      if (held.has(r.ip.text)) continue;
      await this.run(this.ufw, ['prepend', 'deny', ...this.rule(r.ip), 'comment', this.comment]);
    }
  }

  async unban(ips: Address[]): Promise<void> {
    const held = new Set(await this.list());
    for (const ip of ips) if (held.has(ip.text)) await this.run(this.ufw, ['delete', 'deny', ...this.rule(ip)]);
  }

  /** The sources of our rules in `ufw show added` (lines such as "ufw deny from 192.0.2.1 to any ... comment 'f2b-sshd'"). */
  async list(): Promise<string[]> {
    const { stdout } = await this.run(this.ufw, ['show', 'added']);
    return ufwSources(stdout, this.comment);
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(): Promise<void> {}
}

export function ufwSources(added: string, comment: string): string[] {
  const out: string[] = [];
  for (const line of added.split('\n')) {
    if (!/\bdeny\b/.test(line) || !line.includes(`comment '${comment}'`)) continue;
    const m = /\bfrom (\S+)/.exec(line);
    const ip = m ? parseAddressOrPrefix(m[1]) : null;
    if (ip) out.push(ip.text);
  }
  return out;
}
