/** A whois server on loopback (RFC 3912: one query line in, the answer out, then close), for tests. */
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface Whois {
  port: number;
  /** The query lines received, in order. */
  queries: string[];
  close(): Promise<void>;
}

/**
 * Starts a server on `host` (127.0.0.1 or ::1) answering with `answer(query)`; a null answer
 * keeps the connection open without a word (a server that hangs).
 */
export async function startWhois(answer: (query: string) => string | Buffer | null, host = '127.0.0.1', port = 0): Promise<Whois> {
  const queries: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n');
      if (end < 0) return;
      const query = buf.slice(0, end);
      queries.push(query);
      const text = answer(query);
      if (text !== null) socket.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    queries,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
