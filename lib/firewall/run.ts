/** Runs firewall commands with an argument list, never through a shell, and turns failures into advice. */
import { execFile } from 'child_process';
import { basename } from 'path';
import { FirewallError } from './backend';

export interface RunResult {
  stdout: string;
  stderr: string;
}

const HINTS: Record<string, string> = {
  nft: 'install nftables (apt-get install nftables) or choose another backend',
};

/** Runs `file args` (stdin optional) with a time limit; rejects with a FirewallError a person can act on. */
export function run(file: string, args: string[], input?: string, timeoutMs = 15000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      const tool = basename(file);
      if (code === 'ENOENT') return reject(new FirewallError(`${tool} not found: ${HINTS[tool] ?? 'install it or choose another backend'}`));
      if (code === 'EACCES') return reject(new FirewallError(`${file} cannot be run (permission denied)`));
      const text = String(stderr || stdout || err.message).trim().split('\n').slice(0, 4).join(' / ');
      if (/Operation not permitted|Permission denied/i.test(text)) {
        return reject(new FirewallError(`${file}: operation not permitted: Node-RED needs root or CAP_NET_ADMIN for this backend, or choose dry-run`));
      }
      if ((err as { killed?: boolean }).killed) return reject(new FirewallError(`${file} ${args.join(' ')} did not finish within ${timeoutMs / 1000}s`));
      reject(new FirewallError(`${file} ${args[0] ?? ''} failed: ${text}`));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
