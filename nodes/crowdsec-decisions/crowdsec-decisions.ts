/**
 * crowdsec-decisions: a CrowdSec bouncer for any firewall-ban backend. Follows the Local API's decision
 * stream (lib/crowdsec) and sends firewall-ban a ban for each new decision (for the time it has left) and
 * an unban for each deleted one.
 */
import { join } from 'path';
import { DecisionSet, DecisionStream, streamStatus, type FirewallHolds, type StreamChanges } from '../../lib/crowdsec';
import { crowdsecLapi, deployedNode, errorText, numberProperty, reportConfigError, shortStatus, stateDir, type JailBanNode, type Node, type NodeAPI, type NodeDef, type NodeMessage } from '../node-red';

/** "2 scope Country, 1 type captcha": what was skipped, most first. */
function skippedText(skipped: Map<string, number>): string {
  return [...skipped].sort((a, b) => b[1] - a[1]).map(([why, n]) => `${n} ${why}`).join(', ');
}

/**
 * Asks the firewall-ban nodes wired straight to the output whether they hold an address that long; undefined
 * when none is (a junction, a function node: then only the saved file counts, as before).
 */
function firewallHolds(RED: NodeAPI, def: NodeDef): FirewallHolds {
  const wires = (def as NodeDef & { wires?: unknown }).wires;
  const ids = Array.isArray(wires) && Array.isArray(wires[0]) ? (wires[0] as unknown[]).filter((id): id is string => typeof id === 'string') : [];
  return (ip, until) => {
    let asked = false;
    for (const id of ids) {
      // Looked up at the time of the answer: every node of the flow exists by then, its ledger loaded.
      const manager = deployedNode<JailBanNode>(RED, id, 'firewall-ban')?.manager;
      if (!manager) continue;
      asked = true;
      const end = manager.heldUntil(ip);
      // Two seconds of slack: the decision's own time left is rounded up to a second.
      if (end === undefined || (end !== null && end < until - 2000)) return false;
    }
    return asked ? true : undefined;
  };
}

export = function register(RED: NodeAPI): void {
  function CrowdsecDecisionsNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let stream: DecisionStream | null = null;
    let cancelReport: (() => void) | null = null;
    /** Decisions not applied since start, by why. */
    const skipped = new Map<string, number>();
    let failing = '';

    try {
      const { lapi, url } = crowdsecLapi(RED, def.lapi, 'this bouncer follows');
      const interval = numberProperty(def.interval, 10, 'interval');
      if (!(interval >= 1 && interval <= 3600)) throw new Error(`interval ${interval} must be from 1 to 3600 seconds`);
      const decisions = new DecisionSet(join(stateDir(RED), `crowdsec-${node.id}.json`));
      decisions.load();
      stream = new DecisionStream(url, lapi.credentials?.apiKey ?? '', decisions, interval * 1000, firewallHolds(RED, def));
    } catch (err) {
      cancelReport = reportConfigError(RED, node, err);
    }

    const showStatus = () => {
      if (!stream) return;
      if (failing) return node.status({ fill: 'red', shape: 'ring', text: shortStatus(failing) });
      if (stream.polls === 0) return node.status({ fill: 'yellow', shape: 'ring', text: 'asking the Local API' });
      const skip = skipped.size ? `; skipped ${skippedText(skipped)}` : '';
      node.status({ fill: skipped.size ? 'yellow' : 'green', shape: 'dot', text: shortStatus(`${stream.decisions.size} from CrowdSec${skip}`) });
    };

    if (stream) {
      stream.on('changes', (changes: StreamChanges) => {
        for (const [why, n] of Object.entries(changes.skipped)) skipped.set(why, (skipped.get(why) ?? 0) + n);
        if (changes.resent.length) node.warn(`firewall-ban did not hold ${changes.resent.length} address(es) applied before this start (${changes.resent.slice(0, 5).join(', ')}${changes.resent.length > 5 ? ', ...' : ''}): banned again for the time left`);
        const out: NodeMessage[] = [...changes.unbans, ...changes.bans].map((p) => ({ topic: p.ip, payload: p }));
        if (out.length) node.send([out]);
      });
      stream.on('ok', () => {
        if (failing) node.log('the Local API answers again');
        failing = '';
        showStatus();
      });
      stream.on('failed', (err: Error, advice: string) => {
        const text = `${errorText(err)}: ${advice}`;
        // Told once per spell of failure (and when the reason changes), not at every poll.
        if (streamStatus(err) !== failing) node.error(text, { topic: 'crowdsec', payload: text });
        failing = streamStatus(err);
        showStatus();
      });
      showStatus();
      stream.start();
    }

    node.on('close', (removed: boolean, done: () => void) => {
      cancelReport?.();
      if (!stream) return done();
      const s = stream;
      s.stop().then(
        () => {
          // A removed node forgets what it applied (firewall-ban keeps its bans until they end).
          if (removed) s.decisions.discard();
          done();
        },
        () => done(),
      );
    });
  }

  RED.nodes.registerType('crowdsec-decisions', CrowdsecDecisionsNode);
};
