/** ignoreip / ignoreself: the addresses that are never banned, whatever the log says. */
import { lookup } from 'dns/promises';
import { AddressSet, interfaceAddresses, parseAddress, parseAddressOrPrefix, type Address } from '../ip';

export interface IgnoreEntries {
  addresses: Address[];
  hostnames: string[];
  invalid: string[];
}

const HOSTNAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;

/** Splits an ignoreip text (spaces, commas, new lines) into addresses/prefixes and host names. */
export function parseIgnoreList(text: string | undefined): IgnoreEntries {
  const result: IgnoreEntries = { addresses: [], hostnames: [], invalid: [] };
  for (const token of String(text ?? '').split(/[\s,]+/).filter(Boolean)) {
    const addr = parseAddressOrPrefix(token);
    if (addr) result.addresses.push(addr);
    else if (HOSTNAME.test(token) && !/^[\d.]+$/.test(token)) result.hostnames.push(token);
    else result.invalid.push(token);
  }
  return result;
}

/** Every address of this machine's interfaces. */
export function ownAddresses(): Address[] {
  return interfaceAddresses().map((i) => i.address);
}

export class IgnoreList {
  private set = new AddressSet();
  private readonly entries: IgnoreEntries;
  private readonly includeSelf: boolean;
  /** Host names that did not resolve at the last refresh. */
  unresolved: string[] = [];

  constructor(text: string | undefined, includeSelf: boolean) {
    this.entries = parseIgnoreList(text);
    this.includeSelf = includeSelf;
    this.rebuild([]);
  }

  get invalid(): string[] {
    return this.entries.invalid;
  }

  get hostnames(): string[] {
    return this.entries.hostnames;
  }

  private rebuild(resolved: Address[]): void {
    const set = new AddressSet();
    for (const a of this.entries.addresses) set.add(a);
    for (const a of resolved) set.add(a);
    if (this.includeSelf) for (const a of ownAddresses()) set.add(a);
    this.set = set;
  }

  /** Resolves host names (and re-reads this machine's addresses); a name that fails is reported, not fatal. */
  async refresh(resolve: (name: string) => Promise<string[]> = defaultResolve): Promise<void> {
    const resolved: Address[] = [];
    const unresolved: string[] = [];
    for (const name of this.entries.hostnames) {
      try {
        for (const text of await resolve(name)) {
          const addr = parseAddress(text);
          if (addr) resolved.push(addr);
        }
      } catch {
        unresolved.push(name);
      }
    }
    this.unresolved = unresolved;
    this.rebuild(resolved);
  }

  /** True when `host` (an IP or prefix, as text or parsed) is covered by the list. Non-IP ids are never ignored. */
  has(host: string | Address): boolean {
    const addr = typeof host === 'string' ? parseAddressOrPrefix(host) : host;
    return addr ? this.set.has(addr) : false;
  }
}

async function defaultResolve(name: string): Promise<string[]> {
  // RFC 6761: a name under .invalid never exists, and resolvers should say so at once, without asking
  // the DNS (getaddrinfo asks all the same).
  if (/(^|\.)invalid\.?$/i.test(name)) throw new Error(`${name} does not exist (.invalid names never do, RFC 6761)`);
  const answers = await lookup(name, { all: true });
  return answers.map((a) => a.address);
}
