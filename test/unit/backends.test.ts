/**
 * Backends whose tools cannot run here (ufw, firewalld and shorewall need their daemons and their own
 * configuration, which would change this machine's firewall): the exact argument lists they are given,
 * recorded by a runner that answers as the tool does. hostsdeny is checked with the real tcpdmatch, the
 * command and fail2ban-action backends with real processes where they run, and their refusals.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBackend, FirewallError, type BackendOptions, type BanRequest } from '../../lib/firewall';
import { fillDynamic, loadAction } from '../../lib/firewall/action';
import { splitArguments } from '../../lib/firewall/command';
import { CommandFailedError, type Runner } from '../../lib/firewall/run';
import { parseAddressOrPrefix } from '../../lib/ip';

const dir = mkdtempSync(join(tmpdir(), 'f2b-backends-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ip = (text: string) => parseAddressOrPrefix(text)!;
const req = (text: string, seconds = 600): BanRequest => ({ ip: ip(text), seconds });

/** A runner that records every call and answers from `answer` (a string is stdout; null is exit 1). */
function recorder(answer: (argv: string[]) => string | null = () => '') {
  const calls: string[][] = [];
  const runner: Runner = async (file, args, input) => {
    const argv = [file, ...args];
    calls.push(input === undefined ? argv : [...argv, `<<${input}`]);
    const out = answer(argv);
    if (out === null) throw new CommandFailedError(`${file} failed`, 1, '');
    return { stdout: out, stderr: '' };
  };
  return { calls, runner };
}

const base = (runner: Runner, extra: Partial<BackendOptions> = {}): BackendOptions => ({ setName: 'f2b-sshd', table: 'fail2ban', ports: ['22'], protocol: 'tcp', jail: 'sshd', runner, ...extra });

test('ufw: refuses an inactive ufw; prepends one deny rule per ban with its comment, deletes it, lists from "ufw show added"', async () => {
  let added = '';
  const { calls, runner } = recorder((argv) => {
    if (argv[1] === 'status') return 'Status: active\n';
    if (argv[1] === 'show') return added;
    return '';
  });
  const inactive = createBackend('ufw', base(recorder(() => 'Status: inactive\n').runner));
  await assert.rejects(inactive.start(), /ufw is inactive.*ufw enable/);
  const ufw = createBackend('ufw', base(runner));
  await ufw.start();
  await ufw.ban([req('192.0.2.1'), req('2001:db8::1')]);
  assert.deepEqual(calls.filter((c) => c[1] === 'prepend'), [
    ['ufw', 'prepend', 'deny', 'from', '192.0.2.1', 'to', 'any', 'port', '22', 'proto', 'tcp', 'comment', 'f2b-sshd'],
    ['ufw', 'prepend', 'deny', 'from', '2001:db8::1', 'to', 'any', 'port', '22', 'proto', 'tcp', 'comment', 'f2b-sshd'],
  ]);
  added = `Added user rules (see 'ufw status' for running firewall):\nufw allow 22/tcp\nufw deny from 192.0.2.1 to any port 22 proto tcp comment 'f2b-sshd'\nufw deny from 2001:db8::1 to any port 22 proto tcp comment 'f2b-sshd'\nufw deny from 203.0.113.1 comment 'other'\n`;
  assert.deepEqual(await ufw.list(), ['192.0.2.1', '2001:db8::1'], 'only our rules count');
  calls.length = 0;
  await ufw.ban([req('192.0.2.1')]);
  assert.equal(calls.filter((c) => c[1] === 'prepend').length, 0, 'a held address gets no second rule');
  await ufw.unban([ip('192.0.2.1')]);
  assert.deepEqual(calls.at(-1), ['ufw', 'delete', 'deny', 'from', '192.0.2.1', 'to', 'any', 'port', '22', 'proto', 'tcp']);
  const all = createBackend('ufw', base(runner, { ports: [], protocol: 'all' }));
  await all.ban([req('198.51.100.0/24')]);
  assert.deepEqual(calls.at(-1), ['ufw', 'prepend', 'deny', 'from', '198.51.100.0/24', 'to', 'any', 'comment', 'f2b-sshd']);
  assert.throws(() => createBackend('ufw', base(runner, { ports: ['22', '80'], protocol: 'all' })), /ufw needs protocol tcp or udp/);
});

