/** The lock-out guard: this machine's own addresses (loopback and every interface address) are never banned. */
import { AddressSet, interfaceAddresses, parseAddressOrPrefix, type Address } from '../ip';

const LOOPBACK = ['127.0.0.0/8', '::1/128', '0.0.0.0/32', '::/128'];

interface Own {
  address: Address;
  set: AddressSet;
  where: string;
}

let cache: { at: number; own: Own[] } | null = null;

/** Loopback and the interface addresses, looked up again at most every 5 seconds (addresses change). */
function ownAddresses(): Own[] {
  if (cache && Date.now() - cache.at < 5000) return cache.own;
  const own: Own[] = [];
  const add = (address: Address | null, where: string) => {
    if (!address) return;
    const set = new AddressSet();
    set.add(address);
    own.push({ address, set, where });
  };
  for (const text of LOOPBACK) add(parseAddressOrPrefix(text), 'loopback or the unspecified address');
  for (const { name, address } of interfaceAddresses()) add(address, `an address of this machine (${name})`);
  cache = { at: Date.now(), own };
  return own;
}

/**
 * Why banning `ip` would cut this machine off from itself, or null when it would not: `ip` is (or, as a
 * prefix, holds) loopback, the unspecified address or an address of one of this host's interfaces now.
 */
export function selfConflict(ip: Address): string | null {
  for (const o of ownAddresses()) {
    if (!o.set.has(ip)) continue;
    if (ip.text === o.address.text) return `${ip.text} is ${o.where}`;
    return `${ip.text} ${ip.isPrefix ? 'holds' : 'is in'} ${o.address.text}, ${o.where}`;
  }
  return null;
}
