/** A real Node-RED runtime embedded in a bench's own process, with this package installed in a fresh user directory. */
import { mkdtempSync, rmSync } from 'fs';
import { createServer } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { installPackage } from '../test/support/process';

/** The parts of Node-RED's API the benches use. */
export interface Red {
  init(server: unknown, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): { receive(msg: unknown): void } | null };
  hooks: { add(name: string, fn: (event: { node?: { id: string }; source?: { id: string } }) => void): void };
  runtime: { flows: { setFlows(opts: unknown): Promise<unknown> } };
}

export interface EmbeddedRed {
  RED: Red;
  /** Stops the runtime and removes the user directory. */
  stop(): Promise<void>;
}

/** Starts Node-RED with no HTTP admin or node routes; `root` is the package checkout to install (this one by default). */
export async function startEmbeddedRed(tag: string, root?: string): Promise<EmbeddedRed> {
  const userDir = mkdtempSync(join(tmpdir(), `f2b-${tag}-`));
  installPackage(userDir, root);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const RED = require('node-red') as Red;
  const server = createServer();
  RED.init(server, { userDir, httpAdminRoot: false, httpNodeRoot: false, flowFile: 'flows.json', credentialSecret: 'bench', logging: { console: { level: 'error' } } });
  const stop = async () => {
    await RED.stop();
    server.close();
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    await RED.start();
  } catch (err) {
    server.close();
    rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
  return { RED, stop };
}
