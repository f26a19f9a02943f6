/** The interface every firewall backend implements, and what they share. */
import type { Address } from '../ip';
import type { Runner } from './run';

export interface BanRequest {
  ip: Address;
  /** Seconds, -1 for ever. */
  seconds: number;
  /** From the ban decision, for fail2ban action files' `<failures>` and `<bancount>` (numbers only). */
  failures?: number;
  banCount?: number;
}

export interface BackendOptions {
  /** Name of the set / chain / rule group this node owns. */
  setName: string;
  /** nftables table. */
  table: string;
  /** Ports to block; empty blocks every port. */
  ports: string[];
  protocol: string;
  /** The jail name (fail2ban-action's `<name>` when the options give none). */
  jail?: string;
  /** fail2ban-action: path of an `action.d/*.conf` file and its options ("name=sshd, port=22"). */
  actionFile?: string;
  actionOptions?: string;
  /** command: argument templates with `<ip>`. */
  banCommand?: string;
  unbanCommand?: string;
  checkCommand?: string;
  /** nftables: the hooks the jail's chain attaches to: `input` (default), `forward` or `input forward`. */
  hook?: string;
  /** iptables, iptables-ipset: the chain that jumps to the jail's chain: `INPUT` (default), `DOCKER-USER`, `FORWARD`. */
  chain?: string;
  /** hostsdeny: the file to write (default /etc/hosts.deny). */
  hostsFile?: string;
  /** How commands are run; only tests of tools that cannot run here replace it. */
  runner?: Runner;
}

export interface FirewallBackend {
  readonly name: string;
  /** Checks the tools are there and creates what the backend owns (table, set, chain). */
  start(): Promise<void>;
  ban(requests: BanRequest[]): Promise<void>;
  unban(ips: Address[]): Promise<void>;
  /** The addresses and prefixes the firewall holds now, in canonical text. */
  list(): Promise<string[]>;
  /** Whether the firewall holds a ban of `ip` now (list() is the batch form of this question). */
  check(ip: Address): Promise<boolean>;
  /**
   * Why the bans held do not apply yet (a chain another program owns, such as Docker's DOCKER-USER, is
   * missing), or null. The manager shows it and calls start() again until it is null.
   */
  waiting?(): string | null;
  /** Releases what start() made; `removeBans` also lifts every ban this backend holds. */
  stop(removeBans: boolean): Promise<void>;
}

export class FirewallError extends Error {}

/** A name the backend puts into its tools' arguments: set, chain, ipset names. */
export function checkName(what: string, name: string, max: number): string {
  if (!/^[A-Za-z][\w-]*$/.test(name) || name.length > max) {
    throw new FirewallError(`${what} "${name}": use letters, digits, - and _ (at most ${max}), starting with a letter`);
  }
  return name;
}

export function checkProtocol(protocol: string): string {
  if (!/^(tcp|udp|sctp|all)$/.test(protocol)) throw new FirewallError(`protocol "${protocol}": use tcp, udp, sctp or all`);
  return protocol;
}

/** check() for a backend that can list: one list() and a look. */
export async function heldBy(backend: Pick<FirewallBackend, 'list'>, ip: Address): Promise<boolean> {
  return (await backend.list()).includes(ip.text);
}

/** Parses "22, 80,443" or "22 2222" into port numbers or ranges ("1000-2000"). */
export function parsePorts(text: string | undefined): string[] {
  const ports = String(text ?? '').split(/[\s,]+/).filter(Boolean);
  for (const p of ports) {
    const m = /^(\d{1,5})(?:[-:](\d{1,5}))?$/.exec(p);
    const ok = m && Number(m[1]) >= 1 && Number(m[1]) <= 65535 && (!m[2] || (Number(m[2]) >= Number(m[1]) && Number(m[2]) <= 65535));
    if (!ok) throw new FirewallError(`ports: "${p}" is not a port number or range (1-65535, e.g. 22 or 1000-2000)`);
  }
  return ports.map((p) => p.replace(':', '-'));
}
