/**
 * The decision stream as a bouncer follows it: what `GET /v1/decisions/stream` returns, turned into bans
 * and unbans for firewall-ban. Everything in an answer is untrusted: only `ban` decisions on an Ip or a
 * Range whose value parses as an address or prefix become bans; the rest is counted by what it is.
 */
import { readFileSync, rmSync } from 'fs';
import { writeTextDurably } from '../durable-file';
import { parseAddress, parseAddressOrPrefix, tooWideToBan } from '../ip';
import { parseGoDuration } from './duration';

/** A decision as the stream gives it (fields are checked, not trusted). */
export interface StreamDecision {
  id?: unknown;
  type?: unknown;
  scope?: unknown;
  value?: unknown;
  duration?: unknown;
  scenario?: unknown;
  origin?: unknown;
}

/** The messages for firewall-ban (SPEC.md, "CrowdSec"). */
export interface CrowdsecBan {
  action: 'ban';
  ip: string;
  /** Seconds left. */
  bantime: number;
  jail: 'crowdsec';
  scenario: string;
  origin: string;
}
export interface CrowdsecUnban {
  action: 'unban';
  ip: string;
}

/**
 * Whether the firewall holds `ip` banned until `until` (epoch ms) at least; undefined when it cannot tell
 * (the bouncer is not wired to a firewall it can ask).
 */
export type FirewallHolds = (ip: string, until: number) => boolean | undefined;

export interface StreamChanges {
  bans: CrowdsecBan[];
  /** Addresses of `bans` sent again because the firewall lost them (see `apply`'s `holds`). */
  resent: string[];
  unbans: CrowdsecUnban[];
  /** Decisions not applied, counted by why (`scope Country`, `type captcha`, `bad value`, `expired`). */
  skipped: Record<string, number>;
}

/** What is held of one address: each decision on it by id, with its end (epoch ms). */
type Held = Map<string, number>;

const text = (v: unknown, max = 200) => (typeof v === 'string' ? v.slice(0, max) : typeof v === 'number' ? String(v) : '');

/** The address a decision bans (canonical text), or why it bans none. */
function targetOf(d: StreamDecision): { ip: string } | { skip: string } {
  const type = text(d.type, 40);
  if (type.toLowerCase() !== 'ban') return { skip: `type ${type || '?'}` };
  const scope = text(d.scope, 40);
  const s = scope.toLowerCase();
  if (s === 'ip') {
    const a = parseAddress(d.value);
    return a ? { ip: a.text } : { skip: 'bad value' };
  }
  if (s === 'range') {
    const a = parseAddressOrPrefix(d.value);
    if (!a) return { skip: 'bad value' };
    // firewall-ban would refuse it: a range that wide cuts off a large part of the Internet.
    return tooWideToBan(a) ? { skip: 'range too wide' } : { ip: a.text };
  }
  return { skip: `scope ${scope || '?'}` };
}

/**
 * The decisions applied, by address; kept in a file (when given) so that after a restart the full set of
 * `startup=true` is compared with what was applied: nothing banned twice, and what the API no longer
 * lists is lifted.
 */
export class DecisionSet {
  private readonly held = new Map<string, Held>();

  constructor(private readonly file: string | null = null) {}

