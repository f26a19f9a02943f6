/**
 * killConnections: a ban stops new packets, but a connection opened before it may live on in the
 * connection tracker or as a socket. Both are dropped: the tracker entry (`conntrack -D`) and the
 * local sockets to the address (`ss -K`, which resets them).
 */
import type { Address } from '../ip';
import { FirewallError } from './backend';
import { run, saidNo, type Runner } from './run';

/** Drops tracked flows and local sockets of `ips`; fails only when neither tool could do its part. */
export async function killConnections(ips: Address[], runner: Runner = run): Promise<void> {
  const problems = new Set<string>();
  let worked = false;
  for (const ip of ips) {
    const family = ip.family === 4 ? 'ipv4' : 'ipv6';
    // conntrack exits 1 when there was nothing to delete: that is no failure.
    for (const args of [['-D', '-f', family, '-s', ip.text], ['-D', '-f', family, '-d', ip.text]]) {
      try {
        await runner('conntrack', args);
        worked = true;
      } catch (err) {
        if (saidNo(err)) worked = true;
        else problems.add((err as Error).message);
      }
    }
    const target = ip.family === 4 ? ip.text : ip.isPrefix ? `[${ip.text.split('/')[0]}]/${ip.prefix}` : `[${ip.text}]`;
    try {
      await runner('ss', ['-K', 'dst', target]);
      worked = true;
    } catch (err) {
      problems.add((err as Error).message);
    }
  }
  if (!worked && problems.size) throw new FirewallError(`killConnections: ${[...problems].join('; ')}`);
}
