/** IP addresses and prefixes: parsing, canonical text, membership. Nothing else from a log reaches a command. */
import type ipaddr from 'ipaddr.js';
import { networkInterfaces } from 'os';

// ipaddr.js and node:net are loaded when a prefix or a set of addresses first needs them: loading
// them, and compiling their patterns, took 7 ms of every start that reads an IPv6 address (f2b-regex's).
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
  // name (a failure id from a log) is refused here.
  if (!text.includes(':')) return null;
  const groups = ipv6Groups(text);
  if (groups === null) return null;
  // An IPv4-mapped address is its IPv4 address; so is ::a.b.c.d, as ipaddr.js reads it.
  const quad = text.startsWith('::') && ipv4Value(text.slice(2)) >= 0;
  if (quad || (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff)) {
    return { text: `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`, family: 4, prefix: 32, isPrefix: false };
  }
  return { text: rfc5952(groups), family: 6, prefix: 128, isPrefix: false };
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * An IPv6 address text as its eight 16-bit groups, or null: groups of 1 to 4 hex digits, at most one
 * "::" standing for one or more groups of zeros, and a canonical dotted quad in place of the last two
 * groups; no zone, no brackets. The texts net.isIP takes for IPv6, less those with a zone.
 */
export function ipv6Groups(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const gap = text.indexOf('::');
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return null;
  const words: number[] = [];
  /** Reads groups separated by one colon; the last may be a dotted quad when `quadLast`. */
  const read = (part: string, quadLast: boolean): boolean => {
    if (part === '') return true;
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (quadLast && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = ipv4Value(piece);
        if (v4 < 0) return false;
        words.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (HEX_GROUP.test(piece)) words.push(parseInt(piece, 16));
      else return false;
    }
    return true;
  };
  if (gap < 0) return read(text, true) && words.length === 8 ? words : null;
  if (!read(text.slice(0, gap), false)) return null;
  const at = words.length;
  if (!read(text.slice(gap + 2), true) || words.length > 7) return null;
  words.splice(at, 0, ...new Array<number>(8 - words.length).fill(0));
  return words;
}

/**
 * An address's groups as RFC 5952 writes them: lower-case hex without leading zeros, the leftmost
 * longest run of two or more zero groups as "::". ipaddr.js writes the same text, under which bans
 * were stored before this reader.
 */
function rfc5952(groups: number[]): string {
  let at = -1;
  let run = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > run) {
      at = i;
      run = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  return at < 0 ? hex.join(':') : `${hex.slice(0, at).join(':')}::${hex.slice(at + run).join(':')}`;
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
