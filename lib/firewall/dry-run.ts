/** dry-run: records bans and changes nothing. For trying a jail on a machine without firewall access. */
import type { Address } from '../ip';
import type { BanRequest, FirewallBackend } from './backend';

export interface DryRunRecord {
  op: 'ban' | 'unban';
  ip: string;
  seconds?: number;
  at: number;
}

export class DryRunBackend implements FirewallBackend {
  readonly name = 'dry-run';
  private readonly held = new Map<string, number | null>();
  /** What would have been done, oldest first (bounded). */
  readonly history: DryRunRecord[] = [];

  async start(): Promise<void> {}

  async ban(requests: BanRequest[]): Promise<void> {
    const now = Date.now();
    for (const r of requests) {
      this.held.set(r.ip.text, r.seconds < 0 ? null : now + r.seconds * 1000);
      this.record({ op: 'ban', ip: r.ip.text, seconds: r.seconds, at: now });
    }
  }

  async unban(ips: Address[]): Promise<void> {
    for (const ip of ips) {
      this.held.delete(ip.text);
      this.record({ op: 'unban', ip: ip.text, at: Date.now() });
    }
  }

  async list(): Promise<string[]> {
    const now = Date.now();
    return [...this.held].filter(([, until]) => until === null || until > now).map(([ip]) => ip);
  }

  async check(ip: Address): Promise<boolean> {
    return (await this.list()).includes(ip.text);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (removeBans) this.held.clear();
  }

  private record(r: DryRunRecord): void {
    this.history.push(r);
    if (this.history.length > 1000) this.history.shift();
  }
}
