/**
 * ban-share: joins firewall-ban nodes on several hosts through an MQTT broker (SPEC.md, "ban-share"),
 * using Node-RED's core mqtt nodes. In: firewall-ban events (published), messages from `mqtt in` (taken,
 * through the guards) and, from a Status node, the MQTT connection's status (what changed while the broker
 * was away is published again). Out 1: to `mqtt out`; out 2: to firewall-ban.
 */
import { hostname } from 'os';
import { parseBantime } from '../../lib/duration';
import { BrokerLink, CatchUp, HeldBans, isFleetTopic, linkStateOf, normalisePrefix, readMessage, Refusal, ShareGuard, topicLevelProblem, WireError, banPublication, unbanPublication, type Publication, type SharedBan } from '../../lib/share';
import { IgnoreList } from '../../lib/window';
import type { FirewallEvent } from '../../lib/messages';
import { describeValue } from '../../lib/untrusted';
import { Coalesced, errorText, numberProperty, reportConfigError, shortStatus, ThrottledCount, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

/** The message `mqtt out` publishes: retained, QoS 1, the MQTT 5 expiry; never an `action` (a command there). */
function toBroker(p: Publication): NodeMessage {
  const msg: NodeMessage = { topic: p.topic, payload: p.payload, qos: 1, retain: true };
  if (p.expiry !== undefined) msg.messageExpiryInterval = p.expiry;
  return msg;
}

export = function register(RED: NodeAPI): void {
  function BanShareNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let prefix = 'fail2ban/bans';
    let origin = '';
    let guard: ShareGuard | null = null;
    let ignore: IgnoreList | null = null;
    let cancelReport: (() => void) | null = null;
    const held = new HeldBans();
    let link: BrokerLink | null = null;
    /** After the connection comes up: which running bans the broker delivers (see lib/share/catchup). */
    let catchUp: CatchUp | null = null;
    let published = 0;
    let taken = 0;
    let lastRefusal = '';
    const refused = new ThrottledCount();
    const strays = new ThrottledCount();

    try {
      origin = String(def.origin ?? '').trim() || hostname();
      const bad = topicLevelProblem(origin, 'origin');
      if (bad) throw new Error(`${bad}: give this host a name of one topic level`);
      prefix = normalisePrefix(String(def.topicPrefix ?? '') || 'fail2ban/bans');
      ignore = new IgnoreList(def.ignoreip === undefined ? '127.0.0.1/8 ::1' : String(def.ignoreip), false);
      if (ignore.invalid.length) throw new Error(`ignoreip: ${ignore.invalid.join(', ')} is not an address, CIDR range or host name`);
      const maxBantime = parseBantime(String(def.maxBantime ?? '').trim() || '1d', 'maxBantime');
      const maxPerMinute = numberProperty(def.maxPerMinute, 100, 'maxPerMinute');
      if (!(maxPerMinute >= 1)) throw new Error(`maxPerMinute ${maxPerMinute} must be 1 or more`);
      const jails = String(def.jails ?? '').split(/[\s,]+/).filter(Boolean);
      const ignoreList = ignore;
      guard = new ShareGuard({ origin, jails, ignore: { has: (a) => ignoreList.has(a) }, maxBantime, maxPerMinute });
      link = new BrokerLink(prefix);
      // Host names in ignoreip are looked up now and then (they may move).
      void ignore.refresh();
    } catch (err) {
      cancelReport = reportConfigError(RED, node, err);
    }
    const ignoreTimer = setInterval(() => void ignore?.refresh(), 300_000);
    ignoreTimer.unref();
    // Once the broker's retained bans have stopped coming after a (re)connection, bans their origin no
    // longer publishes (lifted while this host was away) are lifted here too.
    const catchUpTimer = setInterval(() => {
      if (!catchUp || !catchUp.due(Date.now())) return;
      const stale = catchUp.stale(held.fromFleet());
      catchUp = null;
      if (stale.length === 0) return;
      for (const s of stale) held.follow({ event: 'unban', ip: s.ip, until: null });
      node.send([null, stale.map((s) => ({ topic: s.ip, payload: { action: 'unban', ip: s.ip } }))]);
    }, 1000);
    catchUpTimer.unref();

    const showStatus = () => {
      if (!guard || !link) return;
      const broker = link.state === 'down' ? `broker away, ${link.waiting} to publish again` : link.state === 'up' ? 'broker up' : 'broker ?';
      const text = `${origin}: ${published} shared, ${taken} taken${refused.total ? `, ${refused.total} refused` : ''}; ${broker}`;
      node.status({ fill: link.state === 'down' ? 'red' : refused.total ? 'yellow' : 'green', shape: link.state === 'down' ? 'ring' : 'dot', text: shortStatus(text) });
    };
    const statusLater = new Coalesced(showStatus);
    const scheduleStatus = () => statusLater.schedule();
    showStatus();

    /** A refused message: counted, in the status, and told to Catch nodes at most once a minute. */
    const refuse = (reason: string, msg: NodeMessage) => {
      lastRefusal = reason;
      const n = refused.add();
      scheduleStatus();
      if (n) node.error(`refused ${n} message${n === 1 ? '' : 's'} from the fleet since the last report (${refused.total} in all); the last: ${lastRefusal}`, { topic: msg.topic, payload: lastRefusal });
    };

    /** A firewall-ban event of this host: its own bans and unbans go to the broker. */
    const publishEvent = (e: FirewallEvent, send: Send) => {
      held.follow(e);
      if (!guard || !link || typeof e.ip !== 'string' || typeof e.jail !== 'string') return;
      // Bans from the fleet are never published again; unshared jails stay home.
      if (e.origin !== undefined || !guard.shares(e.jail) || topicLevelProblem(e.jail, 'jail')) return;
      const now = Date.now();
      if (e.event === 'ban' || e.event === 'restore') {
        const ban: SharedBan = { ip: e.ip, jail: e.jail, origin, bantime: e.bantime, until: e.until };
        const p = banPublication(prefix, ban, now);
        if (!p) return;
        link.banned(p.topic, ban, now);
        published++;
        send([toBroker(p), null]);
      } else if (e.event === 'unban') {
        const p = unbanPublication(prefix, origin, e.jail, e.ip);
        link.unbanned(p.topic, { origin, jail: e.jail, ip: e.ip }, now);
        send([toBroker(p), null]);
      }
      scheduleStatus();
    };

    /** A message from `mqtt in`: another host's ban or unban, checked before it reaches firewall-ban. */
    const take = (msg: NodeMessage, send: Send) => {
      if (!guard) return;
      const now = Date.now();
      let received;
      try {
        received = readMessage(prefix, msg.topic, msg.payload, now);
      } catch (err) {
        return refuse(err instanceof WireError ? err.message : errorText(err), msg);
      }
      const from = received.kind === 'ban' ? received.ban.origin : received.origin;
      // This host's own messages come back from the broker: never applied (nor refused).
      if (guard.isOwn(from)) return;
      if (received.kind === 'ban') catchUp?.saw(from, received.ban.ip, now);
      if (received.kind === 'unban') {
        // Lifts only what came from that host: never this host's own ban, nor another origin's.
        if (held.originOf(received.ip) !== from) return;
        held.follow({ event: 'unban', ip: received.ip, until: null });
        send([null, { topic: received.ip, payload: { action: 'unban', ip: received.ip } }]);
        return;
      }
      const { ban, address, left } = received;
      if (left !== -1 && left <= 0) return; // over already: nothing to do
      if (held.ownBan(ban.ip)) return; // banned here already, by this host's own jail
      if (held.covers(ban.ip, ban.origin, ban.until)) return; // taken before, seen again
      let bantime: number;
      try {
        bantime = guard.check(ban, address, left, now);
      } catch (err) {
        return refuse(err instanceof Refusal ? err.message : errorText(err), msg);
      }
      held.applied(ban.ip, ban.origin, bantime === -1 ? null : now + bantime * 1000);
      taken++;
      scheduleStatus();
      send([null, { topic: ban.ip, payload: { action: 'ban', ip: ban.ip, jail: ban.jail, bantime, origin: ban.origin, reason: `shared by ${ban.origin}` } }]);
    };

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      // Not configured: the status and one report say why; each message again would flood Catch nodes.
      if (!guard || !link) return done();
      if (isFleetTopic(prefix, msg.topic)) {
        take(msg, send);
        return done();
      }
      const payload = msg.payload as Partial<FirewallEvent> | undefined;
      if (payload && typeof payload === 'object' && typeof payload.event === 'string') {
        publishEvent(payload as FirewallEvent, send);
        return done();
      }
      const state = linkStateOf(msg.status);
      if (state) {
        const now = Date.now();
        if (state === 'down') catchUp = null;
        else if (link.state !== 'up') catchUp = new CatchUp(now);
        const again = link.status(state, now);
        if (again.length) send([again.map(toBroker), null]);
        showStatus();
        return done();
      }
      // A wiring mistake (mqtt in subscribed to more than the fleet's topics) may bring many: told once a minute.
      const n = strays.add();
      if (n) node.error(`ignored ${n} message${n === 1 ? '' : 's'} (${strays.total} in all): ban-share takes firewall-ban events, messages from mqtt in under ${prefix}/ and an MQTT node's status (from a Status node); the last was none of them (topic ${describeValue(msg.topic)})`, msg);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(ignoreTimer);
      clearInterval(catchUpTimer);
      statusLater.cancel();
      cancelReport?.();
      done();
    });
  }

  RED.nodes.registerType('ban-share', BanShareNode);
};
