/**
 * Runs inside the server namespace as an unprivileged user (see unprivileged.test.ts): the nftables,
 * iptables-ipset and iptables backends, driven by the ban manager, ban, list, lift and clean up with
 * whatever capabilities this process has. Prints one line per backend, "BACKEND ok" or "BACKEND: error".
 * Usage: node unprivileged-in-netns.js CLIENT4 CLIENT6
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BanManager, createBackend } from '../../lib/firewall';
import { Ledger } from '../../lib/ledger';

const [client4, client6] = process.argv.slice(2);
const SETUPS: Array<[string, Record<string, string>]> = [
  ['nftables', { hook: 'input forward' }],
  ['iptables-ipset', { chain: 'FORWARD' }],
  ['iptables', { chain: 'INPUT' }],
];

async function one(name: string, extra: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'f2b-unpriv-'));
  const backend = createBackend(name, { setName: 'f2b-cap', table: 'fail2ban', ports: ['22', '8080'], protocol: 'tcp', jail: 'cap', ...extra });
  const manager = new BanManager({ backend, ledger: new Ledger(join(dir, 'bans.json')), jail: 'cap', defaultBantime: 600, reconcile: 0 });
  try {
    await manager.start();
    await manager.ban({ ip: client4 });
    await manager.ban({ ip: client6 });
    const held = (await backend.list()).sort().join(' ');
    if (held !== [client4, client6].sort().join(' ')) throw new Error(`the firewall holds "${held}"`);
    await manager.unban(client4);
    if ((await backend.list()).join(' ') !== client6) throw new Error('the unban did not lift the ban');
    await manager.stop(true);
    process.stdout.write(`${name} ok\n`);
  } finally {
    await manager.stop(true).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const [name, extra] of SETUPS) {
    await one(name, extra).catch((err: Error) => process.stdout.write(`${name}: ${err.message.split('\n')[0]}\n`));
  }
}

main().then(() => process.exit(0));
