/**
 * One host of the fleet test (see test/support/fleet.ts), run inside its network namespace: it starts and
 * stops that host's Node-RED, asks its admin API on loopback, reads and watches its nftables set, and
 * publishes to the broker as a hostile host would. Orders come as JSON lines on stdin, answers go to stdout;
 * the test never addresses a namespace itself.
 * Usage: node fleet-host-in-netns.js USERDIR PORT
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createBackend, elementsOf } from '../../lib/firewall';
import { parseAddressOrPrefix, type Address } from '../../lib/ip';
import { addedElements } from '../support/arrivals';
import { spawnNodeRed, stopAndWait, type NodeRedProcess } from '../support/process';

const [userDir, port] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
let red: NodeRedProcess | null = null;
let monitor: ChildProcess | null = null;

/** The subset of mqtt.js (a dependency of Node-RED) used to publish as a hostile host. */
interface MqttClient {
  on(event: 'connect' | 'error', cb: (err?: Error) => void): void;
  publish(topic: string, payload: string, opts: Record<string, unknown>, cb: (err?: Error) => void): void;
  end(force: boolean, opts: object, cb: () => void): void;
}
const mqtt = require('mqtt') as { connect(url: string, opts: Record<string, unknown>): MqttClient };

const reply = (id: number, body: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
};
const now = () => performance.timeOrigin + performance.now();

/** The addresses and prefixes banned in the jail's sets (addresses, IPv6 addresses, prefixes of each family). */
function elements(set: string): string[] {
  return [set, `${set}-v6`, `${set}-net`, `${set}-net6`].flatMap((s) => {
    const r = spawnSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', s], { encoding: 'utf8' });
    return r.status === 0 ? elementsOf(r.stdout) : [];
  });
}

/** Reports each element added to `set` as {event: 'element', ip, at} (epoch ms, high resolution). */
function watch(set: string): void {
  monitor = spawn('nft', ['-j', 'monitor', 'new', 'elements'], { stdio: ['ignore', 'pipe', 'ignore'] });
  createInterface({ input: monitor.stdout! }).on('line', (line) => {
    const at = now();
    for (const ip of addedElements(line, 'fail2ban', (name) => name === set)) process.stdout.write(`${JSON.stringify({ event: 'element', ip, at })}\n`);
  });
}

async function publish(url: string, messages: Array<{ topic: string; payload: string; retain?: boolean; expiry?: number }>, qos: number): Promise<number> {
  const client = mqtt.connect(url, { protocolVersion: 5, clientId: `hostile-${process.pid}`, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.on('connect', () => resolve());
    client.on('error', (err) => reject(err));
  });
  const start = now();
  await Promise.all(
    messages.map(
      (m) =>
        new Promise<void>((resolve, reject) =>
          client.publish(m.topic, m.payload, { qos, retain: m.retain ?? true, properties: m.expiry ? { messageExpiryInterval: m.expiry } : {} }, (err) => (err ? reject(err) : resolve())),
        ),
    ),
  );
  const took = now() - start;
  await new Promise<void>((r) => client.end(false, {}, () => r()));
  return took;
}

async function handle(order: { id: number; op: string; [k: string]: unknown }): Promise<void> {
  const { id } = order;
  try {
    switch (order.op) {
      case 'start':
        red = await spawnNodeRed(userDir, base);
        return reply(id, { ok: true });
      case 'stop':
        if (red) await stopAndWait(red.child);
        red = null;
        return reply(id, { ok: true });
      case 'output':
        return reply(id, { ok: true, output: red?.output() ?? '' });
      case 'http': {
        const res = await fetch(`${base}${String(order.path)}`, {
          method: String(order.method ?? 'GET'),
          headers: { 'Content-Type': 'application/json' },
          body: order.body === undefined ? undefined : JSON.stringify(order.body),
        });
        const text = await res.text();
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        return reply(id, { ok: true, status: res.status, json });
      }
      case 'elements':
        return reply(id, { ok: true, elements: elements(String(order.set)) });
      case 'watch':
        watch(String(order.set));
        return reply(id, { ok: true });
      case 'action': {
        // A fail2ban host: the action file run by the fail2ban-action backend, as fail2ban runs it (/bin/sh).
        const backend = createBackend('fail2ban-action', { setName: 'unused', table: 'unused', ports: [], protocol: 'tcp', jail: String(order.jail), actionFile: String(order.file), actionOptions: String(order.options ?? '') });
        await backend.start();
        const ip = parseAddressOrPrefix(order.ip) as Address;
        if (order.action === 'ban') await backend.ban([{ ip, seconds: Number(order.bantime) }]);
        else await backend.unban([ip]);
        return reply(id, { ok: true });
      }
      case 'publish':
        return reply(id, { ok: true, took: await publish(String(order.url), order.messages as [], Number(order.qos ?? 1)) });
      default:
        return reply(id, { ok: false, error: `unknown order ${order.op}` });
    }
  } catch (err) {
    reply(id, { ok: false, error: String((err as Error).stack ?? err) });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => void handle(JSON.parse(line)));
process.stdin.on('end', () => {
  monitor?.kill();
  const done = () => process.exit(0);
  if (red) stopAndWait(red.child).then(done, done);
  else done();
});
