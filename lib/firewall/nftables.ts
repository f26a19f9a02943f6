/**
 * nftables: one table (shared by jails), and per jail one chain and per family one timeout set for
 * addresses (`setName` for IPv4, `setName-v6` for IPv6) and one interval set for prefix bans
 * (`setName-net`, `setName-net6`). Addresses go in plain hash sets because nft deletes elements of an
 * interval set slowly (10,000 took 40 s); prefixes are few. The kernel lifts a ban by itself when its
 * timeout runs out, even if Node-RED is down. Many bans go in with one `nft -f` transaction.
 *
 * `hook` says where the bans apply: `input` (this host's own services; the chain is `setName`),
 * `forward` (traffic routed through this host to containers, VMs, a LAN; the chain is `setName-fwd`),
 * or both. Both chains are base chains of type filter at priority -1, one below the filter priority 0
 * where Docker's rules (iptables-nft's `ip filter` FORWARD/DOCKER-USER, or Docker's own nftables
 * tables) and libvirt's (`libvirt_network`, `ip filter` LIBVIRT_FWI...) sit, so a banned packet is
 * dropped before any of their chains sees it. (An accept in another base chain does not end a
 * packet's way through the hook, a drop does; below 0 the drop also comes first, so those chains'
 * counters and logging never see banned packets.) It stays above conntrack (-200) and DNAT (-100,
 * prerouting), so the forward chain sees the connection's original destination port in
 * `ct original proto-dst`: a published port 8080 is matched as 8080 even though the packet now goes
 * to the container's port 80.
 */
import type { Address } from '../ip';
import { FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, type Runner } from './run';

const NAME = /^[A-Za-z][\w-]{0,30}$/;

/** The hooks a jail's chain can attach to. */
export const NFT_HOOKS = ['input', 'forward'] as const;
export type NftHook = (typeof NFT_HOOKS)[number];

/** Parses `hook` ("input", "forward", "input forward", "forward,input"); empty means input. */
export function parseHooks(text: string | undefined): NftHook[] {
  const words = String(text ?? '').split(/[\s,]+/).filter(Boolean);
  if (words.length === 0) return ['input'];
  for (const w of words) {
    if (!(NFT_HOOKS as readonly string[]).includes(w)) throw new FirewallError(`hook "${w}": use input, forward, or "input forward"`);
  }
  return NFT_HOOKS.filter((h) => words.includes(h));
}

export class NftablesBackend implements FirewallBackend {
  readonly name = 'nftables';
  private readonly table: string;
  private readonly chain: string;
  private readonly hooks: NftHook[];
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
    this.hooks = parseHooks(options.hook);
    // The IPv4 set carries the name itself (what `nft list set inet fail2ban f2b-sshd` looks for).
    this.set4 = options.setName;
    this.set6 = `${options.setName}-v6`;
    this.net4 = `${options.setName}-net`;
    this.net6 = `${options.setName}-net6`;
  }

  private get sets(): string[] {
    return [this.set4, this.set6, this.net4, this.net6];
  }

  /** The chain of each hook: `setName` for input (as before hooks were asked for), `setName-fwd` for forward. */
  private chainOf(hook: NftHook): string {
    return hook === 'input' ? this.chain : `${this.chain}-fwd`;
  }

  /**
   * What to block, one match per rule. In the forward hook, ports are the connection's original
   * destination port: DNAT (a published port) has changed the packet's own one by then. There each port
   * and protocol gets a rule of its own: nft (1.0) lists `ct original proto-dst` with a set of ports or
   * protocols as "0x1f90 [invalid type]", which `nft -f` cannot read back (a saved ruleset would not load).
   */
  private ruleMatches(hook: NftHook): string[] {
    const { ports, protocol } = this.options;
    if (ports.length === 0) return [protocol === 'all' ? '' : `meta l4proto ${protocol} `];
    if (hook === 'forward') {
      const protocols = protocol === 'all' ? ['tcp', 'udp', 'sctp'] : [protocol];
      return protocols.flatMap((p) => ports.map((port) => `meta l4proto ${p} ct original proto-dst ${port} `));
    }
    if (protocol === 'all') return [`meta l4proto { tcp, udp, sctp } th dport { ${ports.join(', ')} } `];
    return [`${protocol} dport { ${ports.join(', ')} } `];
  }

  async start(): Promise<void> {
    const t = `inet ${this.table}`;
    const chains: string[] = [];
    const rules: string[] = [];
    for (const hook of NFT_HOOKS) {
      const chain = this.chainOf(hook);
      if (!this.hooks.includes(hook)) {
        // A hook no longer asked for: its chain (ours) goes, if an earlier setting made it.
        chains.push(`add chain ${t} ${chain}`, `flush chain ${t} ${chain}`, `delete chain ${t} ${chain}`);
        continue;
      }
      // priority -1: before Docker's, libvirt's and a distribution's filter chains (priority 0); see above.
      chains.push(`add chain ${t} ${chain} { type filter hook ${hook} priority -1; policy accept; }`, `flush chain ${t} ${chain}`);
      for (const match of this.ruleMatches(hook)) {
        rules.push(
          `add rule ${t} ${chain} ip saddr @${this.set4} ${match}drop`,
          `add rule ${t} ${chain} ip6 saddr @${this.set6} ${match}drop`,
          `add rule ${t} ${chain} ip saddr @${this.net4} ${match}drop`,
          `add rule ${t} ${chain} ip6 saddr @${this.net6} ${match}drop`,
        );
      }
    }
    const script = [
      `add table ${t}`,
      ...chains,
      // An address set made by an older version with the interval flag is made again (the ledger refills it).
      ...(await this.intervalAddressSets()).map((set) => `delete set ${t} ${set}`),
      `add set ${t} ${this.set4} { type ipv4_addr; flags timeout; }`,
      `add set ${t} ${this.set6} { type ipv6_addr; flags timeout; }`,
      `add set ${t} ${this.net4} { type ipv4_addr; flags interval, timeout; }`,
      `add set ${t} ${this.net6} { type ipv6_addr; flags interval, timeout; }`,
      ...rules,
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
    for (const chain of this.hooks.map((h) => this.chainOf(h))) {
      const rules = doc.nftables.filter((i) => i.rule?.chain === chain).length;
      if (sets.length !== this.sets.length || rules < this.sets.length) {
        throw new FirewallError(`nftables: the sets or rules of ${chain} in table inet ${this.table} are missing`);
      }
    }
    return elementsOf(JSON.stringify({ nftables: sets }));
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (!removeBans) return; // bans stay in the kernel and expire on their own
    const t = `inet ${this.table}`;
    await this.run(this.nft, ['-f', '-'], [...this.hooks.map((h) => `delete chain ${t} ${this.chainOf(h)}`), ...this.sets.map((set) => `delete set ${t} ${set}`), ''].join('\n'));
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
