/**
 * Ban latency (issue 9), inside a network namespace of its own (root only): the time from the third
 * failed login of an address being written to the log until that address is in the nftables set, in a
 * real Node-RED process running the example sshd jail (examples/sshd-jail-nftables.json: log-tail ->
 * failregex-match sshd -> threshold-window maxretry 3 -> firewall-ban nftables; the mail part left
 * out). Two phases: at rest, and while 10,000 unrelated lines a second are appended to the same log.
 * Prints median, p90, p99 and max per phase (target: p99 under 50 ms in both).
 *
 * Membership is seen with `nft -j monitor new elements` running in the namespace: the kernel pushes an
 * event when the transaction that adds the element commits, and this process timestamps it as it
 * arrives. Polling `nft list set` instead would round every figure up to the poll interval and would
 * spawn an nft process every few milliseconds on a 2-core machine, slowing the very thing measured.
 * The JSON form gives one document per event and line (nft writes each one out as it happens), so
 * elements are read, not scraped from text; nft reports them as "add" or "create", after the command.
 *
 * Usage: node dist/bench/ban-latency.bench.js [samples per phase, default 250]
 * nft and Node-RED only ever run inside the namespace; nothing outside it is addressed but loopback
 * inside it.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { addedElements, Arrivals } from '../test/support/arrivals';
import { labUnavailable, removeNamespace } from '../test/support/netns';
import { freePort, installPackage, spawnNodeRed, stopAndWait, syslogDate, writeSettings } from '../test/support/process';

const SAMPLES = Math.max(20, Number(process.argv[process.argv[2] === '--inside' ? 3 : 2]) || 250);
const WARMUP = 15;
/** One sample every this many ms at most (25 a second). */
const SPACING_MS = 40;
/** Unrelated lines a second in the loaded phase, written in batches every 10 ms. */
const NOISE_RATE = 10_000;
const NOISE_TICK_MS = 10;
/** A ban not seen within this long counts as missed. */
const MISS_MS = 5000;
const TABLE = 'fail2ban';
const SET = 'f2b-sshd';
const root = join(__dirname, '..', '..');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- in the host namespace

async function host(): Promise<void> {
  const why = labUnavailable();
  if (why || spawnSync('nft', ['--version']).status !== 0) {
    console.log(`ban-latency bench skipped: ${why ?? 'nft is not installed'}`);
    return;
  }
  const ns = `f2b-blat${process.pid % 100000}`;
  removeNamespace(ns);
  const made = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`cannot make network namespace ${ns}: ${made.stderr}`);
  let child: ChildProcess | null = null;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // The child stops Node-RED and the monitor (a Ctrl-C reaches it too; once is enough); whatever is
    // left is killed with the namespace when it has exited, or after 5 s.
    if (child && child.exitCode === null) child.kill(sig);
    setTimeout(() => {
      removeNamespace(ns);
      process.exit(130);
    }, 5000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const lo = spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
    if (lo.status !== 0) throw new Error(`cannot set up the namespace: ${lo.stderr}`);
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, __filename, '--inside', String(SAMPLES)], { stdio: 'inherit' });
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    if (code !== 0) process.exitCode = 1;
  } finally {
    removeNamespace(ns);
  }
}

// ---------------------------------------------------------------- inside the namespace

