/** Child processes and ports for the end-to-end tests (loopback only). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

/** This package's root (the directory that holds package.json and dist/). */
const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

/**
 * A module of the Node-RED under test: this checkout's (a devDependency), or, for the CI matrix, the one
 * installed under F2B_NODE_RED_DIR (a directory whose node_modules holds another node-red).
 */
export function resolveNodeRed(id: string): string {
  const dir = process.env.F2B_NODE_RED_DIR;
  return require.resolve(id, { paths: [dir ? resolve(dir) : PACKAGE_ROOT] });
}

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

/**
 * Resolves when `pred` (which may be async) is true, polling every `everyMs`, with the time it took (ms);
 * rejects naming `what` after `ms`.
 */
/**
 * A time limit scaled to the machine: on a machine busier than its cores (load average over cores, read
 * now), or with F2B_TEST_TIMEOUT_SCALE set, a wait is that many times longer. A limit in a test says
 * "something is wrong if it takes this long on a machine to itself", not how fast the machine is.
 */
export function scaled(ms: number): number {
  const busy = loadavg()[0] / availableParallelism();
  return Math.round(ms * Math.max(1, Number(process.env.F2B_TEST_TIMEOUT_SCALE) || 1, busy));
}

export async function waitFor(pred: () => boolean | Promise<boolean>, what: string, ms = 5000, everyMs = 25): Promise<number> {
  const start = Date.now();
  while (!(await pred())) {
    const limit = scaled(ms);
    if (Date.now() - start > limit) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - start;
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
  const end = Date.now() + scaled(ms);
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

/**
 * Installs this package (or the checkout at `root`) into the Node-RED user directory `userDir`, as
 * `npm link` would (a symlink).
 */
export function installPackage(userDir: string, root = PACKAGE_ROOT): void {
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(userDir, 'node_modules', 'node-red-contrib-fail2ban'), 'dir');
}

/**
 * Writes `userDir`/settings.js for a Node-RED on 127.0.0.1:`port` with flows.json, warnings only on the
 * console and no telemetry; `extra` is more properties, as JavaScript source.
 */
export function writeSettings(userDir: string, port: number, extra = ''): void {
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'test', telemetry: { enabled: false, updateNotification: false }, logging: { console: { level: 'warn' } },${extra ? ` ${extra}` : ''} };\n`,
  );
}

export interface NodeRedProcess {
  child: ChildProcess;
  /** What it has written to stdout and stderr so far. */
  output(): string;
}

/**
 * Starts Node-RED (red.js) on `userDir`/settings.js and resolves once `base` + `readyPath` answers; when
 * it does not, the process is killed and the error holds its output.
 */
export async function spawnNodeRed(
  userDir: string,
  base: string,
  options: {
    nodeArgs?: string[];
    readyPath?: string;
    env?: NodeJS.ProcessEnv;
    /** Also given each piece of output (for a test that keeps the output of several runs). */
    onOutput?: (text: string) => void;
  } = {},
): Promise<NodeRedProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), resolveNodeRed('node-red/red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env,
  });
  let output = '';
  const take = (d: Buffer) => {
    output += d;
    options.onOutput?.(String(d));
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  try {
    await waitForHttp(`${base}${options.readyPath ?? '/settings'}`, child, () => output);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  }
  return { child, output: () => output };
}
