/**
 * nftables: one table (shared by jails), and per jail one chain and one timeout set per family:
 * `setName` for IPv4 and `setName-v6` for IPv6, both flagged interval (so prefixes fit) and timeout.
 * The kernel lifts a ban by itself when its timeout runs out, even if Node-RED is down.
 */
import type { Address } from '../ip';
import { FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, type Runner } from './run';

const NAME = /^[A-Za-z][\w-]{0,30}$/;

export class NftablesBackend implements FirewallBackend {
  readonly name = 'nftables';
  private readonly table: string;
  private readonly chain: string;
  private readonly set4: string;
  private readonly set6: string;

  private readonly run: Runner;

  constructor(private readonly options: BackendOptions, private readonly nft = 'nft') {
    this.run = options.runner ?? run;
    if (!NAME.test(options.table)) throw new FirewallError(`table "${options.table}": use letters, digits, - and _ (at most 31), starting with a letter`);
    if (!NAME.test(options.setName) || options.setName.length > 28) {
      throw new FirewallError(`setName "${options.setName}": use letters, digits, - and _ (at most 28), starting with a letter`);
    }
    if (!/^(tcp|udp|sctp|all)$/.test(options.protocol)) throw new FirewallError(`protocol "${options.protocol}": use tcp, udp, sctp or all`);
    this.table = options.table;
    this.chain = options.setName;
    // The IPv4 set carries the name itself (what `nft list set inet fail2ban f2b-sshd` looks for).
    this.set4 = options.setName;
    this.set6 = `${options.setName}-v6`;
  }

  private ruleMatch(): string {
    const { ports, protocol } = this.options;
    if (ports.length === 0) return protocol === 'all' ? '' : `meta l4proto ${protocol} `;
    if (protocol === 'all') return `meta l4proto { tcp, udp, sctp } th dport { ${ports.join(', ')} } `;
    return `${protocol} dport { ${ports.join(', ')} } `;
  }

  async start(): Promise<void> {
    const t = `inet ${this.table}`;
    const match = this.ruleMatch();
    const script = [
      `add table ${t}`,
      `add set ${t} ${this.set4} { type ipv4_addr; flags interval, timeout; }`,
      `add set ${t} ${this.set6} { type ipv6_addr; flags interval, timeout; }`,
      // priority -1: before a distribution's own input filter (priority 0) accepts the packet
      `add chain ${t} ${this.chain} { type filter hook input priority -1; policy accept; }`,
      `flush chain ${t} ${this.chain}`,
      `add rule ${t} ${this.chain} ip saddr @${this.set4} ${match}drop`,
      `add rule ${t} ${this.chain} ip6 saddr @${this.set6} ${match}drop`,
      '',
    ].join('\n');
    await this.run(this.nft, ['-f', '-'], script);
  }

  private setOf(ip: Address): string {
    return ip.family === 4 ? this.set4 : this.set6;
  }

  async ban(requests: BanRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const present = new Set(await this.list());
    const lines: string[] = [];
    for (const r of requests) {
      const set = `inet ${this.table} ${this.setOf(r.ip)}`;
      // A new ban of an address already held replaces its timeout.
      if (present.has(r.ip.text)) lines.push(`delete element ${set} { ${r.ip.text} }`);
      const timeout = r.seconds < 0 ? '' : ` timeout ${Math.max(1, Math.ceil(r.seconds))}s`;
      lines.push(`add element ${set} { ${r.ip.text}${timeout} }`);
    }
    await this.run(this.nft, ['-f', '-'], lines.join('\n') + '\n');
  }

  async unban(ips: Address[]): Promise<void> {
    if (ips.length === 0) return;
    const present = new Set(await this.list());
    const lines = ips
      .filter((ip) => present.has(ip.text))
      .map((ip) => `delete element inet ${this.table} ${this.setOf(ip)} { ${ip.text} }`);
    if (lines.length) await this.run(this.nft, ['-f', '-'], lines.join('\n') + '\n');
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const set of [this.set4, this.set6]) {
      const { stdout } = await this.run(this.nft, ['-j', 'list', 'set', 'inet', this.table, set]);
      out.push(...elementsOf(stdout));
    }
    return out;
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (!removeBans) return; // bans stay in the kernel and expire on their own
    const t = `inet ${this.table}`;
    await this.run(this.nft, ['-f', '-'], `delete chain ${t} ${this.chain}\ndelete set ${t} ${this.set4}\ndelete set ${t} ${this.set6}\n`);
    // Remove the table only if no other jail uses it.
    const { stdout } = await this.run(this.nft, ['-j', 'list', 'table', 'inet', this.table]);
    const items = (JSON.parse(stdout).nftables as Array<Record<string, unknown>>).filter((i) => 'chain' in i || 'set' in i);
    if (items.length === 0) await this.run(this.nft, ['delete', 'table', 'inet', this.table]);
  }
}

type NftElem = string | { prefix?: { addr: string; len: number }; elem?: { val: NftElem }; range?: [string, string] };

/** Reads the elements of `nft -j list set` output as canonical text. */
export function elementsOf(json: string): string[] {
  const doc = JSON.parse(json) as { nftables: Array<{ set?: { elem?: NftElem[] } }> };
  const out: string[] = [];
  const read = (e: NftElem): string | null => {
    if (typeof e === 'string') return e;
    if (e.elem) return read(e.elem.val);
    if (e.prefix) return `${e.prefix.addr}/${e.prefix.len}`;
    return null;
  };
  for (const item of doc.nftables) {
    for (const e of item.set?.elem ?? []) {
      const text = read(e);
      if (text) out.push(text);
    }
  }
  return out;
}
