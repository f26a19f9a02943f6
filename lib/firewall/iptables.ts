/**
 * iptables: one chain per jail (`setName`) in the filter table, jumped to from the top of `chain` (INPUT
 * by default; DOCKER-USER or FORWARD for traffic to containers and VMs), in both
 * iptables (IPv4) and ip6tables (IPv6). The per-address backend holds one DROP rule per ban in that chain;
 * the ipset backend (ipset.ts) holds one rule per family that matches a set. Many rules go in with one
 * `iptables-restore --noflush`. Plain iptables has no timeouts: the ban manager lifts bans when they end,
 * and lifts those that ended while Node-RED was down when it starts again.
 *
 * The chain that jumps is never created or removed here: INPUT and FORWARD are always there, and
 * DOCKER-USER is Docker's (it makes it when it starts, and jumps to it from FORWARD before its own
 * accept rules). While it is missing, the jail's chain holds the bans and waiting() says so; the ban
 * manager starts the backend again until the jump can be made. In any chain but INPUT, `ports` match
 * the connection's original destination port (`-m conntrack --ctorigdstport`): by FORWARD, DNAT has
 * turned a published port 8080 into the container's 80.
 */
import { parseAddressOrPrefix, type Address, type Family } from '../ip';
import { checkName, checkProtocol, FirewallError, heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, saidNo, type Runner } from './run';

/** The iptables tools of one family. */
export interface IptablesTools {
  iptables: string;
  restore: string;
}

export const TOOLS: Record<Family, IptablesTools> = {
  4: { iptables: 'iptables', restore: 'iptables-restore' },
  6: { iptables: 'ip6tables', restore: 'ip6tables-restore' },
};

/**
 * The match arguments for `ports` and `protocol`, one list per rule (protocol `all` with ports takes
 * three). With `original`, ports are the connection's original destination port, one rule per port or
 * range (conntrack takes one each).
 */
export function ruleMatches(ports: string[], protocol: string, original = false): string[][] {
  if (ports.length === 0) return [protocol === 'all' ? [] : ['-p', protocol]];
  const ranges = ports.map((p) => p.replace('-', ':'));
  const protocols = protocol === 'all' ? ['tcp', 'udp', 'sctp'] : [protocol];
  if (original) return protocols.flatMap((p) => ranges.map((r) => ['-p', p, '-m', 'conntrack', '--ctorigdstport', r]));
  return protocols.map((p) => ['-p', p, '-m', 'multiport', '--dports', ranges.join(',')]);
}

/** The chains a jail's chain may be jumped to from; jumps from the others are removed at start and stop. */
const KNOWN_FROM = ['INPUT', 'FORWARD', 'DOCKER-USER'];

/** Checks `chain` (the chain that jumps to the jail's); empty means INPUT. */
export function parseFromChain(chain: string | undefined): string {
  return checkName('chain', String(chain ?? '').trim() || 'INPUT', 28);
}

/** Does a chain in any but INPUT see forwarded traffic, whose ports are the original ones? */
export function matchesOriginalPort(from: string): boolean {
  return from !== 'INPUT';
}

/** "No chain/target/match by that name": the chain asked for does not exist. */
function noSuchChain(err: unknown): boolean {
  return saidNo(err) && /No chain|does not exist|doesn't exist/i.test((err as Error).message);
}

/** The chain a jail owns in one family: made at start, jumped to from `from` (INPUT by default), removed at stop. */
export class JailChain {
  constructor(readonly chain: string, readonly tools: IptablesTools, private readonly run: Runner, readonly from = 'INPUT') {}

