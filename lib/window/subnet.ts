/** Which offender an address counts for: IPv6 addresses are counted per prefix (an attacker holds a whole /64). */
import { parseAddressOrPrefix, prefixOf, type Address } from '../ip';

/**
 * The offender `addr` counts for: an IPv6 address becomes its /`unitV6` prefix (unitV6 below 128),
 * anything else stays as it is. A prefix given as the offender is kept as it is.
 */
export function offenderOf(addr: Address, unitV6: number | null): Address {
  if (addr.family !== 6 || addr.isPrefix || unitV6 === null || unitV6 >= 128) return addr;
  return parseAddressOrPrefix(prefixOf(addr, unitV6))!;
}

/**
 * The IPv6 counting unit for a subnetV6 setting: /64 when subnetV6 is 64 or shorter (aggregation to
 * a shorter prefix then works on /64 offenders), subnetV6 itself when longer, null (single addresses)
 * when unset.
 */
export function unitForSubnetV6(subnetV6: number | null): number | null {
  if (subnetV6 === null) return null;
  return Math.max(64, subnetV6);
}
