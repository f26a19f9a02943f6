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
  /** The server's address on this host's link (hosts beyond the first client sit on links of their own). */
  peer: string;
}

export interface Lab {
  server: Host;
  client: Host;
  /** More client hosts (createLab's `more`), each on its own link to the server: 10.231.8.2, 10.231.9.2, ... */
  others: Host[];
  /** Runs a command inside a namespace; returns status and output. */
  exec(host: Host, args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  remove(): void;
}

/**
 * Deletes a namespace, ending first the processes still in it (a test killed half way would leave them
 * running in a namespace nobody can reach).
 */
export function removeNamespace(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
}

/**
 * The command that tries, from inside namespace `ns`, a TCP connection to `address`:`port` and exits 0
 * when it opens within `ms` (2 when it times out, 3 when it is refused).
 */
export function connectCommand(ns: string, address: string, port: number, ms = 1500): string[] {
  const script = `const s=require('net').connect(${port},${JSON.stringify(address)});s.setTimeout(${ms},()=>process.exit(2));s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(3));`;
  return ['ip', 'netns', 'exec', ns, process.execPath, '-e', script];
}

/** Can namespace `ns` open a TCP connection to `address`:`port` within `ms`? */
export function connectsFrom(ns: string, address: string, port: number, ms = 1500): boolean {
  const [cmd, ...args] = connectCommand(ns, address, port, ms);
  return spawnSync(cmd, args, { timeout: 10000 }).status === 0;
}

/** Why namespaces cannot be made here (not root, no ip), or null when they can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  const ip = spawnSync('ip', ['netns', 'list']);
  if (ip.error) return 'needs iproute2 (ip)';
  return null;
}

/**
 * A server and a client namespace on one link (10.231.7.0/24, fd00:f2b::/64), and `more` client
 * namespaces each on a link of its own to the server (10.231.8.0/24 and fd00:f2b:1::/64, then .9 and :2, ...).
 */
export function createLab(tag: string, more = 0): Lab {
  const id = `${tag}${process.pid % 100000}`;
  const server: Host = { ns: `f2b-${id}-s`, address: '10.231.7.1', address6: 'fd00:f2b::1', peer: '10.231.7.1' };
  const client: Host = { ns: `f2b-${id}-c`, address: '10.231.7.2', address6: 'fd00:f2b::2', peer: server.address };
  const others: Host[] = Array.from({ length: more }, (_, i) => ({ ns: `f2b-${id}-${i + 1}`, address: `10.231.${8 + i}.2`, address6: `fd00:f2b:${i + 1}::2`, peer: `10.231.${8 + i}.1` }));
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const link = (n: string, host: Host, serverAddress: string, serverAddress6: string) => {
    const vs = `v${id}s${n}`.slice(-15);
    const vc = `v${id}c${n}`.slice(-15);
    ip('link', 'add', vs, 'type', 'veth', 'peer', 'name', vc);
    ip('link', 'set', vs, 'netns', server.ns);
    ip('link', 'set', vc, 'netns', host.ns);
    for (const [ns, dev, a4, a6] of [[server.ns, vs, serverAddress, serverAddress6], [host.ns, vc, host.address, host.address6]]) {
      ip('-n', ns, 'addr', 'add', `${a4}/24`, 'dev', dev);
      ip('-n', ns, 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  };
  const all = [server, client, ...others];
  const lab: Lab = {
    server,
    client,
    others,
    exec(host, args, timeoutMs = 20000) {
      const r = spawnSync('ip', ['netns', 'exec', host.ns, ...args], { encoding: 'utf8', timeout: timeoutMs });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
    },
    remove() {
      for (const { ns } of all) removeNamespace(ns);
    },
  };
  try {
    lab.remove();
    for (const host of all) {
      ip('netns', 'add', host.ns);
      ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    }
    link('', client, server.address, server.address6);
    others.forEach((host, i) => link(String(i + 1), host, host.peer, `fd00:f2b:${i + 1}::1`));
  } catch (err) {
    lab.remove();
    throw err;
  }
  return lab;
}