test('firewalld: one firewall-cmd call adds many rich rules with a timeout; a ban again replaces its timeout; lists drop rules', async () => {
  let rules = '';
  const { calls, runner } = recorder((argv) => (argv[1] === '--state' ? 'running\n' : argv[1] === '--list-rich-rules' ? rules : ''));
  await assert.rejects(createBackend('firewalld', base(recorder(() => null).runner)).start(), /firewalld is not running/);
  const fw = createBackend('firewalld', base(runner, { ports: ['22', '1000-2000'] }));
  await fw.start();
  await fw.ban([req('192.0.2.1'), req('2001:db8::1')]);
  assert.deepEqual(calls.at(-1), [
    'firewall-cmd',
    '--add-rich-rule=rule family="ipv4" source address="192.0.2.1" port port="22" protocol="tcp" drop',
    '--add-rich-rule=rule family="ipv4" source address="192.0.2.1" port port="1000-2000" protocol="tcp" drop',
    '--add-rich-rule=rule family="ipv6" source address="2001:db8::1" port port="22" protocol="tcp" drop',
    '--add-rich-rule=rule family="ipv6" source address="2001:db8::1" port port="1000-2000" protocol="tcp" drop',
    '--timeout=600s',
  ]);
  rules = 'rule family="ipv4" source address="192.0.2.1" port port="22" protocol="tcp" drop\nrule family="ipv4" source address="203.0.113.9" accept\n';
  assert.deepEqual(await fw.list(), ['192.0.2.1']);
  calls.length = 0;
  await fw.ban([{ ip: ip('192.0.2.1'), seconds: -1 }]);
  assert.deepEqual(calls.slice(1).map((c) => c.slice(1).map((a) => a.split('=')[0])), [['--remove-rich-rule', '--remove-rich-rule'], ['--add-rich-rule', '--add-rich-rule']], 'removed, then added for ever (no --timeout)');
  await fw.unban([ip('192.0.2.1'), ip('198.51.100.1')]);
  assert.deepEqual(calls.at(-1)!.length, 3, 'only the held address is removed');
});

test('shorewall: "shorewall drop" / "allow" with many addresses, shorewall6 for IPv6, the dynamic chain listed', async () => {
  let dynamic = '';
  const { calls, runner } = recorder((argv) => (argv[1] === 'show' && argv[0] === 'shorewall' ? dynamic : ''));
  const sw = createBackend('shorewall', base(runner));
  await sw.start();
  assert.deepEqual(calls.at(-1), ['shorewall', 'status']);
  await assert.rejects(createBackend('shorewall', base(recorder(() => null).runner)).start(), /shorewall is not running/);
  await sw.ban([req('192.0.2.1'), req('198.51.100.0/24'), req('2001:db8::1')]);
  assert.deepEqual(calls.slice(-2), [
    ['shorewall', 'drop', '192.0.2.1', '198.51.100.0/24'],
    ['shorewall6', 'drop', '2001:db8::1'],
  ]);
  dynamic = 'Chain dynamic (4 references)\n pkts bytes target     prot opt in     out     source               destination\n    0     0 DROP       0    --  *      *       192.0.2.1            0.0.0.0/0\n    3   180 DROP       0    --  *      *       198.51.100.0/24      0.0.0.0/0\n';
  assert.deepEqual(await sw.list(), ['192.0.2.1', '198.51.100.0/24']);
  await sw.unban([ip('192.0.2.1'), ip('203.0.113.1')]);
  assert.deepEqual(calls.at(-1), ['shorewall', 'allow', '192.0.2.1']);
});

