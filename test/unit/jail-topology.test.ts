/** Jails read from the wiring, and their status put together from the nodes' counters (issue 21). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jailStatuses, jailTopology, type BanCounters, type WindowCounters } from '../../lib/jail';

const flow = [
  { id: 'tail1', type: 'log-tail', paths: '/var/log/auth.log\n /var/log/secure \n', wires: [['fan']] },
  // A node between the tail and the filter: the files are still found.
  { id: 'fan', type: 'function', wires: [['match1']] },
  { id: 'match1', type: 'failregex-match', wires: [['tw-ssh']] },
  { id: 'tw-ssh', type: 'threshold-window', name: 'ssh jail', jail: 'sshd', wires: [['fw']] },
  { id: 'journal', type: 'log-tail', source: 'journal', journalMatch: '_SYSTEMD_UNIT=nginx.service\n_COMM=nginx', wires: [['match2']] },
  { id: 'match2', type: 'failregex-match', wires: [['tw-web']] },
  { id: 'tw-web', type: 'threshold-window', name: 'nginx', wires: [['fw', 'debug']] },
  { id: 'debug', type: 'debug', wires: [] },
  // Fed by both: it belongs to both jails; its own (default) name makes no jail.
  { id: 'fw', type: 'firewall-ban', name: '', wires: [[]] },
  { id: 'alone', type: 'firewall-ban', name: 'recidive', wires: [] },
  { id: 'off', type: 'threshold-window', name: 'disabled', d: true, wires: [['fw']] },
  { id: 'cycle-a', type: 'function', wires: [['cycle-b']] },
  { id: 'cycle-b', type: 'function', wires: [['cycle-a', 'tw-loop']] },
  { id: 'tw-loop', type: 'threshold-window', name: 'loop', wires: [['cycle-a']] },
];

test('a jail is its threshold-windows, the firewall-bans they reach and the log-tails that reach them', () => {
  const t = jailTopology(flow);
  assert.deepEqual([...t.keys()], ['loop', 'nginx', 'recidive', 'sshd']);
  assert.deepEqual(t.get('sshd'), { windows: ['tw-ssh'], bans: ['fw'], files: ['/var/log/auth.log', '/var/log/secure'], journalMatches: [] });
  assert.deepEqual(t.get('nginx'), { windows: ['tw-web'], bans: ['fw'], files: [], journalMatches: ['_SYSTEMD_UNIT=nginx.service _COMM=nginx'] });
  assert.deepEqual(t.get('recidive'), { windows: [], bans: ['alone'], files: [], journalMatches: [] });
  // A loop in the wiring ends.
  assert.deepEqual(t.get('loop'), { windows: ['tw-loop'], bans: [], files: [], journalMatches: [] });
});

test('the status sums the counters of a jail\'s nodes; a shared firewall-ban\'s bans go to the jail that made them', () => {
  const windows: Record<string, WindowCounters> = { 'tw-ssh': { currentlyFailed: 2, totalFailed: 9 }, 'tw-web': { currentlyFailed: 1, totalFailed: 4 } };
  const bans: Record<string, BanCounters> = {
    fw: {
      bans: [
        { ip: '203.0.113.1', jail: 'sshd', until: null },
        { ip: '203.0.113.2', jail: 'nginx', until: 1 },
        // Banned by hand through the node's own name: shown in the node's first jail.
        { ip: '203.0.113.3', jail: 'jail', until: 2 },
      ],
      totalBanned: new Map([['sshd', 3], ['nginx', 1], ['jail', 1]]),
    },
  };
  const s = jailStatuses(jailTopology(flow), (id) => windows[id] ?? null, (id) => bans[id] ?? null);
  const pick = (name: string) => {
    const j = s.find((x) => x.jail === name)!;
    return [j.currentlyFailed, j.totalFailed, j.currentlyBanned, j.totalBanned, j.banned];
  };
  assert.deepEqual(pick('sshd'), [2, 9, 1, 3, ['203.0.113.1']]);
  assert.deepEqual(pick('nginx'), [1, 4, 2, 2, ['203.0.113.2', '203.0.113.3']]);
  // A node that is not running counts nothing.
  assert.deepEqual(pick('recidive'), [0, 0, 0, 0, []]);
  assert.equal(s.find((x) => x.jail === 'sshd')!.files!.length, 2);
  assert.equal(s.find((x) => x.jail === 'recidive')!.files, undefined);
});
