/**
 * f2b-regex against fail2ban's own fail2ban-regex, whole process against whole process, on the same
 * filter file (fail2ban's sshd.conf) and the same log: fail2ban's sshd sample log repeated to 200,000
 * lines. fail2ban comes from Debian's package, unpacked (not installed) into .cache/fail2ban-corpus.
 *
 * fail2ban-regex runs with --raw: f2b-regex never resolves a host name, it reports the name itself as
 * the failure id. Without --raw fail2ban-regex looks up the names <HOST> finds (example.com, four lines
 * of the sample log) and, with no working resolver, drops those failures and counts the lines as missed
 * (87,857 matched against our 91,914); it would also send DNS queries from a benchmark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CORPUS_DIR, FAIL2BAN_FILTERS, FAIL2BAN_PYTHON, unpackFail2ban } from '../test/support/fail2ban-corpus';

const LINES = 200_000;
const root = resolve(__dirname, '..', '..');
const missing = unpackFail2ban();
const corpus = CORPUS_DIR;
const filter = join(FAIL2BAN_FILTERS, 'sshd.conf');
const samples = join(FAIL2BAN_PYTHON, 'fail2ban/tests/files/logs/sshd');
if (missing || !existsSync(filter) || !existsSync(samples)) {
  console.log(`skipped: fail2ban's package is not unpacked at ${corpus}: ${missing ?? 'no sshd filter or samples in it'}`);
  process.exit(0);
}

const sample = readFileSync(samples, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
const lines: string[] = [];
for (let i = 0; lines.length < LINES; i++) lines.push(sample[i % sample.length]);
const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-'));
const log = join(dir, 'sshd.log');
writeFileSync(log, lines.join('\n') + '\n');

interface Run {
  seconds: number;
  cpu: number;
  out: string;
}

/**
 * Runs a command through sh, whose `times` adds the child's CPU time (user + system) to the wall
 * clock: on a busy machine the CPU time is the fairer figure.
 */
function timed(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const start = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', '"$@" || exit $?; times >&2', 'sh', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'Europe/Zurich', ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${r.stderr}`);
  const child = r.stderr.trim().split('\n').pop() ?? '';
  const cpu = [...child.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { seconds, cpu, out: r.stdout };
}

/**
 * The run of median wall time out of `n` (and the spread), as a benchmark tool reports: one run on a
 * shared machine can be 10% off either way. Every run's summary must be the same.
 */
function median(n: number, label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run & { fastest: number; slowest: number; runs: number } {
  const runs = Array.from({ length: n }, () => timed(label, cmd, args, env));
  const summary = (r: Run) => r.out.split('\n').find((l) => l.startsWith('Lines:'));
  if (runs.some((r) => summary(r) !== summary(runs[0]))) throw new Error(`${label}: the runs gave different summaries`);
  const byWall = [...runs].sort((a, b) => a.seconds - b.seconds);
  const cpu = runs.map((r) => r.cpu).sort((a, b) => a - b)[n >> 1];
  return { ...byWall[n >> 1], cpu, fastest: byWall[0].seconds, slowest: byWall[n - 1].seconds, runs: n };
}

/**
 * NODE_EXTRA_CA_CERTS, when set (as on this project's build machines), makes a Node.js 20 process read
 * and parse that certificate bundle as it starts, before any of our code runs: 40 ms here, a tenth of
 * f2b-regex's run (Node.js 22 reads it only for a TLS connection). f2b-regex makes no TLS connection, so
 * it runs without it, as on a machine that does not set it; the figure with it is printed too.
 */
const extraCerts = process.env.NODE_EXTRA_CA_CERTS;

try {
  const ours = median(9, 'f2b-regex', process.execPath, [join(root, 'dist', 'bin', 'f2b-regex.js'), log, filter], { NODE_EXTRA_CA_CERTS: undefined });
  const oursCerts = extraCerts ? median(5, 'f2b-regex', process.execPath, [join(root, 'dist', 'bin', 'f2b-regex.js'), log, filter]) : null;
  const theirs = median(3, 'fail2ban-regex', 'python3', [join(corpus, 'usr/bin/fail2ban-regex'), '--raw', log, filter], {
    PYTHONPATH: join(corpus, 'usr/lib/python3/dist-packages'),
  });
  const oursLine = ours.out.split('\n').find((l) => l.startsWith('Lines:')) ?? '';
  const theirsLine = theirs.out.split('\n').find((l) => l.startsWith('Lines:')) ?? '';
  console.log(`log: ${LINES.toLocaleString('en-US')} lines of fail2ban's sshd samples; filter: fail2ban's sshd.conf`);
  const row = (name: string, r: ReturnType<typeof median>, summary: string) =>
    console.log(
      `${name.padEnd(15)} ${r.seconds.toFixed(2)} s wall (median of ${r.runs}: ${r.fastest.toFixed(2)} to ${r.slowest.toFixed(2)}), ${r.cpu.toFixed(2)} s CPU (${Math.round(LINES / r.seconds).toLocaleString('en-US')} lines/s)  ${summary}`,
    );
  row('f2b-regex:', ours, oursLine);
  if (oursCerts) row('  with certs:', oursCerts, `(NODE_EXTRA_CA_CERTS=${extraCerts} left set: Node reads it at start)`);
  row('fail2ban-regex:', theirs, theirsLine);
  console.log(oursLine === theirsLine && oursLine !== '' ? 'summaries: identical' : `summaries DIFFER:\n  f2b-regex:      ${oursLine}\n  fail2ban-regex: ${theirsLine}`);
  console.log(`ratio: f2b-regex is ${(theirs.seconds / ours.seconds).toFixed(1)} times faster by the wall clock (medians), ${(theirs.cpu / ours.cpu).toFixed(1)} times by CPU time`);
  if (oursCerts) console.log(`  (${(theirs.seconds / oursCerts.seconds).toFixed(1)} times by the wall clock with NODE_EXTRA_CA_CERTS set)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