test('hostsdeny: its own block in the file, which tcpdmatch reads as denied; other lines stay; stop removes the block', async () => {
  const file = join(dir, 'hosts.deny');
  writeFileSync(file, '# the admin\'s own\nsshd: 203.0.113.66\n');
  writeFileSync(join(dir, 'hosts.allow'), '');
  const hd = createBackend('hostsdeny', base(recorder().runner, { hostsFile: file }));
  await hd.start();
  await hd.ban([req('192.0.2.1'), req('2001:db8::1'), req('198.51.100.0/24'), req('2001:db8:1::/64')]);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^# the admin's own\nsshd: 203\.0\.113\.66\n# node-red-contrib-fail2ban f2b-sshd: begin/);
  assert.match(text, /ALL: 192\.0\.2\.1\nALL: \[2001:db8::1\]\nALL: 198\.51\.100\.0\/255\.255\.255\.0\nALL: \[2001:db8:1::\]\/64\n/);
  assert.deepEqual((await hd.list()).sort(), ['192.0.2.1', '198.51.100.0/24', '2001:db8:1::/64', '2001:db8::1']);
  if (spawnSync('tcpdmatch', ['-d', 'sshd', '127.0.0.1'], { cwd: dir }).error === undefined) {
    const access = (a: string) => /access:\s+(\w+)/.exec(spawnSync('tcpdmatch', ['-d', 'sshd', a], { cwd: dir, encoding: 'utf8' }).stdout)?.[1];
    for (const a of ['192.0.2.1', '198.51.100.7', '2001:db8::1', '2001:db8:1::5']) assert.equal(access(a), 'denied', `tcpdmatch: ${a}`);
    assert.equal(access('192.0.2.2'), 'granted');
  }
  await hd.unban([ip('192.0.2.1')]);
  assert.ok(!(await hd.check(ip('192.0.2.1'))));
  await hd.stop(true);
  assert.equal(readFileSync(file, 'utf8'), '# the admin\'s own\nsshd: 203.0.113.66\n');
  await assert.rejects(createBackend('hostsdeny', base(recorder().runner, { hostsFile: '/nonexistent-dir/hosts.deny' })).start(), /hosts\.deny/);
});

test('command: templates split into arguments once, tags filled with checked values, no shell; bad templates refused', async () => {
  assert.deepEqual(splitArguments(`/bin/x -m "a b" 'c "d"' e\\ f <ip>`, 't'), ['/bin/x', '-m', 'a b', 'c "d"', 'e f', '<ip>']);
  assert.throws(() => splitArguments('x "open', 't'), /quote is not closed/);
  const { calls, runner } = recorder((argv) => (argv[0] === 'is-blocked' && argv[1] !== '192.0.2.1' ? null : ''));
  const opts = base(runner, { banCommand: 'block --for <bantime> "<name> set" <ip>', unbanCommand: 'unblock <ip>', checkCommand: 'is-blocked <ip> <family>' });
  const cmd = createBackend('command', opts);
  await cmd.ban([req('192.0.2.1', 3600), req('2001:db8::1', -1)]);
  assert.deepEqual(calls, [
    ['block', '--for', '3600', 'f2b-sshd set', '192.0.2.1'],
    ['block', '--for', '-1', 'f2b-sshd set', '2001:db8::1'],
  ]);
  assert.deepEqual(await cmd.list(), ['192.0.2.1'], 'the check command says which bans hold');
  await cmd.unban([ip('192.0.2.1')]);
  assert.deepEqual(calls.at(-1), ['unblock', '192.0.2.1']);
  assert.throws(() => createBackend('command', { ...opts, banCommand: 'block <host>' }), /unknown tag <host>/);
  assert.throws(() => createBackend('command', { ...opts, banCommand: '<ip> x' }), /must be a fixed path/);
  // A real process: a command that writes the address through its argument list.
  const out = join(dir, 'banned.txt');
  const real = createBackend('command', { ...base(undefined as unknown as Runner), runner: undefined, banCommand: `${process.execPath} -e "require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + process.argv[3])" ${out} <ip> <family>`, unbanCommand: 'true <ip>' });
  await real.ban([req('192.0.2.7')]);
  assert.equal(readFileSync(out, 'utf8'), '192.0.2.7 inet4');
});

