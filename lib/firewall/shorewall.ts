/**
 * shorewall: `shorewall drop IP...` and `shorewall allow IP...` (shorewall6 for IPv6), as in the classic
 * fail2ban setup: shorewall's dynamic blacklist, which drops every packet from the address (`ports` do not
 * apply). Many addresses go in one call. Shorewall must be running: start() checks.
 */
import { parseAddressOrPrefix, type Address, type Family } from '../ip';
import { FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, saidNo, type Runner } from './run';

export class ShorewallBackend implements FirewallBackend {
  readonly name = 'shorewall';
  private readonly run: Runner;

  constructor(options: BackendOptions, private readonly tools: Record<Family, string> = { 4: 'shorewall', 6: 'shorewall6' }) {
    this.run = options.runner ?? run;
  }

  async start(): Promise<void> {
    try {
      await this.run(this.tools[4], ['status']);
    } catch (err) {
      if (saidNo(err)) throw new FirewallError('shorewall is not running: start it (shorewall start), or choose another backend');
      throw err;
    }
  }

  private async each(ips: Address[], verb: 'drop' | 'allow'): Promise<void> {
    for (const family of [4, 6] as const) {
      const mine = ips.filter((ip) => ip.family === family).map((ip) => ip.text);
      if (mine.length) await this.run(this.tools[family], [verb, ...mine]);
    }
  }

  async ban(requests: BanRequest[]): Promise<void> {
    const held = new Set(await this.list());
    await this.each(requests.map((r) => r.ip).filter((ip) => !held.has(ip.text)), 'drop');
  }

  async unban(ips: Address[]): Promise<void> {
    const held = new Set(await this.list());
    await this.each(ips.filter((ip) => held.has(ip.text)), 'allow');
  }

  async list(): Promise<string[]> {
    const { stdout } = await this.run(this.tools[4], ['show', 'dynamic']);
    const out = dynamicSources(stdout);
    // IPv6 only where shorewall6 runs; without it an IPv6 ban fails with advice when it is made.
    const v6 = await this.run(this.tools[6], ['show', 'dynamic']).catch(() => ({ stdout: '' }));
    return [...out, ...dynamicSources(v6.stdout)];
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(): Promise<void> {}
}

/** The sources of DROP/reject lines of `shorewall show dynamic` (iptables -L output of the dynamic chain). */
export function dynamicSources(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // pkts bytes target prot opt in out source destination
    if (cols.length < 9 || !/^(DROP|REJECT|reject|logdrop|logreject)$/.test(cols[2])) continue;
    const ip = parseAddressOrPrefix(cols[7]);
    if (ip) out.push(ip.text);
  }
  return out;
}
