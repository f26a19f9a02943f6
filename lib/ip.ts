/** IP addresses and prefixes: parsing, canonical text, membership. Nothing else from a log reaches a command. */
import type ipaddr from 'ipaddr.js';
import { networkInterfaces } from 'os';

// ipaddr.js and node:net are loaded when an address other than a canonical IPv4 one is first parsed:
// loading them took 3.5 ms of every start (f2b-regex's among them) that may never need them.
let ipaddrModule: typeof ipaddr | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ipaddrLib = (): typeof ipaddr => (ipaddrModule ??= require('ipaddr.js') as typeof ipaddr);
let netIsIP: ((input: string) => number) | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const isIP = (input: string): number => (netIsIP ??= (require('net') as typeof import('net')).isIP)(input);

export type Family = 4 | 6;

export interface Address {
  /** Canonical text: IPv4 dotted quad, IPv6 RFC 5952; IPv4-mapped IPv6 becomes IPv4. */
  text: string;
  family: Family;
  /** Prefix length when this is a network (CIDR); 32/128 for a single address. */
  prefix: number;
  isPrefix: boolean;
}

const STRICT_V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function normalise(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/**
 * The 32-bit value (0 to 2^32-1) of an IPv4 address in canonical dotted form ("192.0.2.1": four
 * decimal numbers up to 255, no leading zeros, nothing else), or -1 for any other text. Fast: no regex.
 */
export function ipv4Value(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/**
 * Parses a single IP address in strict form (no octal, no shortened IPv4), with optional
 * IPv6 brackets and zone-free. Returns null for anything else.
 */
export function parseAddress(input: unknown): Address | null {
  if (typeof input !== 'string' || input.length > 64) return null;
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  // The common case, a canonical IPv4 address, is its own canonical text.
  if (ipv4Value(text) >= 0) return { text, family: 4, prefix: 32, isPrefix: false };
  // Any other IPv4 text isIP accepts is one ipv4Value accepts, and every IPv6 text has a colon: a host
  // name (a failure id from a log) is refused here, without isIP's two regexes.
  if (!text.includes(':')) return null;
  const family = isIP(text);
  if (family === 0) return null;
  if (family === 4 && !STRICT_V4.test(text)) return null;
  if (text.includes('%')) return null;
  const addr = normalise(ipaddrLib().parse(text));
  const f: Family = addr.kind() === 'ipv4' ? 4 : 6;
  return { text: addr.toString(), family: f, prefix: f === 4 ? 32 : 128, isPrefix: false };
}

/** Parses an address or a CIDR prefix ("203.0.113.0/24", "2001:db8::/64"); host bits are cleared. */
export function parseAddressOrPrefix(input: unknown): Address | null {
  if (typeof input !== 'string' || input.length > 68) return null;
  const text = input.trim();
  const slash = text.indexOf('/');
  if (slash < 0) return parseAddress(text);
  const base = parseAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!base || !/^\d{1,3}$/.test(lenText)) return null;
  let len = Number(lenText);
  const mappedV4 = isIP(text.slice(0, slash)) === 6 && base.family === 4;
  if (mappedV4) len -= 96;
  const max = base.family === 4 ? 32 : 128;
  if (len < 0 || len > max) return null;
  if (len === max) return base;
  const network = networkOf(base.text, len);
  return { text: `${network}/${len}`, family: base.family, prefix: len, isPrefix: true };
}

/**
 * The widest prefixes a ban may take: an IPv4 /8 (16 million addresses) and an IPv6 /16. Anything wider
 * ("1.2.3.4/0", "128.0.0.0/1") would cut off a large part of the Internet, so it is never a ban.
 * threshold-window's subnet aggregation stops at the same lengths.
 */
export const WIDEST_BAN_PREFIX: Record<Family, number> = { 4: 8, 6: 16 };

/** Why `address` is too wide to ban (a prefix shorter than WIDEST_BAN_PREFIX), or null. */
export function tooWideToBan(address: Address): string | null {
  const widest = WIDEST_BAN_PREFIX[address.family];
  if (!address.isPrefix || address.prefix >= widest) return null;
  return `${address.text} is a /${address.prefix}, wider than the widest prefix ever banned (/${widest} for IPv${address.family}): it would cut off a large part of the Internet`;
}

function networkOf(text: string, len: number): string {
  const parsed = ipaddrLib().parse(text);
  const bytes = parsed.toByteArray();
  for (let bit = len; bit < bytes.length * 8; bit++) {
    bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  }
  return ipaddrLib().fromByteArray(bytes).toString();
}

/** The prefix of `len` bits that holds `address` (an address or a longer prefix; e.g. a /24 or a /64 for subnet counting). */
export function prefixOf(address: Address, len: number): string {
  return `${networkOf(address.text.split('/')[0], len)}/${len}`;
}

/** A set of addresses and prefixes that can answer "is this address inside?". */
export class AddressSet {
  /** IPv6 ranges, as ipaddr objects. */
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  /** IPv4 ranges as pairs of numbers: network value, prefix length. */
  private readonly v4: number[] = [];

  add(entry: Address): void {
    const base = entry.text.split('/')[0];
    if (entry.family === 4) this.v4.push(ipv4Value(base), entry.prefix);
    else this.ranges.push([ipaddrLib().parse(base), entry.prefix]);
  }

  get size(): number {
    return this.ranges.length + this.v4.length / 2;
  }

  /**
   * True when `address` meets the set: an address inside one of its ranges, or a prefix that overlaps
   * one (banning 203.0.113.0/24 would also ban an ignored 203.0.113.5, so that prefix counts as inside).
   */
  has(address: Address): boolean {
    const slash = address.text.indexOf('/');
    const base = slash < 0 ? address.text : address.text.slice(0, slash);
    if (address.family === 4) {
      const value = ipv4Value(base);
      const v4 = this.v4;
      for (let i = 0; i < v4.length; i += 2) {
        const len = Math.min(v4[i + 1], address.prefix);
        // The top `len` bits are equal when the values divided by 2^(32-len) are.
        const unit = 2 ** (32 - len);
        if (Math.floor(value / unit) === Math.floor(v4[i] / unit)) return true;
      }
      return false;
    }
    const addr = ipaddrLib().parse(base);
    for (const [range, len] of this.ranges) {
      if (range.kind() !== addr.kind()) continue;
      if ((addr as ipaddr.IPv4).match(range as ipaddr.IPv4, Math.min(len, address.prefix))) return true;
    }
    return false;
  }
}

/** Every address of this machine's network interfaces, with the interface's name (zone ids dropped). */
export function interfaceAddresses(): { name: string; address: Address }[] {
  const out: { name: string; address: Address }[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      const address = parseAddress(info.address.split('%')[0]);
      if (address) out.push({ name, address });
    }
  }
  return out;
}
