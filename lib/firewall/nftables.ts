/**
 * nftables: one table (shared by jails), and per jail one chain and per family one timeout set for
 * addresses (`setName` for IPv4, `setName-v6` for IPv6) and one interval set for prefix bans
 * (`setName-net`, `setName-net6`). Addresses go in plain hash sets because nft deletes elements of an
 * interval set slowly (10,000 took 40 s); prefixes are few. The kernel lifts a ban by itself when its
 * timeout runs out, even if Node-RED is down. Many bans go in with one `nft -f` transaction.
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
  private readonly net4: string;
  private readonly net6: string;

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
    this.net4 = `${options.setName}-net`;
    this.net6 = `${options.setName}-net6`;
  }

  private get sets(): string[] {
    return [this.set4, this.set6, this.net4, this.net6];
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
      // priority -1: before a distribution's own input filter (priority 0) accepts the packet
      `add chain ${t} ${this.chain} { type filter hook input priority -1; policy accept; }`,
      `flush chain ${t} ${this.chain}`,
      // An address set made by an older version with the interval flag is made again (the ledger refills it).
      ...(await this.intervalAddressSets()).map((set) => `delete set ${t} ${set}`),
      `add set ${t} ${this.set4} { type ipv4_addr; flags timeout; }`,
      `add set ${t} ${this.set6} { type ipv6_addr; flags timeout; }`,
      `add set ${t} ${this.net4} { type ipv4_addr; flags interval, timeout; }`,
      `add set ${t} ${this.net6} { type ipv6_addr; flags interval, timeout; }`,
      `add rule ${t} ${this.chain} ip saddr @${this.set4} ${match}drop`,
      `add rule ${t} ${this.chain} ip6 saddr @${this.set6} ${match}drop`,
      `add rule ${t} ${this.chain} ip saddr @${this.net4} ${match}drop`,
      `add rule ${t} ${this.chain} ip6 saddr @${this.net6} ${match}drop`,
      '',
    ].join('\n');
    await this.run(this.nft, ['-f', '-'], script);
  }

  /** Our address sets that exist with the interval flag. */
  private async intervalAddressSets(): Promise<string[]> {
    let stdout: string;
    try {
      ({ stdout } = await this.run(this.nft, ['-j', 'list', 'sets', 'table', 'inet', this.table]));
    } catch {
      return []; // no table yet
    }
    const doc = JSON.parse(stdout) as { nftables: Array<{ set?: { name: string; flags?: string[] } }> };
    return doc.nftables
      .filter((i) => i.set && [this.set4, this.set6].includes(i.set.name) && i.set.flags?.includes('interval'))
      .map((i) => i.set!.name);
  }

  private setOf(ip: Address): string {
    if (ip.isPrefix) return ip.family === 4 ? this.net4 : this.net6;
    return ip.family === 4 ? this.set4 : this.set6;
  }

  /**
   * Bans without listing the sets first (a listing costs an nft run and grows with the set: it was most
   * of a ban's latency). New addresses, the usual case, go in with one `create` transaction, which
   * fails as a whole if any of them is held already. Then a second transaction replaces their timeouts,
   * which a plain `add` would leave as they were: each element is added (nothing happens if it is
   * there), deleted (so it is surely there to delete), and added again with its timeout. Only that one
   * deletes, and a delete makes nft wait for the kernel to release the old element (10-20 ms).
   */
  async ban(requests: BanRequest[]): Promise<void> {
    if (requests.length === 0) return;
    // One request per address, the last one winning: an element named twice in a delete is an error.
    const latest = new Map<string, BanRequest>();
    for (const r of requests) latest.set(r.ip.text, r);
    const bySet = new Map<string, BanRequest[]>();
    for (const r of latest.values()) {
      const set = this.setOf(r.ip);
      const list = bySet.get(set);
      if (list) list.push(r);
      else bySet.set(set, [r]);
    }
    const creates: string[] = [];
    const replaces: string[] = [];
    for (const [set, rs] of bySet) {
      const element = `element inet ${this.table} ${set}`;
      const names = rs.map((r) => r.ip.text);
      const timed = rs.map((r) => `${r.ip.text}${r.seconds < 0 ? '' : ` timeout ${Math.max(1, Math.ceil(r.seconds))}s`}`);
      creates.push(...statements(`create ${element}`, timed));
      replaces.push(...statements(`add ${element}`, names), ...statements(`delete ${element}`, names), ...statements(`add ${element}`, timed));
    }
    try {
      await this.run(this.nft, ['-f', '-'], creates.join('\n') + '\n');
    } catch {
      // Some are held already; or the sets are gone, and then this fails too, with the error to report.
      await this.run(this.nft, ['-f', '-'], replaces.join('\n') + '\n');
    }
  }

  /** `delete element` statements for `ips`, many elements per statement (one per element is slow on interval sets). */
  private deletions(ips: Address[]): string[] {
    const lines: string[] = [];
    for (const set of this.sets) {
      const elems = ips.filter((ip) => this.setOf(ip) === set).map((ip) => ip.text);
      lines.push(...statements(`delete element inet ${this.table} ${set}`, elems));
    }
    return lines;
  }

  async unban(ips: Address[]): Promise<void> {
    if (ips.length === 0) return;
    const present = new Set(await this.list());
    const lines = this.deletions(ips.filter((ip) => present.has(ip.text)));
    if (lines.length) await this.run(this.nft, ['-f', '-'], lines.join('\n') + '\n');
  }

  /**
   * The elements of this jail's sets, read in one call. Throws when a set, the chain or its rules are
   * gone (a flush, a reload), so that the manager makes them again.
   */
  async list(): Promise<string[]> {
    const { stdout } = await this.run(this.nft, ['-j', 'list', 'table', 'inet', this.table]);
    const doc = JSON.parse(stdout) as { nftables: Array<{ set?: { name: string }; rule?: { chain: string } }> };
    const sets = doc.nftables.filter((i) => i.set && this.sets.includes(i.set.name));
    const rules = doc.nftables.filter((i) => i.rule?.chain === this.chain).length;
    if (sets.length !== this.sets.length || rules < this.sets.length) {
      throw new FirewallError(`nftables: the sets or rules of ${this.chain} in table inet ${this.table} are missing`);
    }
    return elementsOf(JSON.stringify({ nftables: sets }));
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (!removeBans) return; // bans stay in the kernel and expire on their own
    const t = `inet ${this.table}`;
    await this.run(this.nft, ['-f', '-'], [`delete chain ${t} ${this.chain}`, ...this.sets.map((set) => `delete set ${t} ${set}`), ''].join('\n'));
    // Remove the table only if no other jail uses it.
    const { stdout } = await this.run(this.nft, ['-j', 'list', 'table', 'inet', this.table]);
    const items = (JSON.parse(stdout).nftables as Array<Record<string, unknown>>).filter((i) => 'chain' in i || 'set' in i);
    if (items.length === 0) await this.run(this.nft, ['delete', 'table', 'inet', this.table]);
  }
}

/** `head { a, b, ... }` statements of at most 1000 elements each. */
function statements(head: string, elems: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elems.length; i += 1000) out.push(`${head} { ${elems.slice(i, i + 1000).join(', ')} }`);
  return out;
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
