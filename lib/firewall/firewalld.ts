/**
 * firewalld: runtime rich rules in the default zone, `rule family="ipv4" source address="IP" [port
 * port="P" protocol="T"] drop`, many in one `firewall-cmd` call, with `--timeout` so firewalld lifts
 * them itself. Runtime rules vanish at `firewall-cmd --reload`; reconciliation puts them back.
 */
import { parseAddressOrPrefix, type Address } from '../ip';
import { checkProtocol, FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, type Runner } from './run';

export class FirewalldBackend implements FirewallBackend {
  readonly name = 'firewalld';
  private readonly run: Runner;
  private readonly ports: string[];
  private readonly protocols: string[];

  constructor(options: BackendOptions, private readonly cmd = 'firewall-cmd') {
    this.run = options.runner ?? run;
    const protocol = checkProtocol(options.protocol);
    this.ports = options.ports;
    this.protocols = protocol === 'all' ? (this.ports.length ? ['tcp', 'udp', 'sctp'] : []) : [protocol];
  }

  async start(): Promise<void> {
    const { stdout } = await this.run(this.cmd, ['--state']).catch(() => ({ stdout: 'not running' }));
    if (stdout.trim() !== 'running') throw new FirewallError('firewalld is not running: start it (systemctl start firewalld), or choose another backend');
  }

  /** The rich rules of one ban. */
  rules(ip: Address): string[] {
    const head = `rule family="${ip.family === 4 ? 'ipv4' : 'ipv6'}" source address="${ip.text}"`;
    if (this.ports.length === 0) return this.protocols.length ? this.protocols.map((p) => `${head} protocol value="${p}" drop`) : [`${head} drop`];
    return this.protocols.flatMap((p) => this.ports.map((port) => `${head} port port="${port}" protocol="${p}" drop`));
  }

  async ban(requests: BanRequest[]): Promise<void> {
    const held = new Set(await this.list());
    // A new ban of a held address gets its new timeout: remove, then add.
    await this.unbanHeld(requests.map((r) => r.ip).filter((ip) => held.has(ip.text)));
    const byTimeout = new Map<number, string[]>();
    for (const r of requests) {
      const t = r.seconds < 0 ? -1 : Math.max(1, Math.ceil(r.seconds));
      byTimeout.set(t, [...(byTimeout.get(t) ?? []), ...this.rules(r.ip).map((rule) => `--add-rich-rule=${rule}`)]);
    }
    for (const [t, args] of byTimeout) await this.run(this.cmd, [...args, ...(t < 0 ? [] : [`--timeout=${t}s`])]);
  }

  private async unbanHeld(ips: Address[]): Promise<void> {
    if (ips.length) await this.run(this.cmd, ips.flatMap((ip) => this.rules(ip).map((rule) => `--remove-rich-rule=${rule}`)));
  }

  async unban(ips: Address[]): Promise<void> {
    const held = new Set(await this.list());
    await this.unbanHeld(ips.filter((ip) => held.has(ip.text)));
  }

  async list(): Promise<string[]> {
    const { stdout } = await this.run(this.cmd, ['--list-rich-rules']);
    return richSources(stdout);
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(): Promise<void> {}
}

/** The source addresses of drop rules in `firewall-cmd --list-rich-rules` output. */
export function richSources(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (!/\bdrop\s*$/.test(line)) continue;
    const m = /source address="([^"]+)"/.exec(line);
    const ip = m ? parseAddressOrPrefix(m[1]) : null;
    if (ip) out.add(ip.text);
  }
  return [...out];
}
