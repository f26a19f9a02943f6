/** A real Node-RED runtime (through node-red-node-test-helper) with this package's nodes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import type { NodeMessage } from '../../nodes/node-red';
import { resolveNodeRed } from './process';

helper.init(resolveNodeRed('node-red'));

const dist = join(__dirname, '..', '..', 'nodes');
const core = join(resolveNodeRed('@node-red/nodes/package.json'), '..', 'core', 'common');

/** Node modules as Node-RED loads them: ours from dist/, plus catch, status and debug from core. */
export const NODES = [
  ...['log-tail', 'failregex-match', 'threshold-window', 'firewall-ban', 'mail-notify', 'mail-server', 'ban-share', 'crowdsec-lapi', 'crowdsec-decisions', 'crowdsec-alert'].map((n) => require(join(dist, n, `${n}.js`))),
  require(join(core, '25-catch.js')),
  require(join(core, '25-status.js')),
];

export { helper };
export { syslogDate, waitFor } from './process';

export interface Runtime {
  userDir: string;
  close(): Promise<void>;
}

/** Starts the helper's server with a fresh user directory; close() unloads flows and removes it. */
export async function startRuntime(): Promise<Runtime> {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-red-'));
  helper.settings({ userDir, logging: { console: { level: 'off', metrics: false, audit: false } } });
  await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  return {
    userDir,
    async close() {
      await helper.unload();
      await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** The messages that reach the helper node `id` from now on: an array that fills as they come. */
export function received(id: string): NodeMessage[] {
  const list: NodeMessage[] = [];
  helper.getNode(id).on('input', (m: NodeMessage) => list.push(m));
  return list;
}

/**
 * Puts flow nodes on one tab with a position, as the editor does: Catch and Status nodes work per tab,
 * and a node without x/y would be taken for a config node. Config nodes (`config: true`) stay global.
 */
export interface FlowNode {
  id: string;
  type: string;
  config?: boolean;
  [property: string]: unknown;
}

export function onTab(nodes: FlowNode[]): Parameters<typeof helper.load>[1] {
  return [
    { id: 'tab1', type: 'tab', label: 'test' },
    ...nodes.map((n, i) => {
      const { config, ...rest } = n;
      return config ? rest : { z: 'tab1', x: 100, y: 40 * (i + 1), ...rest };
    }),
  ] as Parameters<typeof helper.load>[1];
}
