/**
 * A fleet of three hosts and an MQTT broker, each in a network namespace of its own (createLab: the
 * broker in the "server" namespace, on the link of each host, no route between hosts). Each host runs a
 * real Node-RED with the sshd jail on nftables plus ban-share and the core mqtt nodes, driven by
 * test/e2e/fleet-host-in-netns.js inside its namespace over a pipe. Debian's mosquitto is the broker,
 * with a private configuration and its persistence in a temporary directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLab, labUnavailable, type Host, type Lab } from './netns';
import { installPackage, syslogDate, waitFor, writeSettings } from './process';

export const PREFIX = 'fail2ban/bans';
export const SET = 'f2b-sshd';
const NODE_RED_PORT = 1880;
const MQTT_PORT = 1883;

/** Why the fleet cannot run here, or null. */
export function fleetUnavailable(): string | null {
  const why = labUnavailable();
  if (why) return why;
  if (spawnSync('nft', ['--version']).status !== 0) return 'needs nftables (nft)';
  if (spawnSync('mosquitto', ['-h']).error) return 'needs Debian\'s mosquitto (apt-get install mosquitto mosquitto-clients)';
  return null;
}

export interface FleetHost {
  /** Its origin in the fleet: hostA, hostB, hostC. */
  name: string;
  net: Host;
  /** The broker's address on this host's link. */
  broker: string;
  userDir: string;
  logPath: string;
  /** Sends an order to the host's agent; resolves with its answer, rejects on an error. */
  ask(op: string, extra?: Record<string, unknown>, ms?: number): Promise<Record<string, unknown>>;
  /** Called with each element the host's nftables set gains, once `watch` was ordered. */
  onElement?: (ip: string, at: number) => void;
  /** GET an admin path of its Node-RED. */
  get(path: string): Promise<unknown>;
  /** The elements of its jail's set now. */
  elements(): Promise<string[]>;
  /** Appends `n` failed sshd logins of `ip` to its auth.log. */
  fail(ip: string, n?: number): void;
}

export interface Fleet {
  lab: Lab;
  hosts: FleetHost[];
  brokerStart(): Promise<void>;
  brokerStop(): Promise<void>;
  /** What the broker holds under the prefix now (retained messages), read with mosquitto_sub inside its namespace. */
  retained(withExpiry?: boolean): Map<string, string>;
  /** Every message the broker passed on under the prefix since it (last) started, with times: for a failure's report. */
  trace(): string;
  remove(): Promise<void>;
}

export interface FleetOptions {
  maxPerMinute?: number;
  /** Extra ignoreip of every host's ban-share. */
  ignoreip?: string;
}

/** The firewall-ban node of examples/fleet.json (for its admin API). */
export const FW = 'f2bfleet.fw';

/**
 * The flow of one host: examples/fleet.json (the sshd jail, ban-share, mqtt in/out, a Status node on mqtt in),
 * set as its comment tells for each host, and banning in nftables.
 */
export function fleetFlow(name: string, broker: string, logPath: string, options: FleetOptions = {}): unknown[] {
  const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'fleet.json'), 'utf8')) as Array<Record<string, unknown>>;
  const set: Record<string, Record<string, unknown>> = {
    'log-tail': { paths: logPath, resume: false },
    'firewall-ban': { backend: 'nftables' },
    'ban-share': { origin: name, ignoreip: `127.0.0.1/8 ::1 ${options.ignoreip ?? ''}`.trim(), maxPerMinute: String(options.maxPerMinute ?? 100) },
    'mqtt-broker': { broker, port: String(MQTT_PORT), clientid: `f2b-${name}`, keepalive: '15' },
  };
  return [{ id: 'fleet', type: 'tab', label: 'fleet' }, ...example.map((n) => ({ ...n, ...(n.x !== undefined ? { z: 'fleet' } : {}), ...set[String(n.type)] }))];
}

