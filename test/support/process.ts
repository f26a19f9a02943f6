/** Child processes and ports for the end-to-end tests (loopback only). */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function stop(child: ChildProcess): void {
  if (child.exitCode === null) child.kill('SIGTERM');
}

/** Stops the child and resolves once it has exited (Node-RED saves state while it stops), SIGKILL after `ms`. */
export async function stopAndWait(child: ChildProcess, ms = 10000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(() => {
    child.kill('SIGKILL');
    resolve();
  }, ms)));
  await Promise.race([exited, late]);
  clearTimeout(timer);
}

/** Resolves when `url` answers 2xx; rejects with the child's output if it exits or time runs out. */
export async function waitForHttp(url: string, child: ChildProcess, output: () => string, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`Node-RED did not answer at ${url}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A syslog date for now, as sshd's syslog writes it ("Nov 24 10:00:01"). */
export function syslogDate(d = new Date()): string {
  const mon = d.toLocaleString('en-US', { month: 'short' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${mon} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