test('fail2ban-action: the file resolved as fail2ban does, only checked values filled in, log-text tags refused', async () => {
  writeFileSync(join(dir, 'common.conf'), '[Definition]\ncmd = /usr/sbin/fw\n[Init]\nblocktype = DROP\n');
  writeFileSync(
    join(dir, 'act.conf'),
    `[INCLUDES]\nbefore = common.conf\n[Definition]\nactionstart = <cmd> create <name>\nactionstop = <cmd> destroy <name>\nactioncheck =\nactionban = <cmd> add <name> <ip> <blocktype> %(extra)s <bantime> <failures>\nactionunban = <cmd> del <name> <ip>\nextra = --port <port>\n[Init]\nname = default\nport = 1:65535\n[Init?family=inet6]\ncmd = /usr/sbin/fw6\n`,
  );
  const { calls, runner } = recorder();
  const act = createBackend('fail2ban-action', base(runner, { actionFile: join(dir, 'act.conf'), actionOptions: 'blocktype=REJECT' }));
  await act.start();
  await act.ban([{ ...req('192.0.2.1', 600), failures: 5 }, req('2001:db8::1', -1)]);
  await act.unban([ip('192.0.2.1')]);
  // The file has an IPv6 section: each family starts at its first ban, as in fail2ban.
  assert.deepEqual(calls.map((c) => c[2]), [
    '/usr/sbin/fw create sshd',
    '/usr/sbin/fw add sshd 192.0.2.1 REJECT --port 22 600 5',
    '/usr/sbin/fw6 create sshd',
    '/usr/sbin/fw6 add sshd 2001:db8::1 REJECT --port 22 -1 0',
    '/usr/sbin/fw del sshd 192.0.2.1',
  ]);
  assert.ok(calls.every((c) => c[0] === '/bin/sh' && c[1] === '-c'));
  await act.stop(false);
  assert.deepEqual(calls.slice(-2).map((c) => c[2]), ['/usr/sbin/fw destroy sshd', '/usr/sbin/fw6 destroy sshd']);

  writeFileSync(join(dir, 'pct.conf'), '[Definition]\nactionban = printf %%s <ip-rev> > /run/<actname>\n');
  const pct = loadAction(join(dir, 'pct.conf'), '', new Map([['actname', 'pct']])).forFamily('inet4').actionban;
  assert.equal(fillDynamic(pct, ip('192.0.2.1')), 'printf %s 1.2.0.192. > /run/pct', '%% is a percent sign; <ip-rev> the reverse DNS form');
  writeFileSync(join(dir, 'bad.conf'), '[Definition]\nactionban = echo <ip> <matches> >> /tmp/x\n');
  assert.throws(() => loadAction(join(dir, 'bad.conf'), '', new Map()), /<matches>, which firewall-ban does not fill: it carries text from logs/);
  writeFileSync(join(dir, 'typo.conf'), '[Definition]\nactionban = fw add <chian> <ip>\n');
  assert.match(loadAction(join(dir, 'typo.conf'), '', new Map()).warnings.join(), /<chian>, which is not defined and stays as it is/);
  assert.throws(() => createBackend('fail2ban-action', base(runner, { actionFile: join(dir, 'missing.conf') })), /missing\.conf.*not found/);
  assert.throws(() => fillDynamic('x <ip>', { text: '1.2.3.4;reboot', family: 4, prefix: 32, isPrefix: false }), FirewallError);
});

test('a missing tool is named with the package to install', async () => {
  const { IptablesBackend, IpsetBackend, RouteBackend } = await import('../../lib/firewall');
  const opts: BackendOptions = { setName: 'f2b-sshd', table: 'fail2ban', ports: [], protocol: 'tcp' };
  const none = { iptables: '/nonexistent/iptables', restore: '/nonexistent/iptables-restore' };
  await assert.rejects(new IptablesBackend(opts, { 4: none, 6: none }).start(), /iptables not found: install iptables \(apt-get install iptables\) or choose another backend/);
  await assert.rejects(new IpsetBackend(opts, { 4: none, 6: none }, '/nonexistent/ipset').start(), /ipset not found: install ipset \(apt-get install ipset\)/);
  await assert.rejects(new RouteBackend(opts, '/nonexistent/ip').start(), /ip not found: install iproute2/);
  const { killConnections } = await import('../../lib/firewall');
  const missing: Runner = async (file) => {
    throw new FirewallError(`${file} not found: install it`);
  };
  await assert.rejects(killConnections([ip('192.0.2.1')], missing), /killConnections: conntrack not found.*ss not found/);
});

