/**
 * The jail-level admin API (issue 21): every jail's counters and banned list in one read, bans and lifts
 * by jail in one write. Glue: the jails come from the deployed wiring (lib/jail), the facts from the
 * live threshold-window and firewall-ban nodes, and every ban goes through the node's ban manager.
 */
import { parseBantime } from '../../lib/duration';
import { selfConflict, type BanManager } from '../../lib/firewall';
import { parseAddressOrPrefix, tooWideToBan, type Address } from '../../lib/ip';
import { JAILS_PATH, jailOfLabel, jailStatuses, jailTopology, type FlowNodeDef, type JailChange, type JailChangeAnswer, type JailNodes } from '../../lib/jail';
import { describeValue } from '../../lib/untrusted';
import { deployedNode, errorText, type JailBanNode, type JailWindowNode, type NodeAPI } from '../node-red';

const ACTIONS = ['banip', 'unbanip', 'unban'] as const;
/** More addresses than this in one request is not a person at a shell. */
const MAX_IPS = 10000;

export function registerJailApi(RED: NodeAPI): void {
  const topology = (): Map<string, JailNodes> => {
    const defs: FlowNodeDef[] = [];
    RED.nodes.eachNode((d) => defs.push(d as FlowNodeDef));
    return jailTopology(defs);
  };
  const windowsOf = (id: string) => deployedNode<JailWindowNode>(RED, id, 'threshold-window')?.windowCounters?.() ?? null;
  const bansOf = (id: string) => deployedNode<JailBanNode>(RED, id, 'firewall-ban')?.banCounters?.() ?? null;

  RED.httpAdmin.get(JAILS_PATH, RED.auth.needsPermission('firewall-ban.read'), (_req, res) => {
    res.json({ jails: jailStatuses(topology(), windowsOf, bansOf) });
  });

  RED.httpAdmin.post(JAILS_PATH, RED.auth.needsPermission('firewall-ban.write'), (req, res) => {
    const body = (req.body ?? {}) as Partial<Record<keyof JailChange, unknown>>;
    const action = body.action as JailChange['action'];
    if (!ACTIONS.includes(action)) return res.status(400).json({ error: `action ${describeValue(body.action)} is not known: use ${ACTIONS.join(', ')}` });
    const ips = Array.isArray(body.ips) ? body.ips : [];
    if (ips.length === 0) return res.status(400).json({ error: 'no address given: name one or more IP addresses' });
    if (ips.length > MAX_IPS) return res.status(400).json({ error: `${ips.length} addresses in one request: at most ${MAX_IPS}` });
    const jails = topology();
    const jailNames = [...jails.keys()];
    let inJails: string[];
    if (action === 'unban') inJails = jailNames;
    else {
      const jail = typeof body.jail === 'string' ? body.jail : '';
      if (!jails.has(jail)) {
        return res.status(404).json({ error: `jail ${describeValue(body.jail)} does not exist; ${jailNames.length ? `the jails are: ${jailNames.join(', ')}` : 'no jail is deployed'}`, jails: jailNames });
      }
      inJails = [jail];
    }
    let bantime: number | undefined;
    if (action === 'banip' && body.bantime !== undefined && body.bantime !== null && body.bantime !== '') {
      try {
        bantime = parseBantime(body.bantime);
      } catch (err) {
        return res.status(400).json({ error: errorText(err) });
      }
    }

    // Every address is checked before anything is done: one refused address refuses the whole request.
    const addresses: Address[] = [];
    const refused: Array<{ ip: string; error: string }> = [];
    const verb = action === 'banip' ? 'ban' : 'unban';
    for (const ip of ips) {
      const address = parseAddressOrPrefix(typeof ip === 'string' ? ip.trim() : ip);
      let why: string | null = null;
      if (!address) why = 'not an IPv4/IPv6 address or CIDR prefix';
      else if (tooWideToBan(address)) why = tooWideToBan(address);
      else if (action === 'banip') {
        const own = selfConflict(address);
        if (own) why = `${own}; banning it would lock this machine out of itself`;
        else if (jails.get(inJails[0])!.windows.some((id) => deployedNode<JailWindowNode>(RED, id, 'threshold-window')?.ignores?.(address))) {
          why = `it is in the ignoreip of jail ${inJails[0]}`;
        }
      }
      if (why || !address) refused.push({ ip: typeof ip === 'string' ? ip : describeValue(ip), error: `refused to ${verb} ${describeValue(ip)}: ${why}` });
      else addresses.push(address);
    }
    if (refused.length) return res.status(400).json({ error: refused.map((r) => r.error).join('; '), refused });

    // The firewall-ban nodes of the jails, with the jails each one belongs to.
    const banNodes = new Map<string, { manager: BanManager; jails: string[] }>();
    for (const name of inJails) {
      for (const id of jails.get(name)!.bans) {
        const manager = deployedNode<JailBanNode>(RED, id, 'firewall-ban')?.manager;
        if (!manager) continue;
        const all = jailNames.filter((j) => jails.get(j)!.bans.includes(id));
        banNodes.set(id, { manager, jails: all });
      }
    }
    if (action === 'banip' && banNodes.size === 0) {
      return res.status(409).json({ error: `jail ${inJails[0]} has no running firewall-ban node to ban with: deploy one wired after its threshold-window` });
    }

    const who = req.user?.username;
    const changed = new Map<string, Set<string>>();
    const note = (ip: string, jail: string) => {
      const set = changed.get(ip) ?? new Set<string>();
      set.add(jail);
      changed.set(ip, set);
    };
    const work: Array<Promise<void>> = [];
    for (const address of addresses) {
      for (const { manager, jails: nodeJails } of banNodes.values()) {
        if (action === 'banip') {
          const jail = inJails[0];
          work.push(manager.ban({ ip: address.text, bantime, jail, reason: who ? `banned by hand by ${who}` : 'banned by hand (f2b-client)' }).then(() => note(address.text, jail)));
        } else {
          const held = manager.list().find((b) => b.ip === address.text);
          if (!held) continue;
          const jail = jailOfLabel(held.jail, nodeJails);
          if (!inJails.includes(jail)) continue;
          work.push(manager.unban(address.text).then((e) => (e ? note(address.text, jail) : undefined)));
        }
      }
    }
    Promise.allSettled(work).then((settled) => {
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => errorText(s.reason));
      const answer: JailChangeAnswer = {
        action,
        changed: [...changed].map(([ip, set]) => ({ ip, jails: [...set].sort() })),
        count: changed.size,
      };
      if (failed.length) return res.status(500).json({ ...answer, error: [...new Set(failed)].join('; ') });
      res.json(answer);
    });
  });
}
