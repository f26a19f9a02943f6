/**
 * For the f2b-import tests: fail2ban's configuration staged from the unpacked package, the CLI run as a
 * user runs it, fail2ban's own view of a configuration (`fail2ban-client -d`), and a Node-RED that
 * runs an imported flow.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS_DIR, FAIL2BAN_PYTHON } from './fail2ban-corpus';
import { freePort, installPackage, spawnNodeRed, stopAndWait, waitFor, writeSettings } from './process';

export const IMPORT_CLI = join(__dirname, '..', '..', 'bin', 'f2b-import.js');
/** Debian's /etc/fail2ban as the package ships it. */
export const DEBIAN_CONFIG = join(CORPUS_DIR, 'etc', 'fail2ban');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs f2b-import with these arguments (no shell). */
export function runImport(args: string[]): CliRun {
  const r = spawnSync(process.execPath, [IMPORT_CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A scratch directory removed by the returned function. */
export function scratch(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of Debian's /etc/fail2ban at `dir`/fail2ban, with these files written into it (path → text). */
export function stageDebianConfig(dir: string, files: Record<string, string>): string {
  const cfg = join(dir, 'fail2ban');
  cpSync(DEBIAN_CONFIG, cfg, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cfg, name), text);
  return cfg;
}

/** One jail as fail2ban-client -d sets it up. */
export interface Fail2banJail {
  backend: string;
  settings: Record<string, unknown>;
  logpaths: string[];
  journalmatch: string[];
  failregex: string[];
  ignoreip: string[];
  /** Actions in order, with their options as fail2ban resolved them; `ports` are port numbers (by the C library's getservbyname). */
  actions: Array<{ name: string; options: Record<string, string>; ports: string[] | null }>;
}

/** Turns fail2ban-client -d's Python lists into JSON; resolves action port names as the C library does. */
const DUMP_TO_JSON = `import ast, json, socket, sys
jails, order = {}, []
def port(name, proto):
    try:
        return str(socket.getservbyname(name, proto))
    except OSError:
        return str(socket.getservbyname(name, 'tcp'))
for line in sys.stdin:
    line = line.strip()
    if not line.startswith('['):
        continue
    c = ast.literal_eval(line)
    if c[0] == 'add':
        order.append(c[1]); jails[c[1]] = dict(backend=c[2], settings={}, logpaths=[], journalmatch=[], failregex=[], ignoreip=[], actions=[])
    elif c[0] in ('set', 'multi-set') and len(c) > 2 and c[1] in jails:
        j, key, rest = jails[c[1]], c[2], c[3:]
        if key == 'addlogpath': j['logpaths'].append(rest[0])
        elif key == 'addjournalmatch': j['journalmatch'].append(' '.join(rest))
        elif key == 'addfailregex': j['failregex'] += rest[0] if isinstance(rest[0], list) else [rest[0]]
        elif key == 'addignoreip': j['ignoreip'] += rest
        elif key == 'addaction': j['actions'].append(dict(name=rest[0], options={}, ports=None))
        elif key == 'action':
            a = [x for x in j['actions'] if x['name'] == rest[0]][0]
            a['options'] = {k: str(v) for k, v in rest[1]}
            p, proto = a['options'].get('port'), a['options'].get('protocol', 'tcp')
            if p is not None:
                a['ports'] = [w.replace(':', '-') if w[0].isdigit() else port(w, proto) for w in p.replace(' ', ',').split(',') if w]
        else: j['settings'][key] = rest[0] if len(rest) == 1 else rest
print(json.dumps(dict(order=order, jails=jails)))
`;

/** fail2ban's own view of the configuration in `dir`: the jails fail2ban-client -d would start, in order. */
export function fail2banView(dir: string): { order: string[]; jails: Record<string, Fail2banJail> } {
  const env = { ...process.env, PYTHONPATH: FAIL2BAN_PYTHON };
  const dump = spawnSync('python3', [join(CORPUS_DIR, 'usr', 'bin', 'fail2ban-client'), '-c', dir, '-d'], { encoding: 'utf8', env });
  if (dump.status !== 0) throw new Error(`fail2ban-client -d on ${dir}: ${dump.stderr}`);
  const json = spawnSync('python3', ['-c', DUMP_TO_JSON], { input: dump.stdout, encoding: 'utf8' });
  if (json.status !== 0) throw new Error(`reading fail2ban-client -d: ${json.stderr}`);
  return JSON.parse(json.stdout);
}

export interface ImportedRed {
  base: string;
  output(): string;
  close(): Promise<void>;
}

/** A Node-RED (this package installed) started on `flow` as its flows.json, in a user directory under `dir`. */
export async function runFlow(dir: string, flow: unknown[]): Promise<ImportedRed> {
  const userDir = join(dir, 'userdir');
  mkdirSync(userDir, { recursive: true });
  installPackage(userDir);
  const port = await freePort();
  // Info level, to see "Started flows" (or "Waiting for missing types").
  writeSettings(userDir, port, "logging: { console: { level: 'info' } },");
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
  const base = `http://127.0.0.1:${port}`;
  const red = await spawnNodeRed(userDir, base);
  try {
    await waitFor(() => /Started flows|missing types/.test(red.output()), 'Node-RED starting the imported flow', 30000);
  } catch (err) {
    await stopAndWait(red.child);
    throw err;
  }
  return { base, output: red.output, close: () => stopAndWait(red.child) };
}
