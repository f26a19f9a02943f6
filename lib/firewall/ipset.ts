/**
 * iptables + ipset: per family one ipset of type hash:net with timeouts (`setName` for IPv4,
 * `setName-v6` for IPv6) and one rule in the jail's chain that drops what the set holds. The kernel
 * lifts a ban by itself when its timeout runs out; bans go in with one `ipset restore` for many addresses.
 */
import { parseAddressOrPrefix, type Address, type Family } from '../ip';
import { checkName, checkProtocol, FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { checkJump, ipv6Missing, JailChain, matchesOriginalPort, parseFromChain, ruleMatches, TOOLS, waitingText, type IptablesTools } from './iptables';
import { run, type Runner } from './run';

/** ipset's largest timeout (about 24 days); longer bans are held without one and lifted by the manager. */
export const IPSET_MAX_TIMEOUT = 2147483;

export class IpsetBackend implements FirewallBackend {
  readonly name = 'iptables-ipset';
  private readonly run: Runner;
  private readonly sets: Record<Family, string>;
  private readonly chains: Record<Family, JailChain>;
  private readonly matches: string[][];

  constructor(options: BackendOptions, tools: Record<Family, IptablesTools> = TOOLS, private readonly ipset = 'ipset') {
    const name = checkName('setName', options.setName, 28);
    this.run = options.runner ?? run;
    const from = parseFromChain(options.chain);
    this.matches = ruleMatches(options.ports, checkProtocol(options.protocol), matchesOriginalPort(from));
    this.sets = { 4: name, 6: `${name}-v6` };
    this.chains = { 4: new JailChain(name, tools[4], this.run, from), 6: new JailChain(name, tools[6], this.run, from) };
  }

  /** Why IPv6 bans cannot be made here (a kernel without IPv6), or null. */
  private v6Missing: string | null = null;
  /** Why the bans do not apply yet (the chain that jumps is missing), per family, or null. */
  private waits: Record<Family, string | null> = { 4: null, 6: null };

  waiting(): string | null {
    return waitingText(this.waits);
  }

  async start(): Promise<void> {
    this.v6Missing = null;
    for (const family of [4, 6] as const) {
      await this.run(this.ipset, ['create', this.sets[family], 'hash:net', 'family', family === 4 ? 'inet' : 'inet6', 'timeout', '0', '-exist']);
      const chain = this.chains[family];
      this.waits[family] = null;
      try {
        this.waits[family] = await chain.ensure();
        // Written as `iptables -S` prints them (-p first), so that rules already in place are seen as such
        // and left alone: start() runs again every few seconds while DOCKER-USER is missing, and a flush
        // would leave the chain empty for a moment each time.
        const wanted = this.matches.map((m) => {
          const proto = m[0] === '-p' ? m.slice(0, 2) : [];
          return [`-A ${chain.chain}`, ...proto, '-m', 'set', '--match-set', this.sets[family], 'src', ...m.slice(proto.length), '-j', 'DROP'].join(' ');
        });
        if ((await chain.rules()).join('\n') !== wanted.join('\n')) {
          await this.run(chain.tools.iptables, ['-w', '-F', chain.chain]);
          await chain.restore(wanted);
        }
      } catch (err) {
        if (family === 4 || !(this.v6Missing = ipv6Missing(err))) throw err;
      }
    }
  }

  async ban(requests: BanRequest[]): Promise<void> {
    if (requests.length === 0) return;
    if (this.v6Missing && requests.some((r) => r.ip.family === 6)) {
      // IPv4 bans go in; the IPv6 ones are refused with the reason.
      await this.ban(requests.filter((r) => r.ip.family === 4));
      throw new FirewallError(`IPv6 bans cannot be made here: ${this.v6Missing}`);
    }
    // -exist: adding an address the set holds sets its new timeout.
    const lines = requests.map((r) => {
      const timeout = r.seconds < 0 || r.seconds > IPSET_MAX_TIMEOUT ? 0 : Math.max(1, Math.ceil(r.seconds));
      return `add ${this.sets[r.ip.family]} ${r.ip.text} timeout ${timeout}`;
    });
    await this.run(this.ipset, ['restore', '-exist'], lines.join('\n') + '\n');
  }

  async unban(ips: Address[]): Promise<void> {
    if (ips.length === 0) return;
    const lines = ips.map((ip) => `del ${this.sets[ip.family]} ${ip.text}`);
    await this.run(this.ipset, ['restore', '-exist'], lines.join('\n') + '\n');
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const family of this.v6Missing ? ([4] as const) : ([4, 6] as const)) await checkJump(this.chains[family], this.waits[family]);
    for (const family of [4, 6] as const) {
      const { stdout } = await this.run(this.ipset, ['save', this.sets[family]]);
      out.push(...membersOf(stdout, this.sets[family]));
    }
    return out;
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (!removeBans) return; // the sets keep their bans, with their timeouts, while Node-RED is down
    for (const family of [4, 6] as const) {
      if (family === 6 && this.v6Missing) continue;
      await this.chains[family].remove();
      await this.run(this.ipset, ['destroy', this.sets[family]]).catch(() => undefined);
    }
  }
}

/** The members of `ipset save` output for `set`, canonical. */
export function membersOf(save: string, set: string): string[] {
  const out: string[] = [];
  for (const line of save.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] !== 'add' || parts[1] !== set) continue;
    const ip = parseAddressOrPrefix(parts[2]);
    if (ip) out.push(ip.text);
  }
  return out;
}