/** Starts the broker namespace and three hosts, each with its Node-RED running and connected. */
export async function createFleet(tag: string, options: FleetOptions = {}): Promise<Fleet> {
  const lab = createLab(tag, 2);
  const dirs: string[] = [];
  const agents: ChildProcess[] = [];
  let broker: ChildProcess | null = null;
  let brokerLog = '';
  let tracer: ChildProcess | null = null;
  let traced = '';
  const brokerDir = mkdtempSync(join(tmpdir(), 'f2b-mosquitto-'));
  dirs.push(brokerDir);
  const hubs = [lab.client, ...lab.others].map((h) => h.peer);
  const conf = join(brokerDir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // Stays root (the package's user could not write the temporary directory); only listens on the
      // namespace's addresses, one listener per host link.
      'user root',
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${brokerDir}/`,
      'persistence_file mosquitto.db',
      'autosave_interval 1',
      'max_queued_messages 20000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      ...hubs.map((a) => `listener ${MQTT_PORT} ${a}`),
      '',
    ].join('\n'),
  );

  const fleet: Fleet = {
    lab,
    hosts: [],
    async brokerStart() {
      broker = spawn('ip', ['netns', 'exec', lab.server.ns, 'mosquitto', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      broker.stderr!.on('data', (d) => (brokerLog += d));
      await waitFor(() => {
        if (broker!.exitCode !== null) throw new Error(`mosquitto exited (${broker!.exitCode}): ${brokerLog}`);
        return spawnSync('ip', ['netns', 'exec', lab.server.ns, 'ss', '-Hltn', `sport = :${MQTT_PORT}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length === hubs.length;
      }, 'mosquitto to listen', 10000);
      tracer = spawn('ip', ['netns', 'exec', lab.server.ns, 'mosquitto_sub', '-h', hubs[0], '-p', String(MQTT_PORT), '-V', 'mqttv5', '-t', `${PREFIX}/#`, '-F', '%U %r %t %p'], { stdio: ['ignore', 'pipe', 'ignore'] });
      tracer.stdout!.on('data', (d) => (traced += d));
    },
    trace: () => traced,
    async brokerStop() {
      const b = broker;
      broker = null;
      tracer?.kill();
      tracer = null;
      if (!b || b.exitCode !== null) return;
      const exited = new Promise((r) => b.once('exit', r));
      b.kill('SIGTERM'); // mosquitto writes its persistence file as it stops
      await exited;
    },
    retained(withExpiry = false) {
      // Each line: topic, then (withExpiry) the message expiry interval left, then the payload.
      const r = spawnSync('ip', ['netns', 'exec', lab.server.ns, 'mosquitto_sub', '-h', hubs[0], '-p', String(MQTT_PORT), '-V', 'mqttv5', '-t', `${PREFIX}/#`, '-F', withExpiry ? '%t %E %p' : '%t %p', '-W', '2', '--retained-only'], { encoding: 'utf8', timeout: 10000 });
      const out = new Map<string, string>();
      for (const line of (r.stdout ?? '').split('\n').filter(Boolean)) {
        const sp = line.indexOf(' ');
        out.set(sp < 0 ? line : line.slice(0, sp), sp < 0 ? '' : line.slice(sp + 1));
      }
      return out;
    },
    async remove() {
      for (const a of agents) a.stdin?.end();
      await Promise.all(agents.map((a) => (a.exitCode === null ? Promise.race([new Promise((r) => a.once('exit', r)), new Promise((r) => setTimeout(r, 15000))]) : null)));
      await fleet.brokerStop().catch(() => undefined);
      lab.remove();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };

  try {
    await fleet.brokerStart();
    const names = ['hostA', 'hostB', 'hostC'];
    const nets = [lab.client, ...lab.others];
    for (let i = 0; i < 3; i++) {
      const net = nets[i];
      const userDir = mkdtempSync(join(tmpdir(), `f2b-fleet-${names[i]}-`));
      dirs.push(userDir);
      const logPath = join(userDir, 'auth.log');
      writeFileSync(logPath, '');
      installPackage(userDir);
      writeSettings(userDir, NODE_RED_PORT, 'mqttReconnectTime: 500');
      writeFileSync(join(userDir, 'flows.json'), JSON.stringify(fleetFlow(names[i], net.peer, logPath, options)));
      const agent = spawn('ip', ['netns', 'exec', net.ns, process.execPath, join(__dirname, '..', 'e2e', 'fleet-host-in-netns.js'), userDir, String(NODE_RED_PORT)], { stdio: ['pipe', 'pipe', 'inherit'] });
      agents.push(agent);
      const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
      let next = 1;
      const host: FleetHost = {
        name: names[i],
        net,
        broker: net.peer,
        userDir,
        logPath,
        ask(op, extra = {}, ms = 60000) {
          const id = next++;
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${names[i]}: no answer to ${op} in ${ms} ms`)), ms);
            pending.set(id, {
              resolve: (v) => {
                clearTimeout(timer);
                resolve(v);
              },
              reject: (e) => {
                clearTimeout(timer);
                reject(e);
              },
            });
            agent.stdin!.write(`${JSON.stringify({ id, op, ...extra })}\n`);
          });
        },
        async get(path) {
          const r = await host.ask('http', { path });
          if (r.status !== 200) throw new Error(`${names[i]}: GET ${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
          return r.json;
        },
        async elements() {
          return (await host.ask('elements', { set: SET })).elements as string[];
        },
        fail(ip, n = 3) {
          let text = '';
          for (let k = 0; k < n; k++) text += `${syslogDate()} ${names[i]} sshd[${4000 + k}]: Failed password for root from ${ip} port ${50000 + k} ssh2\n`;
          appendFileSync(logPath, text);
        },
      };
      createInterface({ input: agent.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as Record<string, unknown>;
        if (m.event === 'element') return host.onElement?.(String(m.ip), Number(m.at));
        const p = pending.get(Number(m.id));
        if (!p) return;
        pending.delete(Number(m.id));
        if (m.ok) p.resolve(m);
        else p.reject(new Error(`${names[i]}: ${String(m.error)}`));
      });
      fleet.hosts.push(host);
    }
    await Promise.all(fleet.hosts.map((h) => h.ask('start')));
    // Connected: the broker holds a connection from each of them.
    await waitFor(() => connectedClients(lab, hubs[0]) >= 3, 'three Node-RED hosts connected to the broker', 20000, 200);
  } catch (err) {
    await fleet.remove();
    throw err;
  }
  return fleet;
}

/** How many of the fleet's Node-RED clients hold a connection to the broker (ss inside its namespace). */
function connectedClients(lab: Lab, _hub: string): number {
  const r = spawnSync('ip', ['netns', 'exec', lab.server.ns, 'ss', '-Htn', 'state', 'established', `sport = :${MQTT_PORT}`], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter(Boolean).length;
}