  /**
   * Makes the chain if it is missing and puts the jump at the top of `from` if it is not there; removes
   * jumps to it from the other chains a setting may have named before. Resolves with why the jump cannot
   * be made yet (`from` does not exist: Docker has not made DOCKER-USER), or null.
   */
  async ensure(): Promise<string | null> {
    const ipt = this.tools.iptables;
    try {
      await this.run(ipt, ['-w', '-S', this.chain]);
    } catch (err) {
      if (!saidNo(err)) throw err;
      await this.run(ipt, ['-w', '-N', this.chain]);
    }
    for (const other of KNOWN_FROM.filter((c) => c !== this.from)) await this.removeJump(other);
    if (await this.jumped()) return null;
    try {
      await this.run(ipt, ['-w', '-I', this.from, '1', '-j', this.chain]);
    } catch (err) {
      if (!noSuchChain(err)) throw err;
      const docker = this.from !== 'DOCKER-USER' ? '' : this.tools.iptables.startsWith('ip6') ? ' (Docker makes it when it starts, with ip6tables on)' : ' (Docker makes it when it starts)';
      return `${ipt}: chain ${this.from} does not exist yet${docker}; bans wait for it, retrying`;
    }
    return null;
  }

  /** Is the jump from `from` there? (false too when `from` does not exist) */
  async jumped(): Promise<boolean> {
    try {
      await this.run(this.tools.iptables, ['-w', '-C', this.from, '-j', this.chain]);
      return true;
    } catch (err) {
      if (!saidNo(err)) throw err;
      return false;
    }
  }

  /** Removes every jump from `from` to this chain (none, or `from` missing, is fine). */
  private async removeJump(from: string): Promise<void> {
    for (let i = 0; i < 10; i++) {
      try {
        await this.run(this.tools.iptables, ['-w', '-D', from, '-j', this.chain]);
      } catch (err) {
        if (!saidNo(err)) throw err;
        return;
      }
    }
  }

  /** The chain's rules as `iptables -S` prints them (`-A chain ...`), without the `-N` line. */
  async rules(): Promise<string[]> {
    const { stdout } = await this.run(this.tools.iptables, ['-w', '-S', this.chain]);
    return stdout.split('\n').filter((l) => l.startsWith(`-A ${this.chain} `));
  }

  /** Applies rule lines (`-I chain ...`, `-D chain ...`) in one transaction, leaving other chains alone. */
  async restore(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.run(this.tools.restore, ['-w', '--noflush'], ['*filter', ...lines, 'COMMIT', ''].join('\n'));
  }

  /** Removes the jumps and the chain (and the rules in it); never the chain that jumped. */
  async remove(): Promise<void> {
    const ipt = this.tools.iptables;
    for (const from of new Set([this.from, ...KNOWN_FROM])) await this.removeJump(from);
    await this.run(ipt, ['-w', '-F', this.chain]).catch((err) => (saidNo(err) ? undefined : Promise.reject(err)));
    await this.run(ipt, ['-w', '-X', this.chain]).catch((err) => (saidNo(err) ? undefined : Promise.reject(err)));
  }
}

/** A kernel without IPv6 (ipv6.disable=1): IPv4 bans go on, IPv6 bans are refused with the reason. */
export function ipv6Missing(err: unknown): string | null {
  const text = (err as Error).message ?? '';
  return /Address family not supported|can't initialize ip6tables|Protocol not supported/i.test(text) ? text : null;
}

/** The source address of a `-A chain -s 192.0.2.1/32 ...` line, canonical; null when there is none. */
export function sourceOf(rule: string): string | null {
  const m = / -s (\S+)/.exec(rule);
  return m ? parseAddressOrPrefix(m[1])?.text ?? null : null;
}

/** Per-address rules: simple and everywhere, but each packet walks the list; prefer ipset or nftables for thousands. */
export class IptablesBackend implements FirewallBackend {
  readonly name: string = 'iptables';
  private readonly chains: Record<Family, JailChain>;
  private readonly matches: string[][];

  constructor(options: BackendOptions, tools: Record<Family, IptablesTools> = TOOLS) {
    const chain = checkName('setName', options.setName, 28);
    const from = parseFromChain(options.chain);
    const runner = options.runner ?? run;
    this.matches = ruleMatches(options.ports, checkProtocol(options.protocol), matchesOriginalPort(from));
    this.chains = { 4: new JailChain(chain, tools[4], runner, from), 6: new JailChain(chain, tools[6], runner, from) };
  }

