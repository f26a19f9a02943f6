/**
 * Which nodes make up each jail, read from the deployed flow's wiring: a jail is the `jail` name that
 * threshold-window and firewall-ban share. Pure: it takes the flow's node definitions, nothing live.
 */

/** The part of a deployed node definition this reads. */
export interface FlowNodeDef {
  id: string;
  type: string;
  name?: unknown;
  jail?: unknown;
  wires?: unknown;
  d?: unknown;
  [key: string]: unknown;
}

export interface JailNodes {
  /** threshold-window nodes counting for the jail. */
  windows: string[];
  /** firewall-ban nodes banning for the jail. */
  bans: string[];
  /** Files followed by the log-tail nodes upstream of the jail's threshold-windows. */
  files: string[];
  /** Journal matches of the journal log-tail nodes upstream of them. */
  journalMatches: string[];
}

/** The jail name a threshold-window or firewall-ban gives itself: `jail`, else its name, else "jail". */
export function ownJailName(def: FlowNodeDef): string {
  const pick = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : '');
  return pick(def.jail) || pick(def.name) || 'jail';
}

function targetsOf(def: FlowNodeDef): string[] {
  if (!Array.isArray(def.wires)) return [];
  return def.wires.flatMap((port) => (Array.isArray(port) ? port.filter((t): t is string => typeof t === 'string') : []));
}

/** Lines of a multi-line text property, trimmed, empty ones dropped. */
function lines(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : [];
}

/** Every node reachable from `start` following `next`, `start` excluded. */
function reachable(start: string, next: (id: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...next(start)];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id) || id === start) continue;
    seen.add(id);
    todo.push(...next(id));
  }
  return seen;
}

/**
 * The jails of a flow. A threshold-window belongs to its own jail. A firewall-ban belongs to the jails of
 * the threshold-windows whose output reaches it (through any nodes between); one that none reaches
 * belongs to its own jail name. The files are those of the log-tail nodes whose output reaches a jail's
 * threshold-window; a jail none feeds has no file list. Disabled nodes take no part.
 */
export function jailTopology(defs: Iterable<FlowNodeDef>): Map<string, JailNodes> {
  const byId = new Map<string, FlowNodeDef>();
  for (const d of defs) if (d && typeof d.id === 'string' && d.d !== true) byId.set(d.id, d);
  const forward = new Map<string, string[]>();
  const backward = new Map<string, string[]>();
  for (const d of byId.values()) {
    const out = targetsOf(d).filter((t) => byId.has(t));
    forward.set(d.id, out);
    for (const t of out) backward.set(t, [...(backward.get(t) ?? []), d.id]);
  }
  const jails = new Map<string, JailNodes>();
  const jail = (name: string) => {
    let j = jails.get(name);
    if (!j) jails.set(name, (j = { windows: [], bans: [], files: [], journalMatches: [] }));
    return j;
  };
  const adopted = new Set<string>();
  const ids = [...byId.keys()].sort();
  for (const id of ids) {
    const def = byId.get(id)!;
    if (def.type !== 'threshold-window') continue;
    const j = jail(ownJailName(def));
    j.windows.push(id);
    for (const down of [...reachable(id, (n) => forward.get(n) ?? [])].sort()) {
      if (byId.get(down)!.type !== 'firewall-ban') continue;
      if (!j.bans.includes(down)) j.bans.push(down);
      adopted.add(down);
    }
    for (const up of [...reachable(id, (n) => backward.get(n) ?? [])].sort()) {
      const tail = byId.get(up)!;
      if (tail.type !== 'log-tail') continue;
      if (tail.source === 'journal') {
        const match = lines(tail.journalMatch).join(' ');
        if (match && !j.journalMatches.includes(match)) j.journalMatches.push(match);
      } else {
        for (const p of lines(tail.paths)) if (!j.files.includes(p)) j.files.push(p);
      }
    }
  }
  for (const id of ids) {
    const def = byId.get(id)!;
    if (def.type === 'firewall-ban' && !adopted.has(id)) jail(ownJailName(def)).bans.push(id);
  }
  return new Map([...jails.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
