/**
 * Memory of a real Node-RED running N sshd jails (log-tail -> failregex-match -> threshold-window ->
 * firewall-ban on dry-run), read from /proc (VmRSS) some seconds after deploy: Node-RED alone, then 1,
 * 8 and 16 jails, and what one more jail costs. F2B_MEMORY_SETTLE_S sets the wait (default 20 s, as
 * the issue measured); F2B_PACKAGE measures another checkout of the package.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { freePort, installPackage, spawnNodeRed, stopAndWait, writeSettings } from '../test/support/process';

const root = resolve(process.env.F2B_PACKAGE || join(__dirname, '..', '..'));
const SETTLE_S = Number(process.env.F2B_MEMORY_SETTLE_S ?? 20);

function jail(i: number, logDir: string): object[] {
  const id = (s: string) => `j${i}.${s}`;
  return [
    { id: id('tail'), type: 'log-tail', z: 'tab', paths: join(logDir, `auth${i}.log`), start: 'end', wires: [[id('match')]] },
    { id: id('match'), type: 'failregex-match', z: 'tab', filterSource: 'builtin', filterName: 'sshd', wires: [[id('window')]] },
    { id: id('window'), type: 'threshold-window', z: 'tab', name: `sshd${i}`, maxretry: '3', findtime: '10m', bantime: '1h', ignoreip: '127.0.0.1/8 ::1', wires: [[id('ban')]] },
    { id: id('ban'), type: 'firewall-ban', z: 'tab', name: `sshd${i}`, backend: 'dry-run', bantime: '1h', wires: [[]] },
  ];
}

/** RSS (MB) and thread count of a process, from one read of /proc. */
function usage(pid: number): { rss: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024, threads: Number(/^Threads:\s+(\d+)/m.exec(status)![1]) };
}

async function measure(jails: number): Promise<{ rss: number; threads: number }> {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-mem-'));
  try {
    const logDir = join(userDir, 'logs');
    mkdirSync(logDir);
    for (let i = 0; i < jails; i++) writeFileSync(join(logDir, `auth${i}.log`), '');
    installPackage(userDir, root);
    const port = await freePort();
    writeSettings(userDir, port);
    const flows = [{ id: 'tab', type: 'tab', label: 'jails' }, ...Array.from({ length: jails }, (_, i) => jail(i, logDir)).flat()];
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
    const red = await spawnNodeRed(userDir, `http://127.0.0.1:${port}`);
    try {
      await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
      if (/\[error\]/.test(red.output())) throw new Error(`Node-RED reported errors:\n${red.output()}`);
      return usage(red.child.pid!);
    } finally {
      await stopAndWait(red.child);
    }
  } finally {
    rmSync(userDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`Node-RED ${require('node-red/package.json').version} on Node ${process.version}, RSS ${SETTLE_S} s after deploy, sshd jails on dry-run`);
  const alone = await measure(0);
  console.log(`Node-RED alone: ${alone.rss.toFixed(1)} MB, ${alone.threads} threads`);
  const rows: Array<[number, number]> = [];
  for (const n of [1, 8, 16]) {
    const m = await measure(n);
    rows.push([n, m.rss]);
    console.log(`${String(n).padStart(2)} jail${n === 1 ? ' ' : 's'}: ${m.rss.toFixed(1)} MB, ${m.threads} threads (${(m.rss - alone.rss).toFixed(1)} MB over Node-RED alone)`);
  }
  const [n1, r1] = rows[0];
  const [n16, r16] = rows[2];
  console.log(`one more jail costs ${((r16 - r1) / (n16 - n1)).toFixed(2)} MB (from 1 to 16 jails)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
