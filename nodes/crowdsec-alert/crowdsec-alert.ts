/**
 * crowdsec-alert: a CrowdSec watcher. Each ban decision of a jail (threshold-window) is posted to the Local
 * API as an alert with its ban decision; alerts wait in a bounded queue, saved under the user directory,
 * while the API is away.
 */
import { join } from 'path';
import { AlertQueue, pendingAlertOf, Watcher } from '../../lib/crowdsec';
import { Coalesced, crowdsecLapi, errorText, numberProperty, reportConfigError, shortStatus, stateDir, ThrottledCount, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

export = function register(RED: NodeAPI): void {
  function CrowdsecAlertNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let queue: AlertQueue | null = null;
    let cancelReport: (() => void) | null = null;
    let failing = '';
    const refused = new ThrottledCount();

    try {
      const { lapi, url } = crowdsecLapi(RED, def.lapi, 'to post alerts to');
      const machineId = lapi.credentials?.machineId ?? '';
      if (!machineId || !lapi.credentials?.password) throw new Error('the crowdsec-lapi node has no watcher login: cscli machines add NAME --password ..., then fill machine id and password');
      const maxQueued = numberProperty(def.maxQueued, 10000, 'maxQueued');
      if (!(maxQueued >= 1)) throw new Error(`maxQueued ${maxQueued} must be 1 or more`);
      const watcher = new Watcher(url, machineId, lapi.credentials.password);
      queue = new AlertQueue({ watcher, file: join(stateDir(RED), `crowdsec-alerts-${node.id}.json`), maxQueued });
      queue.load();
    } catch (err) {
      cancelReport = reportConfigError(RED, node, err);
    }

    const showStatus = () => {
      if (!queue) return;
      const lost = queue.lost ? `, ${queue.lost} lost` : '';
      if (failing) return node.status({ fill: 'red', shape: 'ring', text: shortStatus(`${queue.waiting} waiting${lost}: ${failing}`) });
      node.status({ fill: queue.waiting ? 'yellow' : 'green', shape: queue.waiting ? 'ring' : 'dot', text: shortStatus(`${queue.posted} posted, ${queue.waiting} waiting${lost}`) });
    };
    const status = new Coalesced(showStatus);
    const scheduleStatus = () => status.schedule();

    if (queue) {
      queue.on('posted', () => {
        if (failing) node.log('the Local API takes alerts again');
        failing = '';
        scheduleStatus();
      });
      queue.on('change', scheduleStatus);
      queue.on('failed', (err: Error, delay: number) => {
        const text = errorText(err);
        if (text !== failing) node.error(`${text}; alerts wait (trying again in ${Math.round(delay / 1000)} s)`, { topic: 'crowdsec', payload: text });
        failing = text;
        scheduleStatus();
      });
      queue.on('lost', (byJail: Record<string, number>) => {
        node.error(`the alert queue was full: ${Object.entries(byJail).map(([j, n]) => `${n} of jail ${j}`).join(', ')} not posted (raise maxQueued)`);
      });
      showStatus();
    }

    node.on('input', (msg: NodeMessage, _send: Send, done: Done) => {
      if (!queue) return done(new Error('crowdsec-alert is not configured: see its status'));
      const p = (msg.payload ?? {}) as Record<string, unknown>;
      // Bans that came from CrowdSec itself or from the fleet are not told again.
      if (p && typeof p === 'object' && (p.origin !== undefined || p.jail === 'crowdsec')) return done();
      try {
        if (p && typeof p === 'object' && p.event !== undefined && p.event !== 'ban') throw new Error(`a firewall-ban ${String(p.event).slice(0, 20)} event is not a ban decision`);
        queue.add(pendingAlertOf(p));
      } catch (err) {
        const n = refused.add();
        scheduleStatus();
        // Told at most once a minute: a flood of bad messages is not a flood of errors.
        if (n) return done(new Error(`${errorText(err)} (${refused.total} refused in all)`));
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      cancelReport?.();
      status.cancel();
      if (!queue) return done();
      queue.close().then(
        () => done(),
        (err) => {
          node.warn(`saving the alert queue: ${errorText(err)}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('crowdsec-alert', CrowdsecAlertNode);
};