test('iptables and ipset on a kernel without IPv6: IPv4 bans work, IPv6 bans are refused with the reason', async () => {
  const noV6 = "ip6tables v1.8.9 (nf_tables): can't initialize ip6tables table `filter': Address family not supported by protocol";
  for (const name of ['iptables', 'iptables-ipset']) {
    const { calls, runner } = recorder((argv) => {
      if (argv[0].startsWith('ip6tables')) throw new CommandFailedError(noV6, 3, noV6);
      if (argv[0] === 'iptables' && argv[2] === '-S') return '-N f2b-sshd\n';
      return '';
    });
    const backend = createBackend(name, base(runner));
    await backend.start();
    await backend.ban([req('192.0.2.1')]);
    assert.ok(calls.some((c) => c.join(' ').includes('192.0.2.1')), `${name}: the IPv4 ban went in`);
    await assert.rejects(backend.ban([req('2001:db8::1')]), /IPv6 bans cannot be made here: .*Address family not supported/);
    await backend.list();
  }
});

test('nftables hook: input keeps the chain setName, forward makes setName-fwd matching the original destination port, both make both; a bad hook is refused', async () => {
  const script = async (hook: string | undefined, ports = ['8080', '1000-2000']) => {
    const { calls, runner } = recorder((argv) => (argv.includes('sets') ? null : ''));
    await createBackend('nftables', base(runner, { hook, ports })).start();
    return calls.map((c) => c[c.length - 1]).find((c) => c.startsWith('<<add table'))!;
  };
  const input = await script(undefined);
  assert.match(input, /add chain inet fail2ban f2b-sshd \{ type filter hook input priority -1; policy accept; \}/);
  assert.match(input, /add rule inet fail2ban f2b-sshd ip saddr @f2b-sshd tcp dport \{ 8080, 1000-2000 \} drop/);
  assert.match(input, /add chain inet fail2ban f2b-sshd-fwd\nflush chain inet fail2ban f2b-sshd-fwd\ndelete chain inet fail2ban f2b-sshd-fwd/, 'a forward chain from an earlier setting goes');
  const forward = await script('forward');
  assert.match(forward, /add chain inet fail2ban f2b-sshd-fwd \{ type filter hook forward priority -1; policy accept; \}/);
  // One rule per port: a set of ports after ct original proto-dst lists as "[invalid type]", which nft cannot read back.
  assert.match(forward, /add rule inet fail2ban f2b-sshd-fwd ip saddr @f2b-sshd meta l4proto tcp ct original proto-dst 8080 drop/);
  assert.match(forward, /add rule inet fail2ban f2b-sshd-fwd ip saddr @f2b-sshd meta l4proto tcp ct original proto-dst 1000-2000 drop/);
  assert.match(forward, /add rule inet fail2ban f2b-sshd-fwd ip6 saddr @f2b-sshd-net6 meta l4proto tcp ct original proto-dst 8080 drop/);
  assert.equal((forward.match(/add rule/g) ?? []).length, 8, 'four rules (two families, addresses and prefixes) per port');
  assert.match(forward, /delete chain inet fail2ban f2b-sshd\n/, 'the input chain from an earlier setting goes');
  assert.doesNotMatch(forward, /hook input/);
  const both = await script('input forward');
  assert.match(both, /hook input priority -1/);
  assert.match(both, /hook forward priority -1/);
  assert.doesNotMatch(both, /delete chain/);
  assert.equal((both.match(/add rule/g) ?? []).length, 12, 'four rules (two families, addresses and prefixes) in input, eight (two ports) in forward');
  assert.match(await script('forward', []), /add rule inet fail2ban f2b-sshd-fwd ip saddr @f2b-sshd meta l4proto tcp drop/, 'no ports: every port');
  assert.throws(() => createBackend('nftables', base(recorder().runner, { hook: 'output' })), /hook "output": use input, forward/);
});

