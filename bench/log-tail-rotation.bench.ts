/**
 * Rotation under lag: a writer process appends 200,000 numbered lines at ~100,000 lines/s while Debian's
 * logrotate runs every 150 ms (about ten rotations), and the consumer of the follower is made slow
 * (8 µs a line), so the follower falls behind by several rotations. Prints, per logrotate mode, the lines
 * delivered, the lines on disk never delivered (must be 0), and lines out of order or twice (must be 0).
 * Needs logrotate (Debian package logrotate).
 */
import { execFileSync, spawn } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import { Follower } from '../lib/tail';

const WRITER = `
const fs = require('fs');
let fd = fs.openSync(process.argv[1], 'a');
let n = 0;
process.on('SIGHUP', () => { const o = fd; fd = fs.openSync(process.argv[1], 'a'); fs.closeSync(o); });
process.stdout.write('ready\\n');
const pad = 'x'.repeat(60);
let left = Number(process.argv[2]);
const step = () => {
  let s = '';
  const k = Math.min(left, 300);
  for (let i = 0; i < k; i++) s += 'line ' + (++n) + ' ' + pad + '\\n';
  fs.writeSync(fd, s);
  left -= k;
  if (left > 0) setTimeout(step, 2); else process.stdout.write('done ' + n + '\\n');
};
step();
`;

async function run(mode: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-rot-'));
  try {
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const writer = spawn(process.execPath, ['-e', WRITER, log, '200000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = [`${log} {`, '  rotate 50'];
    if (mode.includes('compress')) lines.push('  compress');
    if (mode.includes('delay')) lines.push('  delaycompress');
    if (mode.startsWith('copytruncate')) lines.push('  copytruncate');
    else lines.push('  create', '  postrotate', `    kill -HUP ${writer.pid}`, '  endscript');
    const conf = join(dir, 'logrotate.conf');
    writeFileSync(conf, `${lines.join('\n')}\n}\n`);

    const got: number[] = [];
    const f = new Follower({ paths: [log], start: 'beginning', encoding: 'utf8', pollMs: 100 });
    f.on('line', (l: string) => {
      const m = /^line (\d+) x{60}$/.exec(l);
      got.push(m ? Number(m[1]) : -1);
      const t = process.hrtime.bigint();
      while (process.hrtime.bigint() - t < 8000n);
    });
    f.on('error', (e: Error) => console.log(`  error: ${e.message}`));
    f.start();

    let rotations = 0;
    let timer: NodeJS.Timeout | undefined;
    const total = await new Promise<number>((resolve) => {
      writer.stdout!.on('data', (d: Buffer) => {
        const text = String(d);
        if (text.includes('ready') && !timer) {
          timer = setInterval(() => {
            rotations++;
            try {
              execFileSync('logrotate', ['-f', '-s', join(dir, 'status'), conf], { stdio: 'ignore' });
            } catch {
              /* the writer has ended */
            }
          }, 150);
        }
        const m = /done (\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
    });
    clearInterval(timer);
    const end = Date.now() + 30000;
    while (got.at(-1) !== total && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 2500));
    await f.stop();

    const disk = new Set<number>();
    for (const name of readdirSync(dir)) {
      if (!name.startsWith('app.log')) continue;
      let data = readFileSync(join(dir, name));
      if (name.endsWith('.gz')) data = gunzipSync(data);
      for (const m of data.toString().matchAll(/^line (\d+) /gm)) disk.add(Number(m[1]));
    }
    const delivered = new Set(got);
    const missing = [...disk].filter((n) => !delivered.has(n)).length;
    let disorder = 0;
    for (let i = 1; i < got.length; i++) if (got[i] <= got[i - 1]) disorder++;
    console.log(
      `${mode.padEnd(30)} ${rotations} logrotate runs, ${f.rotations} rotations seen; ${got.length} of ${total} lines delivered, ${disk.size} on disk; on disk but never delivered: ${missing}; out of order or twice: ${disorder}` +
        (mode.startsWith('copytruncate') ? `; written between logrotate's copy and its truncate, on no disk: ${total - disk.size}` : ''),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  try {
    execFileSync('logrotate', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('logrotate is not installed: apt-get install logrotate');
    return;
  }
  for (const mode of ['create', 'create compress', 'create compress delaycompress', 'copytruncate', 'copytruncate compress']) await run(mode);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
