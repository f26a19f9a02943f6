/**
 * whois over TCP port 43 (RFC 3912): who holds an address, for the admin reading the ban mail.
 * With no server given, whois.iana.org is asked first and its `refer:` line names the registry
 * (RIR) that holds the address, as the `whois` tool does. The answer is untrusted text: its size is
 * bounded and control characters are removed; it is never interpreted.
 */
import { connect } from 'net';
import { parseAddressOrPrefix } from '../ip';

/** Largest whois answer kept (bytes); the rest is cut. */
export const WHOIS_MAX_BYTES = 16 * 1024;
export const IANA_WHOIS = 'whois.iana.org';

export interface WhoisOptions {
  /** `host`, `host:port` or `[v6]:port`; empty: ask IANA, then the registry it refers to. */
  server?: string;
  /** Time for the whole lookup, referral included (ms). */
  timeoutMs?: number;
  /** Port of the servers reached by a referral (43; tests use another). */
  referralPort?: number;
  /** Where the referral starts (IANA's server). */
  root?: string;
}

export interface WhoisAnswer {
  /** The server that gave the answer (host:port). */
  server: string;
  /** The answer, cleaned: bounded, control characters removed. */
  text: string;
  /** The answer was longer than WHOIS_MAX_BYTES and was cut. */
  cut: boolean;
}

/** Splits "host", "host:port", "[::1]:4343" or "::1" into host and port. */
export function parseServer(spec: string, defaultPort = 43): { host: string; port: number } {
  const s = spec.trim();
  let host = s;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (/^[^:]+:\d+$/.test(s)) {
    const i = s.lastIndexOf(':');
    host = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  if (!/^[A-Za-z0-9.:_-]+$/.test(host) || host.length > 253) throw new Error(`whois server "${spec}" is not a host name or address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`whois server "${spec}": ${port} is not a port number`);
  return { host, port };
}

/**
 * Removes what a terminal or mail reader could interpret: C0/C1 control characters other than
 * newline and tab, and Unicode bidirectional overrides. Line ends become \n.
 */
export function cleanUntrusted(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

/** Sends one query to one server and reads its answer, at most `maxBytes`. */
export function whoisQuery(host: string, port: number, query: string, timeoutMs: number, maxBytes = WHOIS_MAX_BYTES): Promise<{ text: string; cut: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let cut = false;
    let settled = false;
    const socket = connect({ host, port });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) return reject(err);
      resolve({ text: cleanUntrusted(Buffer.concat(chunks).toString('utf8')), cut });
    };
    const timer = setTimeout(() => finish(new Error(`no answer from ${host}:${port} within ${Math.round(timeoutMs / 100) / 10} s`)), timeoutMs);
    socket.on('connect', () => socket.write(`${query}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      const room = maxBytes - size;
      if (chunk.length >= room) {
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        cut = true;
        return finish();
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (err: NodeJS.ErrnoException) => finish(new Error(`${host}:${port}: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`)));
  });
}

/** The registry a whois answer refers to (`refer:`, `whois:`, or `ReferralServer: whois://`), if any. */
export function referralOf(text: string): string | null {
  const m = /^\s*(?:refer|whois|ReferralServer):\s*(?:whois:\/\/)?([A-Za-z0-9.-]+\.[A-Za-z]{2,}|[0-9a-fA-F:.]+)(?::(?:43))?\s*$/im.exec(text);
  return m ? m[1] : null;
}

/**
 * Asks whois about an address or prefix (its network address is asked). Rejects when the input is
 * not an IP, or when no server answers within the timeout.
 */
export async function whoisLookup(ip: string, options: WhoisOptions = {}): Promise<WhoisAnswer> {
  const address = parseAddressOrPrefix(ip);
  if (!address) throw new Error(`"${ip}" is not an IP address`);
  const query = address.text.split('/')[0];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  if (options.server?.trim()) {
    const { host, port } = parseServer(options.server);
    const answer = await whoisQuery(host, port, query, left());
    return { server: `${host}:${port}`, ...answer };
  }
  const referralPort = options.referralPort ?? 43;
  const root = parseServer(options.root ?? IANA_WHOIS, referralPort);
  let host = root.host;
  let port = root.port;
  let answer = await whoisQuery(host, port, query, left());
  // IANA names the registry; a registry may name another (ARIN for a customer of a national one).
  for (let hop = 0; hop < 2; hop++) {
    const next = referralOf(answer.text);
    if (!next || next.toLowerCase() === host.toLowerCase()) break;
    try {
      const further = await whoisQuery(next, referralPort, query, left());
      host = next;
      port = referralPort;
      answer = further;
    } catch (err) {
      if (hop === 0) throw new Error(`${(err as Error).message} (the registry named by ${root.host})`);
      break; // the answer of the registry before is still useful
    }
  }
  return { server: `${host}:${port}`, ...answer };
}
