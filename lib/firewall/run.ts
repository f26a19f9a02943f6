/** Runs firewall commands with an argument list, never through a shell, and turns failures into advice. */
import { execFile } from 'child_process';
import { basename } from 'path';
import { FirewallError } from './backend';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** How backends run their tools; tests of tools that cannot run here pass a recorder instead. */
export type Runner = (file: string, args: string[], input?: string, timeoutMs?: number) => Promise<RunResult>;

/** A command that ran and exited with a status other than 0 (a check that says "no" looks like this). */
export class CommandFailedError extends FirewallError {
  constructor(message: string, readonly exitCode: number, readonly stderr: string) {
    super(message);
  }
}

const HINTS: Record<string, string> = {
  nft: 'install nftables (apt-get install nftables) or choose another backend',
  iptables: 'install iptables (apt-get install iptables) or choose another backend',
  ip6tables: 'install iptables (apt-get install iptables) or choose another backend',
  'iptables-restore': 'install iptables (apt-get install iptables) or choose another backend',
  'ip6tables-restore': 'install iptables (apt-get install iptables) or choose another backend',
  ipset: 'install ipset (apt-get install ipset) or choose another backend',
  ip: 'install iproute2 (apt-get install iproute2) or choose another backend',
  ufw: 'install ufw (apt-get install ufw) and run "ufw enable", or choose another backend',
  'firewall-cmd': 'install firewalld (apt-get install firewalld) and start it, or choose another backend',
  shorewall: 'install shorewall (apt-get install shorewall) and start it, or choose another backend',
  shorewall6: 'install shorewall6 (apt-get install shorewall6) for IPv6 bans, or choose another backend',
  conntrack: 'install conntrack (apt-get install conntrack) or turn killConnections off',
  ss: 'install iproute2 (apt-get install iproute2) or turn killConnections off',
};

/** Runs `file args` (stdin optional) with a time limit; rejects with a FirewallError a person can act on. */
export const run: Runner = (file, args, input, timeoutMs = 15000) => {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      const tool = basename(file);
      if (code === 'ENOENT') return reject(new FirewallError(`${tool} not found: ${HINTS[tool] ?? 'install it or choose another backend'}`));
      if (code === 'EACCES') return reject(new FirewallError(`${file} cannot be run (permission denied)`));
      const text = String(stderr || stdout || err.message).trim().split('\n').slice(0, 4).join(' / ');
      if (/Can't open socket to ipset/i.test(text)) {
        // iptables' set match asks the kernel about the set over a raw socket.
        return reject(new FirewallError(`${file}: cannot open a socket to ipset: the iptables-ipset backend needs CAP_NET_RAW as well as CAP_NET_ADMIN (or root)`));
      }
      if (/Operation not permitted|Permission denied|you must be root/i.test(text)) {
        return reject(new FirewallError(`${file}: operation not permitted: Node-RED needs root or CAP_NET_ADMIN for this backend, or choose dry-run`));
      }
      if ((err as { killed?: boolean }).killed) return reject(new FirewallError(`${file} ${args.join(' ')} did not finish within ${timeoutMs / 1000}s`));
      const exit = typeof code === 'number' ? code : 1;
      reject(new CommandFailedError(`${file} ${args[0] ?? ''} failed: ${text}`, exit, String(stderr)));
    });
    // A tool that exits before reading its input must not crash Node-RED with EPIPE.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
};

/** True when `err` is a command that ran and said no (exit status not 0), not a missing tool or permission. */
export function saidNo(err: unknown): boolean {
  return err instanceof CommandFailedError;
}
