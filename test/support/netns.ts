/**
 * Test hosts as network namespaces joined by a veth pair, with addresses only inside them and no
 * default route. Everything that talks to them runs inside a namespace (ip netns exec).
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface Host {
  ns: string;
  address: string;
  /** An IPv6 unique local address on the same link (the namespaces have no default route). */
  address6: string;
}

export interface Lab {
  server: Host;
  client: Host;
  /** Runs a command inside a namespace; returns status and output. */
  exec(host: Host, args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  remove(): void;
}

/** Why namespaces cannot be made here (not root, no ip), or null when they can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  const ip = spawnSync('ip', ['netns', 'list']);
  if (ip.error) return 'needs iproute2 (ip)';
  return null;
}

export function createLab(tag: string): Lab {
  const id = `${tag}${process.pid % 100000}`;
  const server: Host = { ns: `f2b-${id}-s`, address: '10.231.7.1', address6: 'fd00:f2b::1' };
  const client: Host = { ns: `f2b-${id}-c`, address: '10.231.7.2', address6: 'fd00:f2b::2' };
  const vs = `v${id}s`.slice(0, 15);
  const vc = `v${id}c`.slice(0, 15);
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const lab: Lab = {
    server,
    client,
    exec(host, args, timeoutMs = 20000) {
      const r = spawnSync('ip', ['netns', 'exec', host.ns, ...args], { encoding: 'utf8', timeout: timeoutMs });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
    },
    remove() {
      for (const ns of [server.ns, client.ns]) spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    },
  };
  try {
    lab.remove();
    ip('netns', 'add', server.ns);
    ip('netns', 'add', client.ns);
    ip('link', 'add', vs, 'type', 'veth', 'peer', 'name', vc);
    ip('link', 'set', vs, 'netns', server.ns);
    ip('link', 'set', vc, 'netns', client.ns);
    for (const [host, dev] of [[server, vs], [client, vc]] as const) {
      ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', dev);
      ip('-n', host.ns, 'addr', 'add', `${host.address6}/64`, 'dev', dev, 'nodad');
      ip('-n', host.ns, 'link', 'set', dev, 'up');
      ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    lab.remove();
    throw err;
  }
  return lab;
}