test('iptables chain DOCKER-USER: the jump goes to its top, ports match the original destination port, nothing of Docker is made; a missing DOCKER-USER is waited for', async () => {
  let dockerUser = false;
  const { calls, runner } = recorder((argv) => {
    const chainArg = argv[argv.indexOf('-w') + 2];
    if (chainArg === 'DOCKER-USER' && !dockerUser) return null; // "No chain/target/match by that name"
    if (argv.includes('-C')) return null; // no jump yet
    if (argv.includes('-D')) return null;
    return '';
  });
  // The recorder says "failed"; iptables says which chain is missing.
  const noChain: Runner = async (file, args, input) => {
    try {
      return await runner(file, args, input);
    } catch {
      throw new CommandFailedError(`${file} failed: iptables: No chain/target/match by that name.`, 1, '');
    }
  };
  const backend = createBackend('iptables', base(noChain, { chain: 'DOCKER-USER', ports: ['8080', '9000-9001'] }));
  await backend.start();
  assert.match(backend.waiting?.() ?? '', /iptables: chain DOCKER-USER does not exist yet \(Docker makes it when it starts\)/);
  assert.ok(!calls.some((c) => c.includes('-N') && c.includes('DOCKER-USER')), 'DOCKER-USER is never created');
  dockerUser = true;
  calls.length = 0;
  await backend.start();
  assert.equal(backend.waiting?.(), null);
  assert.deepEqual(calls.filter((c) => c.includes('-I')).map((c) => c.slice(1).join(' ')), ['-w -I DOCKER-USER 1 -j f2b-sshd', '-w -I DOCKER-USER 1 -j f2b-sshd']);
  calls.length = 0;
  await backend.ban([req('192.0.2.7')]);
  const restore = calls.find((c) => c[0] === 'iptables-restore')!;
  assert.equal(restore[restore.length - 1], '<<*filter\n-I f2b-sshd -s 192.0.2.7 -p tcp -m conntrack --ctorigdstport 8080 -j DROP\n-I f2b-sshd -s 192.0.2.7 -p tcp -m conntrack --ctorigdstport 9000:9001 -j DROP\nCOMMIT\n');
  // INPUT keeps multiport on the packet's own port.
  const input = recorder((argv) => (argv.includes('-C') || argv.includes('-D') ? null : ''));
  const plain = createBackend('iptables-ipset', base(input.runner, { ports: ['22', '2222'] }));
  await plain.start();
  assert.ok(input.calls.some((c) => c.join(' ') === 'iptables -w -I INPUT 1 -j f2b-sshd'));
  assert.ok(input.calls.some((c) => c[c.length - 1].includes('-A f2b-sshd -p tcp -m set --match-set f2b-sshd src -m multiport --dports 22,2222 -j DROP')));
  assert.throws(() => createBackend('iptables', base(input.runner, { chain: 'DOCKER USER; x' })), /chain "DOCKER USER; x"/);
});

test('iptables-ipset start leaves rules that are in place alone (no flush while it retries for DOCKER-USER), and rewrites rules that differ', async () => {
  const inPlace = '-N f2b-sshd\n-A f2b-sshd -p tcp -m set --match-set f2b-sshd src -m conntrack --ctorigdstport 8080 -j DROP\n';
  let chainText = inPlace;
  const { calls, runner } = recorder((argv) => {
    if (argv.includes('-S') && argv.includes('f2b-sshd')) return argv[0] === 'iptables' ? chainText : inPlace.replace(/f2b-sshd src/, 'f2b-sshd-v6 src');
    if (argv.includes('-C') || argv.includes('-D')) return null;
    return '';
  });
  const backend = createBackend('iptables-ipset', base(runner, { chain: 'FORWARD', ports: ['8080'] }));
  await backend.start();
  assert.ok(!calls.some((c) => c.includes('-F')), `no flush of rules in place: ${JSON.stringify(calls)}`);
  chainText = '-N f2b-sshd\n-A f2b-sshd -p tcp -m set --match-set f2b-sshd src -m multiport --dports 22 -j DROP\n';
  calls.length = 0;
  await backend.start();
  assert.deepEqual(calls.filter((c) => c.includes('-F')).map((c) => c[0]), ['iptables'], 'the IPv4 chain, whose rules differ, is written again');
});