  /** Why IPv6 bans cannot be made here, or null. */
  private v6Missing: string | null = null;
  /** Why the bans do not apply yet, per family, or null. */
  private waits: Record<Family, string | null> = { 4: null, 6: null };

  async start(): Promise<void> {
    this.waits[4] = await this.chains[4].ensure();
    this.v6Missing = null;
    this.waits[6] = await this.chains[6].ensure().catch((err) => {
      if (!(this.v6Missing = ipv6Missing(err))) throw err;
      return null;
    });
  }

  waiting(): string | null {
    return waitingText(this.waits);
  }

  /** The families to work on; an IPv6 ban where IPv6 is missing is an error that says so. */
  private families(ips: Address[]): Family[] {
    if (this.v6Missing && ips.some((ip) => ip.family === 6)) {
      throw new FirewallError(`IPv6 bans cannot be made here: ${this.v6Missing}`);
    }
    return this.v6Missing ? [4] : [4, 6];
  }

  private async heldIn(family: Family): Promise<Map<string, string[]>> {
    const held = new Map<string, string[]>();
    for (const rule of await this.chains[family].rules()) {
      const ip = sourceOf(rule);
      if (ip) held.set(ip, [...(held.get(ip) ?? []), rule]);
    }
    return held;
  }

  async ban(requests: BanRequest[]): Promise<void> {
    for (const family of [4, 6] as const) {
      // IPv4 bans go in first; then IPv6 ones where IPv6 is missing are refused with the reason.
      if (family === 6) this.families(requests.map((r) => r.ip));
      const wanted = requests.filter((r) => r.ip.family === family);
      if (wanted.length === 0) continue;
      const held = await this.heldIn(family);
      const chain = this.chains[family].chain;
      const lines: string[] = [];
      for (const r of wanted) {
        if (held.has(r.ip.text)) continue; // a longer ban of a held address changes only the ledger
        for (const m of this.matches) lines.push([`-I ${chain}`, '-s', r.ip.text, ...m, '-j', 'DROP'].join(' '));
      }
      await this.chains[family].restore(lines);
    }
  }

  async unban(ips: Address[]): Promise<void> {
    for (const family of this.v6Missing ? ([4] as const) : ([4, 6] as const)) {
      const wanted = ips.filter((ip) => ip.family === family);
      if (wanted.length === 0) continue;
      const held = await this.heldIn(family);
      // Deleting the rules exactly as listed also lifts bans made with other ports before a change.
      const lines = wanted.flatMap((ip) => held.get(ip.text) ?? []).map((rule) => rule.replace(/^-A /, '-D '));
      await this.chains[family].restore(lines);
    }
  }

  async list(): Promise<string[]> {
    for (const family of this.v6Missing ? ([4] as const) : ([4, 6] as const)) await checkJump(this.chains[family], this.waits[family]);
    return [...(await this.heldIn(4)).keys(), ...(this.v6Missing ? [] : (await this.heldIn(6)).keys())];
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (!removeBans) return; // rules stay; the ledger lifts the expired ones at the next start
    await this.chains[4].remove();
    if (!this.v6Missing) await this.chains[6].remove();
  }
}

/** waiting() of the two families: null when both jumps are made. */
export function waitingText(waits: Record<Family, string | null>): string | null {
  return waits[4] ?? waits[6];
}

/**
 * Throws when the jump into the jail's chain is gone (a flush of `from`), so that the manager starts the
 * backend again; not while it waits for `from` to exist (start() is tried again for that).
 */
export async function checkJump(chain: JailChain, waiting: string | null): Promise<void> {
  if (waiting) return;
  if (!(await chain.jumped())) throw new FirewallError(`${chain.tools.iptables}: the jump from ${chain.from} to ${chain.chain} is missing`);
}
