/**
 * hostsdeny: lines in /etc/hosts.deny, for services built with TCP wrappers. The node keeps its lines in
 * a block of its own, between two marker comments, and writes the whole file atomically (a temporary
 * file renamed over it), so a crash never leaves half a file. It blocks every port of those services.
 */
import { accessSync, constants, readFileSync, renameSync, statSync, writeFileSync } from 'fs';
import { dirname } from 'path';
import { parseAddressOrPrefix, type Address } from '../ip';
import { checkName, FirewallError, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';

/** The hosts_access(5) form of an address: IPv6 in brackets, an IPv4 prefix as net/mask. */
export function hostsPattern(ip: Address): string {
  if (ip.family === 6) return ip.isPrefix ? `[${ip.text.split('/')[0]}]/${ip.prefix}` : `[${ip.text}]`;
  if (!ip.isPrefix) return ip.text;
  const mask = ip.prefix === 0 ? 0 : (0xffffffff << (32 - ip.prefix)) >>> 0;
  const dotted = [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
  return `${ip.text.split('/')[0]}/${dotted}`;
}

/** Reads a hosts_access pattern back into canonical text. */
export function patternAddress(pattern: string): string | null {
  const m = /^\[([^\]]+)\](?:\/(\d+))?$/.exec(pattern);
  if (m) return parseAddressOrPrefix(m[2] ? `${m[1]}/${m[2]}` : m[1])?.text ?? null;
  const [net, mask] = pattern.split('/');
  if (!mask) return parseAddressOrPrefix(net)?.text ?? null;
  if (/^\d+$/.test(mask)) return parseAddressOrPrefix(pattern)?.text ?? null;
  const bits = mask.split('.').map(Number).reduce((n, o) => n + (o >>> 0).toString(2).split('1').length - 1, 0);
  return parseAddressOrPrefix(`${net}/${bits}`)?.text ?? null;
}

export class HostsDenyBackend implements FirewallBackend {
  readonly name = 'hostsdeny';
  readonly file: string;
  private readonly begin: string;
  private readonly end: string;

  constructor(options: BackendOptions) {
    const name = checkName('setName', options.setName, 64);
    this.file = options.hostsFile || '/etc/hosts.deny';
    this.begin = `# node-red-contrib-fail2ban ${name}: begin (written by firewall-ban, do not edit)`;
    this.end = `# node-red-contrib-fail2ban ${name}: end`;
  }

  async start(): Promise<void> {
    try {
      accessSync(dirname(this.file), constants.W_OK);
      this.read();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new FirewallError(`${this.file}: permission denied: Node-RED needs the right to write it (usually root), or choose another backend`);
      throw new FirewallError(`${this.file}: ${(err as Error).message}`);
    }
  }

  /** The file's lines outside our block, and our entries (canonical text to pattern). */
  private read(): { before: string[]; after: string[]; entries: Map<string, string> } {
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const b = lines.indexOf(this.begin);
    const e = b < 0 ? -1 : lines.indexOf(this.end, b);
    const entries = new Map<string, string>();
    if (b < 0 || e < 0) return { before: lines, after: [], entries };
    for (const line of lines.slice(b + 1, e)) {
      const m = /^ALL:\s*(\S+)\s*$/.exec(line);
      const ip = m ? patternAddress(m[1]) : null;
      if (ip) entries.set(ip, m![1]);
    }
    return { before: lines.slice(0, b), after: lines.slice(e + 1), entries };
  }

  private write(before: string[], after: string[], entries: Map<string, string>): void {
    const block = entries.size ? [this.begin, ...[...entries.values()].map((p) => `ALL: ${p}`), this.end] : [];
    const text = [...before, ...block, ...after].join('\n') + '\n';
    let mode = 0o644;
    try {
      mode = statSync(this.file).mode & 0o777;
    } catch {
      /* a new file */
    }
    const tmp = `${this.file}.f2b-tmp`;
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, this.file);
  }

  async ban(requests: BanRequest[]): Promise<void> {
    const { before, after, entries } = this.read();
    for (const r of requests) entries.set(r.ip.text, hostsPattern(r.ip));
    this.write(before, after, entries);
  }

  async unban(ips: Address[]): Promise<void> {
    const { before, after, entries } = this.read();
    let changed = false;
    for (const ip of ips) changed = entries.delete(ip.text) || changed;
    if (changed) this.write(before, after, entries);
  }

  async list(): Promise<string[]> {
    return [...this.read().entries.keys()];
  }

  async check(ip: Address): Promise<boolean> {
    return this.read().entries.has(ip.text);
  }

  async stop(removeBans: boolean): Promise<void> {
    if (!removeBans) return;
    const { before, after } = this.read();
    this.write(before, after, new Map());
  }
}
