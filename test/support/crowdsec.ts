/**
 * Debian's CrowdSec Local API, run alone (`crowdsec -no-cs`) inside a network namespace on a private
 * configuration: its SQLite database, logs and credentials in a temporary directory, listening only on
 * the namespace's address, with no Central API, no console and no hub download (nothing that could go
 * online; the namespaces have no route out anyway). cscli runs in the same namespace on the same
 * configuration (`-c`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailable } from './netns';
import { waitFor } from './process';

export const LAPI_PORT = 8080;

/** Why CrowdSec cannot run here, or null. */
export function crowdsecUnavailable(): string | null {
  const why = labUnavailable();
  if (why) return why;
  if (spawnSync('crowdsec', ['-version']).error || spawnSync('cscli', ['version']).error) {
    return "needs Debian's crowdsec (touch /etc/crowdsec/online_api_credentials.yaml with a comment first, then apt-get install crowdsec)";
  }
  return null;
}

export interface Lapi {
  dir: string;
  config: string;
  /** http://address:port of the API, to be used only from inside a namespace. */
  url: string;
  /** Runs cscli on the private configuration inside the namespace; throws with its output when it fails. */
  cscli(...args: string[]): string;
  /** cscli ... -o json, parsed (null when it prints null). */
  cscliJson<T = unknown>(...args: string[]): T;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What crowdsec.log holds. */
  log(): string;
  remove(): Promise<void>;
}

/** The private configuration: Debian's config.yaml's shape, every path in `dir`, no online part. */
function writeConfig(dir: string, listen: string): string {
  mkdirSync(join(dir, 'data'), { recursive: true });
  copyFileSync('/etc/crowdsec/profiles.yaml', join(dir, 'profiles.yaml'));
  writeFileSync(join(dir, 'simulation.yaml'), 'simulation: off\n');
  writeFileSync(join(dir, 'acquis.yaml'), '');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'common:',
      '  daemonize: false',
      '  log_media: file',
      '  log_level: info',
      `  log_dir: ${dir}/`,
      '  working_dir: .',
      'config_paths:',
      `  config_dir: ${dir}/`,
      `  data_dir: ${dir}/data/`,
      `  simulation_path: ${dir}/simulation.yaml`,
      '  hub_dir: /var/lib/crowdsec/hub/',
      '  index_path: /var/lib/crowdsec/hub/.index.json',
      `  notification_dir: ${dir}/notifications/`,
      '  plugin_dir: /usr/lib/crowdsec/plugins/',
      'crowdsec_service:',
      `  acquisition_path: ${dir}/acquis.yaml`,
      '  parser_routines: 1',
      'cscli:',
      '  output: human',
      '  color: no',
      'db_config:',
      '  log_level: info',
      '  type: sqlite',
      `  db_path: ${dir}/data/crowdsec.db`,
      '  use_wal: false',
      '  flush:',
      '    max_items: 5000',
      '    max_age: 7d',
      'plugin_config:',
      '  user: nobody',
      '  group: nogroup',
      'api:',
      '  client:',
      '    insecure_skip_verify: false',
      `    credentials_path: ${dir}/local_api_credentials.yaml`,
      '  server:',
      '    log_level: info',
      `    listen_uri: ${listen}`,
      `    profiles_path: ${dir}/profiles.yaml`,
      // No online_client (the Central API: signals, blocklist pull, metrics) and no console_path.
      '    trusted_ips:',
      '      - 127.0.0.1',
      '      - ::1',
      'prometheus:',
      '  enabled: false',
      '',
    ].join('\n'),
  );
  return config;
}

/** A private Local API in namespace `ns`, listening on `address`:LAPI_PORT (not started yet). */
export function createLapi(ns: string, address: string): Lapi {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-crowdsec-'));
  const listen = `${address}:${LAPI_PORT}`;
  const config = writeConfig(dir, listen);
  let child: ChildProcess | null = null;
  let stderr = '';
  const run = (args: string[]) => spawnSync('ip', ['netns', 'exec', ns, 'cscli', '-c', config, ...args], { encoding: 'utf8', timeout: 30000 });
  // cscli's own machine (cscli decisions add goes through the API as a watcher).
  const own = run(['machines', 'add', 'cscli-test', '--auto', '--force', '-f', join(dir, 'local_api_credentials.yaml')]);
  if (own.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cscli machines add failed: ${own.stderr}`);
  }
  const lapi: Lapi = {
    dir,
    config,
    url: `http://${listen}`,
    cscli(...args) {
      const r = run(args);
      if (r.status !== 0) throw new Error(`cscli ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    cscliJson<T>(...args: string[]) {
      return JSON.parse(lapi.cscli(...args, '-o', 'json') || 'null') as T;
    },
    async start() {
      stderr = '';
      child = spawn('ip', ['netns', 'exec', ns, 'crowdsec', '-c', config, '-no-cs', '-no-capi'], { stdio: ['ignore', 'ignore', 'pipe'] });
      const c = child;
      c.stderr!.on('data', (d) => (stderr += d));
      await waitFor(() => {
        if (c.exitCode !== null) throw new Error(`crowdsec exited (${c.exitCode}): ${stderr}\n${lapi.log().slice(-3000)}`);
        return spawnSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn', `sport = :${LAPI_PORT}`], { encoding: 'utf8' }).stdout.trim() !== '';
      }, 'the CrowdSec Local API to listen', 20000, 100);
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
    log() {
      const file = join(dir, 'crowdsec.log');
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
    async remove() {
      await lapi.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lapi;
}
