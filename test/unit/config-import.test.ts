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
