/** lib/config: port names, action lines, fail2ban's interpolation in jail files, the editor's pasted jail.local. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { importJails, portsOf, readServices, splitActions } from '../../lib/config';
import { unpackFail2ban } from '../support/fail2ban-corpus';
import { scratch, stageDebianConfig } from '../support/f2b-import';

const skip = unpackFail2ban() ?? false;
const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

test('port names become numbers as /etc/services says, with a built-in table when it is missing; 0:65535 is every port', () => {
  for (const services of [readServices(), readServices('/nonexistent/services')]) {
    assert.deepEqual(portsOf('ssh', 'tcp', services), { ports: '22', unknown: [] });
    assert.deepEqual(portsOf('http,https', 'tcp', services), { ports: '80,443', unknown: [] });
    assert.deepEqual(portsOf('0:65535', 'tcp', services), { ports: '', unknown: [] });
    assert.deepEqual(portsOf('smtp,465,submission', 'tcp', services), { ports: '25,465,587', unknown: [] });
    assert.deepEqual(portsOf('domain,953 1000:2000', 'udp', services), { ports: '53,953,1000-2000', unknown: [] });
    assert.deepEqual(portsOf('ssh,no-such-service', 'tcp', services), { ports: '22', unknown: ['no-such-service'] });
  }
});

test('action lines: several actions, options over several lines, quoted commas', () => {
  const actions = splitActions('iptables-multiport[port="ftp,ftp-data", blocktype=RETURN,\n   actionstart_on_demand=false]\nsendmail-whois[dest="a@example.org", sender="b@example.org"] dummy');
  assert.deepEqual(actions.map((a) => a.name), ['iptables-multiport', 'sendmail-whois', 'dummy']);
  assert.deepEqual(Object.fromEntries(actions[0].options), { port: 'ftp,ftp-data', blocktype: 'RETURN', actionstart_on_demand: 'false' });
  assert.equal(actions[1].options.get('dest'), 'a@example.org');
  assert.throws(() => splitActions('iptables[port=ssh'), /"\[" is never closed/);
});

test('%(known/x)s, %(default/x)s and a jail\'s own port inside [DEFAULT]\'s action_; a second ban action is reported', { skip }, () => {
  const work = scratch('f2b-config-');
  cleanups.push(work.remove);
  const cfg = stageDebianConfig(work.dir, {
    'jail.local': '[sshd]\nenabled = false\n\n[nsd]\nenabled = true\nlogpath = %(known/logpath)s\n          /srv/nsd/extra.log\n',
  });
  const result = importJails(cfg);
  assert.deepEqual(result.jails.map((j) => j.jail), ['nsd']);
  const tail = result.flow.find((n) => n.type === 'log-tail')!;
  assert.equal(tail.paths, '/var/log/nsd.log\n/srv/nsd/extra.log');
  const ban = result.flow.find((n) => n.type === 'firewall-ban')!;
  // nsd's action_ is %(default/action_)s[name=nsd-tcp, protocol="tcp"] + the same for udp: nsd's own port 53.
  assert.deepEqual([ban.backend, ban.ports, ban.protocol, ban.setName], ['iptables', '53', 'tcp', 'f2b-nsd-tcp']);
  const lost = result.jails[0].notCarried.map((l) => `${l.key}: ${l.became}`);
  assert.ok(lost.some((l) => /^action iptables-multiport: a second ban action beside iptables-multiport/.test(l)), lost.join('\n'));
});

test('a pasted jail.local stands for DIR/jail.local', { skip }, () => {
  const work = scratch('f2b-config-');
  cleanups.push(work.remove);
  const cfg = stageDebianConfig(work.dir, {});
  const result = importJails(cfg, { jailLocal: '[DEFAULT]\nbanaction = ufw\n[sshd]\nmaxretry = 2\nbackend = polling\n' });
  const window = result.flow.find((n) => n.type === 'threshold-window')!;
  assert.equal(window.maxretry, '2');
  assert.equal(result.flow.find((n) => n.type === 'firewall-ban')!.backend, 'ufw');
  assert.deepEqual(result.jails[0].files, ['jail.conf', join('jail.d', 'defaults-debian.conf'), 'jail.local']);
  assert.throws(() => importJails(cfg, { jailLocal: '[sshd]\nenabled\n' }), /jail\.local: line 2: cannot read "enabled"/);
});

test('backend systemd, chain, %(section/x)s, usedns, the bantime family with a formula: carried or named in the report', { skip }, () => {
  const work = scratch('f2b-config-');
  cleanups.push(work.remove);
  const cfg = stageDebianConfig(work.dir, {
    'jail.local': `[sshd]
backend = systemd
chain = DOCKER-USER
usedns = no
port = %(nginx-http-auth/port)s,2222
bantime.increment = true
bantime.factor = 2
bantime.multipliers = 1 5 30 60
bantime.formula = ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)
bantime.overalljails = true
`,
  });
  const result = importJails(cfg);
  const node = (type: string) => result.flow.find((n) => n.type === type)!;
  assert.deepEqual([node('log-tail').source, node('log-tail').journalMatch, node('log-tail').paths], ['journal', '_SYSTEMD_UNIT=sshd.service + _COMM=sshd', '']);
  assert.equal(node('failregex-match').filterOptions, 'mode=normal, logtype=journal, usedns=no');
  assert.deepEqual([node('firewall-ban').chain, node('firewall-ban').ports], ['DOCKER-USER', '80,443,2222']);
  const window = node('threshold-window');
  assert.deepEqual([window.increment, window.factor, window.multipliers], [true, '2', '1 5 30 60']);
  const lost = result.jails[0].notCarried.map((l) => l.key);
  assert.ok(lost.includes('bantime.formula') && lost.includes('bantime.overalljails') && lost.includes('logpath'), lost.join(', '));
  assert.match(result.jails[0].notCarried.find((l) => l.key === 'bantime.formula')!.became, /a Python expression, not evaluated/);
});
