/** Port names as /etc/services gives them, for turning a jail's `port = ssh,http` into numbers. */
import { readFileSync } from 'fs';

/** name or alias → port, per protocol ("tcp", "udp"). */
export type ServiceTable = Map<string, Map<string, number>>;

/** The common names, for a machine without /etc/services (numbers as IANA assigns them). */
const FALLBACK: Array<[string, number]> = [
  ['ftp-data', 20], ['ftp', 21], ['ssh', 22], ['telnet', 23], ['smtp', 25], ['domain', 53], ['http', 80], ['www', 80],
  ['pop3', 110], ['imap', 143], ['imap2', 143], ['ldap', 389], ['https', 443], ['submissions', 465], ['ssmtp', 465],
  ['smtps', 465], ['submission', 587], ['ldaps', 636], ['ftps-data', 989], ['ftps', 990], ['imaps', 993],
  ['pop3s', 995], ['socks', 1080], ['mysql', 3306], ['sieve', 4190], ['sip', 5060], ['sip-tls', 5061],
];

/** Reads a services file ("name port/proto aliases... # comment"); the built-in table when it cannot be read. */
export function readServices(file = '/etc/services'): ServiceTable {
  const table: ServiceTable = new Map();
  const add = (name: string, proto: string, port: number) => {
    const byProto = table.get(name) ?? new Map<string, number>();
    if (!byProto.has(proto)) byProto.set(proto, port);
    table.set(name, byProto);
  };
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = null;
  }
  if (text === null) {
    for (const [name, port] of FALLBACK) for (const proto of ['tcp', 'udp']) add(name, proto, port);
    return table;
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(words[1] ?? '');
    if (!m) continue;
    for (const name of [words[0], ...words.slice(2)]) add(name, m[2], Number(m[1]));
  }
  return table;
}

export interface PortList {
  /** firewall-ban's `ports`: numbers and ranges ("22,80,1000-2000"); "" for every port. */
  ports: string;
  /** Names that are no port anywhere in the table. */
  unknown: string[];
}

/** fail2ban's port text ("ssh", "http,https", "0:65535") as firewall-ban's ports. */
export function portsOf(text: string, protocol: string, services: ServiceTable): PortList {
  const out: string[] = [];
  const unknown: string[] = [];
  for (const word of text.split(/[\s,]+/).filter(Boolean)) {
    const range = /^(\d+)(?:[:-](\d+))?$/.exec(word);
    if (range) {
      const lo = Number(range[1]);
      const hi = range[2] === undefined ? lo : Number(range[2]);
      // 0:65535 (jail.conf's default) or 1:65535 is every port, which firewall-ban writes as none.
      if (lo <= 1 && hi >= 65535) return { ports: '', unknown };
      out.push(range[2] === undefined ? String(lo) : `${Math.max(lo, 1)}-${hi}`);
      continue;
    }
    const byProto = services.get(word);
    const port = byProto?.get(protocol) ?? byProto?.get('tcp') ?? byProto?.values().next().value;
    if (port === undefined) unknown.push(word);
    else if (!out.includes(String(port))) out.push(String(port));
  }
  return { ports: out.join(','), unknown };
}