  /** Reads the saved set; a damaged file is an error that names it. */
  load(): void {
    if (!this.file) return;
    let doc: { held?: Record<string, Record<string, number>> };
    try {
      doc = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`saved CrowdSec decisions ${this.file} are damaged (${(err as Error).message}); move the file aside to start afresh`);
    }
    for (const [ip, ids] of Object.entries(doc.held ?? {})) {
      if (!parseAddressOrPrefix(ip) || !ids || typeof ids !== 'object') continue;
      const h: Held = new Map(Object.entries(ids).filter(([, until]) => typeof until === 'number'));
      if (h.size) this.held.set(ip, h);
    }
  }

  private save(): void {
    if (!this.file) return;
    const held: Record<string, Record<string, number>> = {};
    for (const [ip, h] of this.held) held[ip] = Object.fromEntries(h);
    writeTextDurably(this.file, JSON.stringify({ version: 1, held }));
  }

  /** Addresses held now. */
  get size(): number {
    return this.held.size;
  }

  has(ip: string): boolean {
    return this.held.has(ip);
  }

  /**
   * Applies one answer of the stream. With `full` (an answer to startup=true: every decision there is),
   * addresses held that it does not list are lifted too; with `holds` as well, an address it lists that
   * the firewall does not hold for that long is banned again for the time left, even if applied before.
   */
  apply(answer: unknown, full: boolean, now = Date.now(), holds?: FirewallHolds): StreamChanges {
    const doc = (answer && typeof answer === 'object' ? answer : {}) as { new?: unknown; deleted?: unknown };
    const added = Array.isArray(doc.new) ? (doc.new as StreamDecision[]) : [];
    const deleted = Array.isArray(doc.deleted) ? (doc.deleted as StreamDecision[]) : [];
    const changes: StreamChanges = { bans: [], resent: [], unbans: [], skipped: {} };
    const skip = (why: string) => (changes.skipped[why] = (changes.skipped[why] ?? 0) + 1);
    const touched = new Set<string>();
    const before = new Map([...this.held].map(([ip, h]) => [ip, Math.max(...h.values())]));

    // Deletions first: a decision deleted and another added for the same address in one answer keeps it banned.
    for (const d of deleted) {
      if (!d || typeof d !== 'object') continue;
      const t = targetOf(d);
      if ('skip' in t) continue;
      const h = this.held.get(t.ip);
      if (!h) continue;
      h.delete(text(d.id, 40));
      touched.add(t.ip);
    }
    const listed = new Map<string, Held>();
    /** The longest decision listed on each address: what a lost ban is sent again for. */
    const longest = new Map<string, { until: number; ban: CrowdsecBan }>();
    for (const d of added) {
      if (!d || typeof d !== 'object') {
        skip('bad decision');
        continue;
      }
      const t = targetOf(d);
      if ('skip' in t) {
        skip(t.skip);
        continue;
      }
      let seconds: number;
      try {
        seconds = parseGoDuration(d.duration);
      } catch {
        skip('bad duration');
        continue;
      }
      if (seconds <= 0) {
        skip('expired');
        continue;
      }
      const id = text(d.id, 40) || `${t.ip}/${text(d.scenario)}`;
      const until = now + Math.ceil(seconds) * 1000;
      if (!listed.has(t.ip)) listed.set(t.ip, new Map());
      listed.get(t.ip)!.set(id, until);
      const h = this.held.get(t.ip) ?? new Map<string, number>();
      this.held.set(t.ip, h);
      const had = h.has(id);
      h.set(id, until);
      touched.add(t.ip);
      const ban: CrowdsecBan = { action: 'ban', ip: t.ip, bantime: Math.ceil(seconds), jail: 'crowdsec', scenario: text(d.scenario) || 'crowdsec', origin: text(d.origin, 60) || 'crowdsec' };
      if ((longest.get(t.ip)?.until ?? -Infinity) < until) longest.set(t.ip, { until, ban });
      const end = before.get(t.ip);
      // Banned already until then (this very decision, after a restart, or a longer one): nothing to send.
      if (had || (end !== undefined && end >= until - 2000)) continue;
      changes.bans.push(ban);
      before.set(t.ip, until);
    }
    if (full && holds) {
      // The file says applied, but the firewall may never have got it (a crash before its ledger was
      // written, its ledger lost or a new firewall node): once per address, for its longest decision.
      const sending = new Set(changes.bans.map((b) => b.ip));
      for (const [ip, { until, ban }] of longest) {
        if (sending.has(ip) || holds(ip, until) !== false) continue;
        changes.bans.push(ban);
        changes.resent.push(ip);
      }
    }
    if (full) {
      // The whole set: what it does not list is gone, whatever the file said.
      for (const [ip, h] of this.held) {
        const still = listed.get(ip);
        if (!still) {
          h.clear();
          touched.add(ip);
        } else {
          for (const id of [...h.keys()]) if (!still.has(id)) h.delete(id);
        }
      }
    }
    for (const ip of touched) {
      const h = this.held.get(ip);
      if (h && h.size === 0) {
        this.held.delete(ip);
        changes.unbans.push({ action: 'unban', ip });
      }
    }
    // A ban sent in this answer is never followed by its own unban in it.
    const unbanned = new Set(changes.unbans.map((u) => u.ip));
    changes.bans = changes.bans.filter((b) => !unbanned.has(b.ip));
    changes.resent = changes.resent.filter((ip) => !unbanned.has(ip));
    if (touched.size) this.save();
    return changes;
  }

  /** Forgets everything (the node was removed); deletes the file. */
  discard(): void {
    this.held.clear();
    if (this.file) rmSync(this.file, { force: true });
  }
}