/** Fresh addresses from the benchmarking range 198.18.0.0/15, and now and then a documentation one. */
function* addresses(): Generator<string> {
  const doc = ['203.0.113', '198.51.100', '192.0.2'];
  let d = 0;
  for (let i = 1; i < 131072; i++) {
    if ((i & 255) === 0 || (i & 255) === 255) continue;
    yield `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    if (i % 8 === 0 && d < 3 * 254) yield `${doc[d % 3]}.${1 + Math.floor(d++ / 3)}`;
  }
}

let pidCounter = 20000;
const port = () => 1024 + Math.floor(Math.random() * 64000);

/** sshd failures our sshd filter counts (normal mode), three kinds in turn. */
function failureLine(ip: string, n: number): string {
  const pid = pidCounter++;
  const kinds = [
    `sshd[${pid}]: Failed password for root from ${ip} port ${port()} ssh2`,
    `sshd[${pid}]: Failed password for invalid user admin from ${ip} port ${port()} ssh2`,
    `sshd[${pid}]: Invalid user oracle from ${ip} port ${port()}`,
  ];
  return `${syslogDate()} web1 ${kinds[n % 3]}\n`;
}

/** Unrelated lines, as an auth.log shows them (cron, systemd, successful logins). */
function noiseBatch(n: number, seq: number): string {
  const date = syslogDate();
  let out = '';
  for (let i = 0; i < n; i++) {
    const k = (seq + i) % 6;
    const pid = 30000 + ((seq + i) % 20000);
    switch (k) {
      case 0:
        out += `${date} web1 CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n`;
        break;
      case 1:
        out += `${date} web1 CRON[${pid}]: pam_unix(cron:session): session closed for user root\n`;
        break;
      case 2:
        out += `${date} web1 systemd-logind[612]: New session ${pid} of user deploy.\n`;
        break;
      case 3:
        out += `${date} web1 sshd[${pid}]: Accepted publickey for deploy from 10.20.${(seq + i) & 255}.7 port ${40000 + (pid % 20000)} ssh2: ED25519 SHA256:Qm5lD0t2i7YbZzVq1bXbS3o2Rr9N3p8s2cK3YxJ7uNk\n`;
        break;
      case 4:
        out += `${date} web1 sshd[${pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)\n`;
        break;
      default:
        out += `${date} web1 sshd[${pid}]: Received disconnect from 10.20.${(seq + i) & 255}.7 port ${40000 + (pid % 20000)}:11: disconnected by user\n`;
    }
  }
  return out;
}

interface Stats {
  n: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles. */
function stats(samples: number[]): Stats {
  const t = [...samples].sort((a, b) => a - b);
  const at = (q: number) => t[Math.min(t.length - 1, Math.max(0, Math.ceil(q * t.length) - 1))];
  return { n: t.length, median: at(0.5), p90: at(0.9), p99: at(0.99), max: t[t.length - 1] };
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  // After the command name: state is field 3, utime 14 and stime 15.
  return (Number(fields[11]) + Number(fields[12])) / hz;
}

/** Follows `nft -j monitor new elements`: when each address entered the jail's sets. */
class SetMonitor {
  private readonly proc: ChildProcess;
  private buffered = '';
  private readonly arrivals = new Arrivals(MISS_MS);
  /** Elements added that no sample asked for (a noise line that was banned would show here). */
  readonly strangers: string[] = [];
  output = '';

  constructor() {
    this.proc = spawn('nft', ['-j', 'monitor', 'new', 'elements'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d) => (this.output += d));
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      const now = performance.now();
      this.buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.take(line, now);
      }
    });
  }

  private take(line: string, now: number): void {
    for (const val of addedElements(line, TABLE, (name) => name.startsWith(SET))) {
      if (this.arrivals.arrived(val, now) === 'unasked') this.strangers.push(val);
    }
  }

  /** Resolves with the time `ip` entered the set, or null after MISS_MS. */
  when(ip: string): Promise<number | null> {
    return this.arrivals.when(ip);
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
  }
}

/** The example jail with its log in `log`, and without the mail part (no mail server here). */
function jailFlow(log: string): unknown[] {
  const example = JSON.parse(readFileSync(join(root, 'examples', 'sshd-jail-nftables.json'), 'utf8')) as Array<Record<string, unknown>>;
  const dropped = new Set(['switch', 'mail-notify', 'mail-server', 'debug']);
  const kept = example.filter((n) => !dropped.has(String(n.type)));
  const ids = new Set(kept.map((n) => n.id));
  const flow: Array<Record<string, unknown>> = [{ id: 'f2bnft.tab', type: 'tab', label: 'sshd jail (bench)' }];
  for (const n of kept) {
    const node: Record<string, unknown> = { ...n, z: 'f2bnft.tab' };
    if (Array.isArray(n.wires)) node.wires = (n.wires as string[][]).map((out) => out.filter((id) => ids.has(id)));
    if (n.type === 'log-tail') node.paths = log;
    flow.push(node);
  }
  const want = ['log-tail', 'failregex-match', 'threshold-window', 'firewall-ban'];
  for (const t of want) if (!flow.some((n) => n.type === t)) throw new Error(`the example flow has no ${t} node`);
  return flow;
}

/** The log, written as a syslog daemon appends: whole lines, one write each. */
class Log {
  private readonly fd: number;
  lines = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
  }

  write(text: string, lines: number): void {
    writeSync(this.fd, text);
    this.lines += lines;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Appends NOISE_RATE lines a second in batches every NOISE_TICK_MS, catching up when a timer is late. */
function startNoise(log: Log): { stop(): { lines: number; seconds: number } } {
  const start = performance.now();
  let written = 0;
  const timer = setInterval(() => {
    const owed = Math.floor(((performance.now() - start) / 1000) * NOISE_RATE) - written;
    if (owed <= 0) return;
    log.write(noiseBatch(owed, written), owed);
    written += owed;
  }, NOISE_TICK_MS);
  return {
    stop() {
      clearInterval(timer);
      return { lines: written, seconds: (performance.now() - start) / 1000 };
    },
  };
}

async function inside(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-ban-latency-'));
  const userDir = join(dir, 'user');
  const logFile = join(dir, 'auth.log');
  let red: ChildProcess | null = null;
  let monitor: SetMonitor | null = null;
  let log: Log | null = null;
  let redOutput = '';
  const cleanup = async () => {
    monitor?.stop();
    if (red) await stopAndWait(red, 5000);
    log?.close();
    log = null;
    rmSync(dir, { recursive: true, force: true });
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    installPackage(userDir);
    writeFileSync(logFile, `${syslogDate()} web1 systemd[1]: Started OpenBSD Secure Shell server.\n`);
    const uiPort = await freePort();
    const base = `http://127.0.0.1:${uiPort}`;
    writeSettings(userDir, uiPort);
    monitor = new SetMonitor();
    red = (await spawnNodeRed(userDir, base, { onOutput: (d) => (redOutput += d) })).child;
    const res = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(jailFlow(logFile)) });
    if (!res.ok) throw new Error(`deploy answered ${res.status}: ${await res.text()}`);
    for (let end = Date.now() + 15000; spawnSync('nft', ['list', 'set', 'inet', TABLE, SET]).status !== 0; ) {
      if (Date.now() > end) throw new Error(`the nftables set never appeared:\n${redOutput}`);
      await sleep(100);
    }
    await sleep(500);
    log = new Log(logFile);
    const next = addresses();
    const logRef = log;
    const mon = monitor;

    /** One sample: two failures first, then the time from writing the third until the ban is in the set. */
    const sample = async (): Promise<number | null> => {
      const ip = next.next().value as string;
      logRef.write(failureLine(ip, 0), 1);
      logRef.write(failureLine(ip, 1), 1);
      await sleep(15);
      const seen = mon.when(ip);
      const line = failureLine(ip, 2);
      const t0 = performance.now();
      logRef.write(line, 1);
      const t1 = await seen;
      return t1 === null ? null : t1 - t0;
    };

    const redPid = red.pid!;
    const phase = async (label: string): Promise<{ stats: Stats; missed: number; cpu: number; load: number }> => {
      const cpu0 = cpuSeconds(redPid);
      const wall0 = performance.now();
      const times: number[] = [];
      let missed = 0;
      for (let i = 0; i < WARMUP + SAMPLES; i++) {
        const started = performance.now();
        const ms = await sample();
        if (ms === null && ++missed >= 5 && missed > times.length) throw new Error(`${label}: ${missed} bans were not seen in the set; Node-RED said:\n${redOutput}`);
        if (i >= WARMUP && ms !== null) times.push(ms);
        const left = SPACING_MS - (performance.now() - started);
        if (left > 0) await sleep(left);
      }
      if (times.length === 0) throw new Error(`${label}: no ban was seen in the set:\n${redOutput}`);
      const cpu = (cpuSeconds(redPid) - cpu0) / ((performance.now() - wall0) / 1000);
      return { stats: stats(times), missed, cpu, load: loadavg()[0] };
    };

    const fmt = (label: string, r: { stats: Stats; missed: number; cpu: number; load: number }) => {
      const s = r.stats;
      const verdict = s.p99 < 50 ? 'under' : 'OVER';
      return (
        `${label} median ${s.median.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms ` +
        `(${s.n} bans${r.missed ? `, ${r.missed} not seen within ${MISS_MS / 1000} s` : ''}; p99 ${verdict} 50 ms)\n` +
        `${' '.repeat(label.length)} Node-RED used ${(r.cpu * 100).toFixed(0)}% of a core; machine load average ${r.load.toFixed(1)} on ${cpus().length} cores`
      );
    };

    console.log(`ban latency, third failure written -> address in nftables set (${SAMPLES} samples per phase after ${WARMUP} warm-up, one every >= ${SPACING_MS} ms)`);
    const rest = await phase('at rest');
    console.log(fmt('at rest:                   ', rest));

    const noise = startNoise(log);
    await sleep(2000); // the flow settles into the load first
    const loaded = await phase('loaded');
    const written = noise.stop();
    console.log(fmt(`with ${NOISE_RATE} lines/s of noise:`, loaded));
    console.log(`noise actually written: ${written.lines} lines in ${written.seconds.toFixed(1)} s = ${Math.round(written.lines / written.seconds)} lines/s (log ${log.lines} lines in all)`);
    // log-tail's saved read position says whether Node-RED kept up with the log.
    const positions = join(userDir, 'fail2ban', 'tail-f2bnft.tail.json');
    const behind = () => {
      try {
        return statSync(logFile).size - (JSON.parse(readFileSync(positions, 'utf8')) as { files: Record<string, { pos: number }> }).files[logFile].pos;
      } catch {
        return NaN;
      }
    };
    const lag = behind();
    const caughtUp = performance.now();
    while (!(behind() <= 0) && performance.now() - caughtUp < 10000) await sleep(10);
    console.log(`log-tail had read all but ${lag} bytes when the writer stopped; all of it ${(performance.now() - caughtUp).toFixed(0)} ms later${behind() > 0 ? ' (NOT caught up after 10 s)' : ''}`);
    if (mon.strangers.length) console.log(`unexpected addresses banned: ${mon.strangers.slice(0, 5).join(', ')}${mon.strangers.length > 5 ? ` (+${mon.strangers.length - 5})` : ''}`);
    if (/TypeError|ReferenceError|Uncaught/.test(redOutput)) console.log(`Node-RED said:\n${redOutput}`);
  } finally {
    await cleanup();
  }
}

const main = process.argv[2] === '--inside' ? inside : host;
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
