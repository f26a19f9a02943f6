/**
 * A real attack, stopped (issue 9): OpenSSH's sshd and a real Node-RED running the example sshd jail on
 * nftables in a server namespace, ssh/sshpass (and paramiko, for user names OpenSSH's client will not
 * send) in an attacker namespace, and a friend in a third namespace who logs in with a key. The
 * scenarios themselves run inside the server namespace: see sshd-lab-in-netns.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLab, labUnavailable, type Lab } from '../support/netns';

function missing(): string | null {
  const lab = labUnavailable();
  if (lab) return lab;
  if (!existsSync('/usr/sbin/sshd')) return 'needs openssh-server (/usr/sbin/sshd)';
  if (spawnSync('sshpass', ['-V']).error) return 'needs sshpass';
  if (spawnSync('/usr/bin/python3', ['-c', 'import paramiko']).status !== 0) return 'needs python3-paramiko';
  return null;
}

const why = missing();
const labs: Lab[] = [];
after(() => labs.forEach((l) => l.remove()));

const scenarios = {
  attack: 'wrong passwords and an unknown user: banned at the third failure, refused at the next connection; a friend logs in with a key; a mail reaches the SMTP server; after bantime the attacker connects again',
  ipv6: 'the attack over IPv6 from the server\'s own /64: the attacker\'s address is banned, not the /64 that holds the server',
  injection: 'user names that carry another address, control characters or a newline: only the real client address is banned',
  lockout: 'failures from ignoreip and from this machine\'s own addresses, real and forged, and bans of them by hand: none lands, while the attacker is banned',
};

for (const [scenario, title] of Object.entries(scenarios)) {
  test(`sshd under attack, ${scenario}: ${title}`, { skip: why ?? false, timeout: 120000 }, () => {
    const lab = createLab(`ssh${scenario.slice(0, 2)}`, 1);
    labs.push(lab);
    const { server, client, others } = lab;
    const spec = {
      scenario,
      server: { address: server.address, address6: server.address6 },
      attacker: { ns: client.ns, address: client.address, address6: client.address6, peer: client.peer },
      friend: { ns: others[0].ns, address: others[0].address, address6: others[0].address6, peer: others[0].peer },
    };
    const r = lab.exec(server, [process.execPath, join(__dirname, 'sshd-lab-in-netns.js'), JSON.stringify(spec)], 110000);
    lab.remove();
    process.stdout.write(r.stdout.split('\n').filter((l) => l && !/all checks passed/.test(l)).map((l) => `# ${l}\n`).join(''));
    assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`${scenario}: all checks passed`));
  });
}
