/**
 * fail2ban's own filter test corpus (Debian's fail2ban package, unpacked by the test: its filter.d and
 * sample logs), replayed through `f2b-regex --json` line by line, as fail2ban's own sample test case
 * walks it: every annotated line must give what fail2ban's test expects, and no other line may match.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { disagreements, SAMPLE_NOW_S, sampleStreams, unpackFail2ban, type CliResult, type SampleStream } from '../support/fail2ban-corpus';

const root = resolve(__dirname, '..', '..', '..');
const cli = join(root, 'dist', 'bin', 'f2b-regex.js');
const missing = unpackFail2ban();
if (missing) console.log(`# SKIPPED: fail2ban's sample-log corpus cannot be replayed: ${missing}`);

/** Runs f2b-regex on one stream's lines; its results by line number. */
function run(stream: SampleStream, dir: string, n: number): Promise<Map<number, CliResult>> {
  const log = join(dir, `${n}.log`);
  writeFileSync(log, stream.lines.map((l) => `${l.text}\n`).join(''));
  const args = [cli, '--json', '--now', String(SAMPLE_NOW_S)];
  if (stream.journal) args.push('--journal');
  for (const [k, v] of Object.entries(stream.options)) args.push('--filter-option', `${k}=${v}`);
  args.push(log, stream.filterFile);
  return new Promise((done, fail) => {
    execFile(process.execPath, args, { env: { ...process.env, TZ: 'Europe/Zurich' }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return fail(new Error(`f2b-regex on ${stream.test} ${JSON.stringify(stream.options)}: ${stderr || err.message}`));
      const results = new Map<number, CliResult>();
      for (const line of stdout.split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line) as CliResult & { line: number };
        results.set(r.line, r);
      }
      done(results);
    });
  });
}

test("f2b-regex finds exactly what fail2ban's own tests expect in its sample logs", { timeout: 600_000, skip: missing ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-corpus-'));
  try {
    const streams = sampleStreams(join(dir, 'stage'));
    const byTest = new Map<string, { passed: number; failed: string[] }>();
    let next = 0;
    // Two runs at a time (the machines have two cores).
    const worker = async () => {
      for (let i = next++; i < streams.length; i = next++) {
        const stream = streams[i];
        const results = await run(stream, dir, i);
        const tally = byTest.get(stream.test) ?? { passed: 0, failed: [] };
        byTest.set(stream.test, tally);
        stream.lines.forEach((line, k) => {
          const wrong = disagreements(line.expected, results.get(k + 1));
          if (wrong.length === 0) tally.passed++;
          else tally.failed.push(`${line.where} ${JSON.stringify(stream.options)}: ${wrong.join('; ')}\n    ${line.text.slice(0, 200)}`);
        });
      }
    };
    await Promise.all([worker(), worker()]);
    const passed = [...byTest.values()].reduce((n, x) => n + x.passed, 0);
    const failed = [...byTest.values()].flatMap((x) => x.failed);
    t.diagnostic(`fail2ban's corpus: ${byTest.size} filter tests, ${streams.length} sets of options, ${passed} lines agree, ${failed.length} disagree`);
    assert.deepEqual(failed, []);
    // fail2ban 1.0.2's corpus (Debian 12) has 1627 checks; a newer package may have more, never fewer.
    assert.ok(passed >= 1627, `the corpus has 1627 checks; ${passed} were made`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
