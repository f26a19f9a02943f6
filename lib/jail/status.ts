/** A jail's status as fail2ban-client shows it, put together from the live nodes of the jail. */
import type { JailNodes } from './topology';

/** What a threshold-window tells of its counting. */
export interface WindowCounters {
  /** Offenders with failures in their window now (fail2ban's "Currently failed"). */
  currentlyFailed: number;
  /** Failures counted since the node started (fail2ban's "Total failed"). */
  totalFailed: number;
}

/** A ban as the ledger holds it (the part shown here). */
export interface JailBan {
  ip: string;
  jail: string;
  until: number | null;
}

/** What a firewall-ban tells of its bans. */
export interface BanCounters {
  /** Active bans. */
  bans: JailBan[];
  /** Bans made since the node started, by the jail each was made for. */
  totalBanned: Map<string, number>;
}

export interface JailStatus {
  jail: string;
  currentlyFailed: number;
  totalFailed: number;
  /** Present when a log-tail following files feeds the jail. */
  files?: string[];
  /** Present when a journal log-tail feeds the jail. */
  journalMatches?: string[];
  currentlyBanned: number;
  totalBanned: number;
  banned: string[];
  /** Active bans with their details (until, failures...). */
  bans: JailBan[];
  /** The nodes the facts come from. */
  nodes: { windows: string[]; bans: string[] };
}

/**
 * Which of `jails` (the jails a firewall-ban node belongs to) a ban or a count made for `label` is shown
 * in: its own when the node belongs to it, else the node's first (a ban by hand through the node's
 * own name, while a threshold-window of another name feeds it).
 */
export function jailOfLabel(label: string, jails: string[]): string {
  return jails.includes(label) ? label : jails[0];
}

/**
 * The status of every jail of `topology`, from the counters of its live nodes (`windowsOf` / `bansOf`
 * return null for a node that is not running).
 */
export function jailStatuses(
  topology: Map<string, JailNodes>,
  windowsOf: (id: string) => WindowCounters | null,
  bansOf: (id: string) => BanCounters | null,
): JailStatus[] {
  const jailsOfBanNode = new Map<string, string[]>();
  for (const [name, j] of topology) for (const id of j.bans) jailsOfBanNode.set(id, [...(jailsOfBanNode.get(id) ?? []), name]);
  const out: JailStatus[] = [];
  for (const [name, j] of topology) {
    const status: JailStatus = { jail: name, currentlyFailed: 0, totalFailed: 0, currentlyBanned: 0, totalBanned: 0, banned: [], bans: [], nodes: { windows: [...j.windows], bans: [...j.bans] } };
    if (j.files.length) status.files = [...j.files];
    if (j.journalMatches.length) status.journalMatches = [...j.journalMatches];
    for (const id of j.windows) {
      const c = windowsOf(id);
      if (!c) continue;
      status.currentlyFailed += c.currentlyFailed;
      status.totalFailed += c.totalFailed;
    }
    const seen = new Set<string>();
    for (const id of j.bans) {
      const c = bansOf(id);
      if (!c) continue;
      const jails = jailsOfBanNode.get(id)!;
      for (const [label, n] of c.totalBanned) if (jailOfLabel(label, jails) === name) status.totalBanned += n;
      for (const b of c.bans) {
        if (jailOfLabel(b.jail, jails) !== name) continue;
        status.bans.push(b);
        // Two firewall-ban nodes of one jail (two firewalls) hold the same address: it is one banned address.
        if (!seen.has(b.ip)) {
          seen.add(b.ip);
          status.banned.push(b.ip);
        }
      }
    }
    status.currentlyBanned = status.banned.length;
    out.push(status);
  }
  return out;
}
