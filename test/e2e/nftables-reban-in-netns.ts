/**
 * Runs inside a namespace (see nftables-reban.test.ts): the nftables backend bans new addresses with
 * one nft run and no listing of the sets, and a new ban of an address already held replaces its
 * timeout, whatever the kernel does with a plain add (kernels before 6.10 keep the old timeout):
 * longer, shorter, for ever and back, in a batch that names an address twice or mixes held and new
 * addresses, for prefixes and for IPv6.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NftablesBackend } from '../../lib/firewall';
import { run } from '../../lib/firewall/run';
import { parseAddressOrPrefix } from '../../lib/ip';

const calls: string[][] = [];
const backend = new NftablesBackend({
  setName: 'f2b-rb',
  table: 'fail2ban',
  ports: [],
  protocol: 'tcp',
  runner: (file, args, input, timeoutMs) => {
    calls.push(args);
    return run(file, args, input, timeoutMs);
  },
});

/** Each element of a set and its timeout in seconds (null: no timeout, banned for ever). */
function timeouts(set: string): Map<string, number | null> {
  const doc = JSON.parse(execFileSync('nft', ['-j', 'list', 'set', 'inet', 'fail2ban', set], { encoding: 'utf8' }));
  const out = new Map<string, number | null>();
  type Val = string | { prefix: { addr: string; len: number } };
  const text = (v: Val) => (typeof v === 'string' ? v : `${v.prefix.addr}/${v.prefix.len}`);
  for (const e of doc.nftables.find((i: { set?: unknown }) => i.set).set.elem ?? []) {
    if (typeof e === 'string' || e.prefix) out.set(text(e), null);
    else out.set(text(e.elem.val), e.elem.timeout ?? null);
  }
  return out;
}

const ban = (entries: Array<[string, number]>) => backend.ban(entries.map(([ip, seconds]) => ({ ip: parseAddressOrPrefix(ip)!, seconds })));

async function main(): Promise<void> {
  await backend.start();

  calls.length = 0;
  await ban([['192.0.2.1', 600]]);
  assert.deepEqual(calls, [['-f', '-']], 'a ban of a new address is one nft run, without listing the sets first');
  assert.equal(timeouts('f2b-rb').get('192.0.2.1'), 600);

  calls.length = 0;
  await ban([['192.0.2.1', 3000]]);
  assert.equal(timeouts('f2b-rb').get('192.0.2.1'), 3000, 'banned again for longer: the new timeout');
  assert.equal(calls.length, 2, 'an address held already takes a second transaction');
  await ban([['192.0.2.1', 60]]);
  assert.equal(timeouts('f2b-rb').get('192.0.2.1'), 60, 'banned again for less: the new timeout');
  await ban([['192.0.2.1', -1]]);
  assert.equal(timeouts('f2b-rb').get('192.0.2.1'), null, 'banned again for ever: no timeout');
  await ban([['192.0.2.1', 120]]);
  assert.equal(timeouts('f2b-rb').get('192.0.2.1'), 120, 'from for ever back to a timeout');

  // One batch naming an address twice (two bans that arrived together): the last one counts.
  calls.length = 0;
  await ban([['192.0.2.2', 100], ['192.0.2.3', -1], ['192.0.2.2', 200], ['198.51.100.0/24', 300], ['2001:db8::7', 400]]);
  assert.equal(calls.length, 1, 'the batch is one nft run');
  const v4 = timeouts('f2b-rb');
  assert.equal(v4.get('192.0.2.2'), 200);
  assert.equal(v4.get('192.0.2.3'), null);
  assert.equal(v4.get('192.0.2.1'), 120, 'the others are untouched');
  assert.equal(timeouts('f2b-rb-net').get('198.51.100.0/24'), 300);
  assert.equal(timeouts('f2b-rb-v6').get('2001:db8::7'), 400);

  // Held and new addresses in one batch: the new ones go in too.
  await ban([['192.0.2.2', 250], ['192.0.2.9', 90]]);
  assert.equal(timeouts('f2b-rb').get('192.0.2.2'), 250);
  assert.equal(timeouts('f2b-rb').get('192.0.2.9'), 90);

  await ban([['198.51.100.0/24', 900], ['2001:db8::7', 800]]);
  assert.equal(timeouts('f2b-rb-net').get('198.51.100.0/24'), 900, 'a prefix banned again: the new timeout');
  assert.equal(timeouts('f2b-rb-v6').get('2001:db8::7'), 800, 'IPv6 banned again: the new timeout');
  assert.deepEqual((await backend.list()).sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.9', '198.51.100.0/24', '2001:db8::7'].sort());

  // With its sets gone (a flushed ruleset) a ban fails, so that the manager makes them again.
  execFileSync('nft', ['flush', 'ruleset']);
  await assert.rejects(ban([['192.0.2.4', 60]]));
  await backend.start();
  await ban([['192.0.2.4', 60]]);
  assert.deepEqual(await backend.list(), ['192.0.2.4']);
  process.stdout.write('nftables re-ban: all checks passed\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
