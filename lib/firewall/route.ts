/**
 * route: a blackhole route per banned address or prefix, so nothing this host sends reaches it (a TCP
 * handshake never completes). It blocks every port; `ports` and `protocol` do not apply. The routes carry
 * the protocol number 242, which marks them as made by this package, so list() sees only ours.
 * Many routes go in with one `ip -batch`.
 */
import { parseAddressOrPrefix, type Address } from '../ip';
import { heldBy, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, type Runner } from './run';

/** The route protocol number that marks our routes (free in /etc/iproute2/rt_protos). */
export const ROUTE_PROTO = '242';

export class RouteBackend implements FirewallBackend {
  readonly name = 'route';
  private readonly run: Runner;

  constructor(options: BackendOptions, private readonly ip = 'ip') {
    this.run = options.runner ?? run;
  }

  async start(): Promise<void> {
    // Checks the tool is there and may read routes.
    await this.list();
  }

  async ban(requests: BanRequest[]): Promise<void> {
    if (requests.length === 0) return;
    // replace: a route that is there already is no error.
    await this.batch(requests.map((r) => `route replace blackhole ${r.ip.text} proto ${ROUTE_PROTO}`));
  }

  async unban(ips: Address[]): Promise<void> {
    if (ips.length === 0) return;
    const held = new Set(await this.list());
    await this.batch(ips.filter((ip) => held.has(ip.text)).map((ip) => `route del blackhole ${ip.text} proto ${ROUTE_PROTO}`));
  }

  private async batch(lines: string[]): Promise<void> {
    if (lines.length) await this.run(this.ip, ['-batch', '-'], lines.join('\n') + '\n');
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const family of ['-4', '-6']) {
      const { stdout } = await this.run(this.ip, ['-j', family, 'route', 'show', 'type', 'blackhole', 'proto', ROUTE_PROTO]);
      out.push(...routesOf(stdout));
    }
    return out;
  }

  check(ip: Address): Promise<boolean> {
    return heldBy(this, ip);
  }

  async stop(): Promise<void> {
    // Nothing of its own besides the routes; the manager lifts them when asked to.
  }
}

/** The destinations of `ip -j route show` output, canonical. */
export function routesOf(json: string): string[] {
  if (!json.trim()) return [];
  const routes = JSON.parse(json) as Array<{ dst?: string }>;
  return routes.map((r) => parseAddressOrPrefix(r.dst ?? '')?.text).filter((t): t is string => Boolean(t));
}
