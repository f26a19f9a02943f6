/** firewall-ban: bans and lifts addresses in the firewall, keeps the ledger, restores and repairs bans. */
import { join } from 'path';
import { parseBantime } from '../../lib/duration';
import { BanManager, banLogLine, createBackend, InvalidAddressError, killConnections, parsePorts } from '../../lib/firewall';
import { ownJailName } from '../../lib/jail';
import { Ledger } from '../../lib/ledger';
import type { FirewallEvent } from '../../lib/messages';
import { describeValue, textOf } from '../../lib/untrusted';
import { registerJailApi } from './jail-api';
import { booleanProperty, closeAfter, Coalesced, deployedNode, type JailBanNode, errorText, numberProperty, reportConfigError, shortStatus, stateDir, type Done, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

type FirewallBanNode = JailBanNode;

export = function register(RED: NodeAPI): void {
  function FirewallBanNodeCtor(this: FirewallBanNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    // The jail name threshold-window uses too: `jail` when set, else the node's name.
    const jail = ownJailName(def);
    /** Bans made since start, by the jail each was made for (f2b-client's "Total banned"). */
    const totalBanned = new Map<string, number>();
    const backendName = String(def.backend || 'dry-run');
    let manager: BanManager | null = null;
    let ledger: Ledger | null = null;
    let cancelReport: (() => void) | null = null;
    let startError: string | null = null;
    /** The last input refused (not an address, a bad ban time): shown until an input succeeds. */
    let refused: string | null = null;

    const showStatus = () => {
      if (!manager) return;
      if (startError || manager.lastError) {
        node.status({ fill: 'red', shape: 'ring', text: shortStatus(startError ?? manager.lastError ?? '') });
        return;
      }
      if (refused) {
        node.status({ fill: 'red', shape: 'dot', text: shortStatus(refused) });
        return;
      }
      const n = manager.activeCount();
      const repaired = manager.repairs ? `, ${manager.repairs} repaired` : '';
      node.status({ fill: 'green', shape: n ? 'dot' : 'ring', text: `${n} banned (${backendName})${repaired}` });
    };

    // Redrawn at most every 250 ms while bans come: the count goes over the ledger, and a burst of
    // 1,000 bans would count it 1,000 times in one turn of the event loop.
    const statusLater = new Coalesced(showStatus);
    const scheduleStatus = () => statusLater.schedule();

    // The editor's Bans tab redraws this node's bans when told (issue 8); a burst (restoring thousands
    // of bans at start) makes one message per 250 ms.
    const announceLater = new Coalesced(() => RED.comms?.publish('firewall-ban/bans', { id: node.id }, false));
    const announceBans = () => announceLater.schedule();

    try {
      const setName = String(def.setName || `f2b-${jail.replace(/[^\w-]/g, '-')}`);
      const text = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
      const backend = createBackend(backendName, {
        setName,
        table: String(def.table || 'fail2ban'),
        ports: parsePorts(def.ports as string | undefined),
        protocol: String(def.protocol || 'tcp'),
        jail,
        actionFile: text(def.actionFile),
        actionOptions: text(def.actionOptions),
        banCommand: text(def.banCommand),
        unbanCommand: text(def.unbanCommand),
        checkCommand: text(def.checkCommand),
        hostsFile: text(def.hostsFile) || undefined,
        hook: text(def.hook),
        chain: text(def.chain),
      });
      // An action file's undefined tags stay as they are, as in fail2ban; the log says which.
      for (const w of (backend as { warnings?: string[] }).warnings ?? []) node.warn(w);
      const persist = booleanProperty(def.persist, true);
      ledger = new Ledger(persist ? join(stateDir(RED), `bans-${node.id}.json`) : null);
      ledger.load();
      manager = new BanManager({
        backend,
        ledger,
        jail,
        defaultBantime: parseBantime(def.bantime || '10m'),
        reconcile: numberProperty(def.reconcile, 30, 'reconcile'),
        killConnections: booleanProperty(def.killConnections, false) ? (ips) => killConnections(ips) : undefined,
      });
      node.manager = manager;
      const banManager = manager;
      node.banCounters = () => ({ bans: banManager.list(), totalBanned: new Map(totalBanned) });
      manager.on('event', (e: FirewallEvent) => {
        if (e.event === 'ban') totalBanned.set(e.jail, (totalBanned.get(e.jail) ?? 0) + 1);
        const line = banLogLine(e);
        if (line) node.log(line);
        node.send({ topic: e.ip, payload: e });
        scheduleStatus();
        announceBans();
      });
      node.status({ fill: 'yellow', shape: 'ring', text: `starting ${backendName}` });
      manager.start().then(
        () => showStatus(),
        (err) => {
          startError = errorText(err);
          showStatus();
          node.error(startError, { topic: 'configuration', payload: startError });
        },
      );
    } catch (err) {
      startError = errorText(err);
      cancelReport = reportConfigError(RED, node, err);
    }
    const statusTimer = setInterval(showStatus, 5000);
    statusTimer.unref();

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      const payload = msg.payload;
      const request: Record<string, unknown> = typeof payload === 'string' ? { action: 'ban', ip: payload.trim() } : { ...((payload ?? {}) as Record<string, unknown>) };
      if (request.ip === undefined && typeof request.host === 'string') request.ip = request.host;
      const action = request.action ?? 'ban';
      const fail = (err: Error) => {
        const event: FirewallEvent = {
          event: 'error',
          ip: textOf(request.ip),
          jail: textOf(request.jail ?? def.name ?? ''),
          bantime: 0,
          until: null,
          backend: backendName,
          error: err.message,
        };
        send({ topic: event.ip, payload: event });
        showStatus();
        done(err);
      };
      // Input this node will not act on (not an address, a bad ban time or action), as opposed to a
      // backend that failed (whose error the status shows while it lasts).
      const refuse = (err: Error) => {
        refused = err.message;
        fail(err);
      };
      const settle = (err: Error) => (err instanceof InvalidAddressError ? refuse(err) : fail(err));
      const succeed = () => {
        refused = null;
        scheduleStatus();
        done();
      };
      // While the backend starts, bans wait in the manager's queue; after a failed start they are refused.
      if (!manager || startError) return fail(new Error(`firewall-ban is not working: ${startError ?? 'not configured'}`));
      if (action === 'ban') {
        let bantime: number | undefined;
        try {
          bantime = request.bantime === undefined || request.bantime === null || request.bantime === '' ? undefined : parseBantime(request.bantime);
        } catch (err) {
          return refuse(err as Error);
        }
        manager.ban({ ...request, ip: request.ip, bantime, jail: typeof request.jail === 'string' ? request.jail : undefined }).then(succeed, settle);
      } else if (action === 'unban') {
        manager.unban(request.ip).then(succeed, settle);
      } else {
        refuse(new Error(`action ${describeValue(action)} is not known: use ban or unban`));
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      announceLater.cancel();
      statusLater.cancel();
      cancelReport?.();
      if (!manager) return done();
      // A node deleted from the flows lifts its bans and deletes its ledger: nothing would ever lift
      // them otherwise. If lifting fails, the ledger stays, so the bans are not forgotten.
      const work = manager.stop(removed || booleanProperty(def.unbanOnStop, false)).then(() => {
        if (removed && ledger?.size === 0) ledger.discard();
      });
      closeAfter(node, work, done);
    });
  }

  RED.nodes.registerType('firewall-ban', FirewallBanNodeCtor);
  registerJailApi(RED);

  const managerOf = (id: string): BanManager | null => deployedNode<FirewallBanNode>(RED, id, 'firewall-ban')?.manager ?? null;

  RED.httpAdmin.get('/firewall-ban/:id/bans', RED.auth.needsPermission('firewall-ban.read'), (req, res) => {
    const manager = managerOf(req.params.id);
    if (!manager) return res.status(404).json({ error: `no deployed firewall-ban node ${req.params.id}` });
    res.json(manager.list());
  });

  // The Bans tab's "ban by hand" (issue 8): {ip, bantime?}; the ban goes through the manager like any other.
  RED.httpAdmin.post('/firewall-ban/:id/ban', RED.auth.needsPermission('firewall-ban.write'), (req, res) => {
    const manager = managerOf(req.params.id);
    if (!manager) return res.status(404).json({ error: `no deployed firewall-ban node ${req.params.id}` });
    const body = (req.body ?? {}) as Record<string, unknown>;
    let bantime: number | undefined;
    try {
      bantime = body.bantime === undefined || body.bantime === null || body.bantime === '' ? undefined : parseBantime(body.bantime);
    } catch (err) {
      return res.status(400).json({ error: errorText(err) });
    }
    const ip = typeof body.ip === 'string' ? body.ip.trim() : body.ip;
    const who = (req as { user?: { username?: string } }).user?.username;
    manager.ban({ ip, bantime, reason: who ? `banned by hand by ${who}` : 'banned by hand in the editor' }).then(
      (e) => res.json(e),
      (err: Error) => res.status(err instanceof InvalidAddressError ? 400 : 500).json({ error: err.message }),
    );
  });

  RED.httpAdmin.post('/firewall-ban/:id/unban', RED.auth.needsPermission('firewall-ban.write'), (req, res) => {
    const manager = managerOf(req.params.id);
    if (!manager) return res.status(404).json({ error: `no deployed firewall-ban node ${req.params.id}` });
    manager.unban(req.body?.ip).then(
      (e) => (e ? res.json(e) : res.status(404).json({ error: `${String(req.body?.ip)} is not banned by this node` })),
      (err: Error) => res.status(err instanceof InvalidAddressError ? 400 : 500).json({ error: err.message }),
    );
  });
};
