import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

const why = labUnavailable();
const labs: Lab[] = [];
const dir = mkdtempSync(join(tmpdir(), 'f2b-backends-'));
after(() => {
  labs.forEach((l) => l.remove());
  rmSync(dir, { recursive: true, force: true });
});

// A fail2ban action file written for this test in fail2ban's format: an include, [Init] defaults the
// jail overrides (name, port), an IPv6 section, multi-line shell commands and an actioncheck with a pipe.
writeFileSync(
  join(dir, 'lab-common.conf'),
  `[Definition]
nft = nft
table = f2b-<name>-<l3>
`,
);
writeFileSync(
  join(dir, 'lab-nft.conf'),
  `# test action: an nftables table per family
[INCLUDES]
before = lab-common.conf

[Definition]
actionstart = <nft> add table inet <table>
              <nft> add set inet <table> addr '{ type <addrtype>; flags interval; }'
              <nft> add chain inet <table> input '{ type filter hook input priority -1; }'
              <nft> add rule inet <table> input <l3> saddr @addr <protocol> dport '{ <port> }' drop
actionstop = <nft> delete table inet <table>
actioncheck = <nft> list chain inet <table> input | grep -q '@addr'
actionban = <nft> add element inet <table> addr '{ <ip> }'
actionunban = <nft> delete element inet <table> addr '{ <ip> }'

[Init]
name = default
port = 1:65535
protocol = tcp
addrtype = ipv4_addr
l3 = ip

[Init?family=inet6]
addrtype = ipv6_addr
l3 = ip6
`,
);

const BACKENDS: Record<string, { tools: string[]; options?: Record<string, string> }> = {
  'iptables-ipset': { tools: ['iptables', 'ip6tables', 'ipset', 'conntrack'] },
  iptables: { tools: ['iptables', 'ip6tables', 'conntrack'] },
  route: { tools: ['ip', 'conntrack'] },
  command: {
    tools: ['nft', 'conntrack'],
    options: {
      banCommand: 'nft add element inet f2bcmd v-<family> { <ip> }',
      unbanCommand: 'nft delete element inet f2bcmd v-<family> { <ip> }',
      checkCommand: 'nft get element inet f2bcmd v-<family> { <ip> }',
    },
  },
  'fail2ban-action': { tools: ['nft', 'conntrack'], options: { actionFile: join(dir, 'lab-nft.conf') } },
};

for (const [backend, { tools, options }] of Object.entries(BACKENDS)) {
  test(`${backend}: bans block the client over IPv4 and IPv6, end, are lifted, refuse this machine, and come back after a flush`, { skip: why ?? false, timeout: 90000 }, () => {
    for (const tool of tools) {
      assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is not installed (.ci/run installs it)`);
    }
    const lab = createLab(backend.slice(0, 3));
    labs.push(lab);
    const { server, client } = lab;
    process.env.F2B_BACKEND_OPTIONS = JSON.stringify(options ?? {});
    const r = lab.exec(server, [process.execPath, join(__dirname, 'backends-in-netns.js'), backend, server.address, server.address6, client.ns, client.address, client.address6], 80000);
    delete process.env.F2B_BACKEND_OPTIONS;
    lab.remove();
    assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /all checks passed/);
  });
}
