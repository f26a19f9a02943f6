/** The interface every firewall backend implements, and what they share. */
import type { Address } from '../ip';

export interface BanRequest {
  ip: Address;
  /** Seconds, -1 for ever. */
  seconds: number;
}

export interface BackendOptions {
  /** Name of the set / chain / rule group this node owns. */
  setName: string;
  /** nftables table. */
  table: string;
  /** Ports to block; empty blocks every port. */
  ports: string[];
  protocol: string;
}

export interface FirewallBackend {
  readonly name: string;
  /** Checks the tools are there and creates what the backend owns (table, set, chain). */
  start(): Promise<void>;
  ban(requests: BanRequest[]): Promise<void>;
  unban(ips: Address[]): Promise<void>;
  /** The addresses and prefixes the firewall holds now, in canonical text. */
  list(): Promise<string[]>;
  /** Releases what start() made; `removeBans` also lifts every ban this backend holds. */
  stop(removeBans: boolean): Promise<void>;
}

export class FirewallError extends Error {}

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
