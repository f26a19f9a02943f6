/**
 * Per-offender failure windows: fail2ban's maxretry within findtime, the ban decision with its length
 * (bantime.increment), ban counts per offender, and subnet aggregation.
 *
 * Memory is kept small for a flood of distinct addresses: an offender with one failure costs a map
 * entry, a slot in a few flat arrays and its line; only offenders with several failures get an object.
 */
import { ipv4Value, parseAddressOrPrefix, prefixOf, WIDEST_BAN_PREFIX } from '../ip';
import { banTimeFor, failureWeight, type IncrementPolicy } from './policy';

export interface SubnetPolicy {
  /** Prefix length that collects banned IPv4 offenders (e.g. 24); null = no IPv4 aggregation. */
  v4: number | null;
  /** Prefix length that collects banned IPv6 offenders (e.g. 48); null = no IPv6 aggregation. */
  v6: number | null;
  /** Offenders banned at the same time within one prefix that make it one prefix ban. */
  threshold: number;
}

export interface WindowPolicy {
  maxretry: number;
  /** Seconds. */
  findtime: number;
  /** Seconds, -1 for ever. */
  bantime: number;
  /** Offenders kept at most; the ones closest to expiry are dropped first. Ban records are capped at this too. */
  maxEntries: number;
  /** bantime.increment; null or absent = off. */
  increment?: IncrementPolicy | null;
  /** Subnet aggregation; null or absent (or threshold 0) = off. */
  subnet?: SubnetPolicy | null;
}

export interface Decision {
  key: string;
  /** Seconds, -1 for ever. */
  bantime: number;
  failures: number;
  matches: string[];
  /** This offender's bans so far, this one included. */
  banCount: number;
  /** Epoch ms of the failure that triggered it. */
  time: number;
  /** A ban of a whole prefix that this ban completed (subnet aggregation). */
  prefixBan?: Decision;
}

/** What the window module remembers of an offender's bans. */
export interface BanHistory {
  /** Bans so far. */
  count: number;
  /** Epoch ms of the last ban. */
  time: number;
  /** Seconds of the last ban, -1 for ever. */
  bantime: number;
  /** Failures that led to the last ban. */
  failures: number;
}

/** A change of state, in the order it happened: what a journal needs to rebuild the module. */
export type JournalRecord =
  | ['f', string, number, string, number] // failure: key, time, line, weight
  | ['b', string, number, number, number, number] // ban: key, count, time, bantime, failures
  | ['x', string]; // offender forgotten

/** Told every change of state, in order (see WindowStore). */
export interface JournalSink {
  failure(key: string, time: number, line: string, weight: number): void;
  ban(key: string, count: number, time: number, bantime: number, failures: number): void;
  forget(key: string): void;
}

/** The whole state, for a snapshot. */
export interface WindowState {
  /** key, failure times, their lines, their weights (null = all 1). */
  offenders: Array<[string, number[], string[], number[] | null]>;
  /** key, count, time, bantime, failures. */
  bans: Array<[string, number, number, number, number]>;
}

/** Several failures of one offender, oldest first. */
interface History {
  times: number[];
  lines: string[];
  /** Weight of each failure; null while every one weighs 1. */
  weights: number[] | null;
  /** Sum of the weights. */
  total: number;
}

interface Member {
  /** Epoch ms when the member's ban ends; Infinity for ever. */
  until: number;
  time: number;
  failures: number;
  matches: string[];
}

/** Lines longer than this are cut when kept (an attacker chooses their length). */
export const MAX_KEPT_LINE = 1000;
/** A ban record is forgotten this long after 3 × its ban time has passed (fail2ban forgets bad IPs likewise). */
const BAN_MEMORY_MS = 24 * 3600 * 1000;
const INITIAL = 1024;

/**
 * The index key of an offender: an IPv4 address in canonical dotted form ("192.0.2.1": no leading
 * zeros) becomes the signed 32-bit number of its bits; anything else stays the string itself.
 */
export function indexKey(key: string): string | number {
  const value = ipv4Value(key);
  return value < 0 ? key : value | 0;
}

/** The text of an index key (see indexKey). */
export function keyText(k: string | number): string {
  if (typeof k === 'string') return k;
  return `${(k >>> 24) & 255}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

export class FailureWindows {
  /**
   * Key -> slot. A slot holds an offender's failure window, its ban record, or both. An IPv4 address
   * in canonical form is kept as a 32-bit number (no string to keep, a cheaper hash); see indexKey().
   */
  private readonly index = new Map<string | number, number>();
  /** Slot -> key as in the index; undefined for a free slot. */
  private keys: Array<string | number | undefined> = [];
  /** Slot -> its one line (string; undefined = no line) or, for several failures or a weight, a History. */
  private data: Array<string | History | undefined> = [];
  /** Slot -> 1 while it has failures in its window. */
  private open = new Uint8Array(INITIAL);
  /** Slot -> epoch ms of its newest failure. */
  private newest = new Float64Array(INITIAL);
  /** Slot -> what is remembered of its bans, if it was banned. */
  private bansOf: Array<BanHistory | undefined> = [];
  private readonly free: number[] = [];
  private windows = 0;
  private banned = 0;
  /**
   * Expiry queue: (slot, newest) in the order failures came, i.e. the next to expire or to evict first.
   * Entries go stale when their offender fails again or leaves; stale ones are skipped and compacted away.
   */
  private qSlot = new Int32Array(INITIAL);
  private qTime = new Float64Array(INITIAL);
  private qHead = 0;
  private qTail = 0;

  /** Aggregation prefix -> its currently banned members. */
  private readonly members = new Map<string, Map<string, Member>>();
  private readonly findtimeMs: number;
  private readonly maxretry: number;
  private readonly increment: IncrementPolicy | null;
  private readonly subnet: SubnetPolicy | null;

  /** Offenders dropped because maxEntries was reached. */
  evicted = 0;
  /** Ban records dropped because maxEntries was reached. */
  bansEvicted = 0;
  /** Told every change of state (a journal); null = nobody listens. */
  journal: JournalSink | null = null;
  /** Asked before a prefix ban is made (e.g. "does it cover a never-ban address?"). */
  prefixAllowed: (prefix: string) => boolean = () => true;
  /** Random numbers in [0, 1) for rndtime. */
  random: () => number = Math.random;

  constructor(readonly policy: WindowPolicy) {
    if (!Number.isInteger(policy.maxretry) || policy.maxretry < 1) throw new Error(`maxretry must be a whole number of at least 1 (got ${policy.maxretry})`);
    if (!(policy.findtime > 0)) throw new Error(`findtime must be positive (got ${policy.findtime})`);
    if (!(policy.bantime > 0 || policy.bantime === -1)) throw new Error(`bantime must be positive, or -1 for ever (got ${policy.bantime})`);
    if (!Number.isInteger(policy.maxEntries) || policy.maxEntries < 1) throw new Error(`maxEntries must be a whole number of at least 1 (got ${policy.maxEntries})`);
    const inc = policy.increment ?? null;
    if (inc) {
      if (!(inc.factor > 0)) throw new Error(`factor must be a positive number (got ${inc.factor})`);
      if (inc.multipliers.some((m) => !(m > 0))) throw new Error('multipliers must be positive numbers');
      if (inc.maxtime !== null && !(inc.maxtime > 0)) throw new Error(`maxtime must be positive (got ${inc.maxtime})`);
      if (inc.rndtime !== null && !(inc.rndtime >= 0)) throw new Error(`rndtime must not be negative (got ${inc.rndtime})`);
    }
    const sub = policy.subnet ?? null;
    if (sub && sub.threshold > 0) {
      if (!Number.isInteger(sub.threshold)) throw new Error(`subnetThreshold must be a whole number (got ${sub.threshold})`);
      // A prefix ban is never wider than what the firewall-ban manager accepts.
      const [w4, w6] = [WIDEST_BAN_PREFIX[4], WIDEST_BAN_PREFIX[6]];
      if (sub.v4 !== null && !(Number.isInteger(sub.v4) && sub.v4 >= w4 && sub.v4 <= 32)) throw new Error(`subnetV4 must be a prefix length from ${w4} to 32 (got ${sub.v4})`);
      if (sub.v6 !== null && !(Number.isInteger(sub.v6) && sub.v6 >= w6 && sub.v6 <= 128)) throw new Error(`subnetV6 must be a prefix length from ${w6} to 128 (got ${sub.v6})`);
    }
    this.findtimeMs = policy.findtime * 1000;
    this.maxretry = policy.maxretry;
    this.increment = inc;
    this.subnet = sub && sub.threshold > 0 && (sub.v4 !== null || sub.v6 !== null) ? sub : null;
  }

  /** Offenders with failures in their window. */
  get size(): number {
    return this.windows;
  }

  /** Offenders whose bans are remembered (for bantime.increment). */
  get banRecords(): number {
    return this.banned;
  }

  /** What is remembered of `key`'s bans. */
  banRecord(key: string): BanHistory | undefined {
    const slot = this.index.get(indexKey(key));
    return slot === undefined ? undefined : this.bansOf[slot];
  }

  /**
   * Counts a failure of `key` at `time` (epoch ms). Returns a ban decision when the failures within
   * findtime reach maxretry. Not counted: a failure older than findtime before `now` (a replayed old
   * log does not ban today), and one not newer than this offender's last ban (already counted).
   * With increment on, a failure of an offender banned before weighs more (see failureWeight).
   */
  add(key: string, time: number, line: string | undefined, now = Date.now()): Decision | null {
    if (time <= now - this.findtimeMs) return null;
    const slot = this.index.get(indexKey(key));
    let weight = 1;
    if (slot !== undefined) {
      const record = this.bansOf[slot];
      if (record !== undefined) {
        if (time <= record.time) return null;
        if (this.increment) weight = failureWeight(record.count, this.maxretry);
      }
    }
    const text = line === undefined ? '' : line.length > MAX_KEPT_LINE ? line.slice(0, MAX_KEPT_LINE) : line;
    if (this.journal) this.journal.failure(key, time, text, weight);
    return this.count(key, slot, time, text, weight, now, true);
  }

  /** Puts back a failure from a journal: counted like add(), but never decides a ban. */
  restoreFailure(key: string, time: number, line: string, weight: number, now = Date.now()): void {
    if (time <= now - this.findtimeMs) return;
    const slot = this.index.get(indexKey(key));
    const record = slot === undefined ? undefined : this.bansOf[slot];
    if (record && time <= record.time) return;
    this.count(key, slot, time, line, weight > 0 ? weight : 1, now, false);
  }

  /** Puts back a ban from a journal or a snapshot: the ban record, and the offender's window emptied. */
  restoreBan(key: string, count: number, time: number, bantime: number, failures: number, now = Date.now()): void {
    const record: BanHistory = { count, time, bantime, failures };
    let slot = this.index.get(indexKey(key));
    if (slot !== undefined && this.open[slot]) this.closeWindow(slot);
    slot = this.index.get(indexKey(key));
    if (this.forgetAt(record) <= now) {
      if (slot !== undefined && this.bansOf[slot]) this.dropBan(slot);
      return;
    }
    this.remember(key, slot, record);
    if (this.subnet) {
      const prefix = this.aggregateOf(key);
      if (prefix) this.join(prefix, key, record, [], now, false);
    }
    this.capBans(now);
  }

  private count(key: string, slot: number | undefined, time: number, line: string, weight: number, now: number, decide: boolean): Decision | null {
    const maxretry = this.maxretry;
    if (slot === undefined || this.open[slot] === 0) {
      if (weight >= maxretry && decide) return this.ban(key, [time], [line], time, now);
      if (this.windows >= this.policy.maxEntries) {
        this.evict(now);
        slot = this.index.get(indexKey(key)); // the slot may have been freed meanwhile
      }
      if (slot === undefined) slot = this.allocate(key);
      this.open[slot] = 1;
      this.windows++;
      this.newest[slot] = time;
      this.data[slot] = weight === 1 ? line : { times: [time], lines: [line], weights: [weight], total: weight };
      this.enqueue(slot, time);
      return null;
    }

    let h = this.data[slot];
    if (typeof h !== 'object') {
      h = { times: [this.newest[slot]], lines: [h ?? ''], weights: null, total: 1 };
      this.data[slot] = h;
    }
    const times = h.times;
    let at = times.length;
    // Failures may come slightly out of order (several files): keep the window sorted by time.
    while (at > 0 && times[at - 1] > time) at--;
    if (weight !== 1 && !h.weights) h.weights = times.map(() => 1);
    if (at === times.length) {
      times.push(time);
      h.lines.push(line);
      h.weights?.push(weight);
    } else {
      times.splice(at, 0, time);
      h.lines.splice(at, 0, line);
      h.weights?.splice(at, 0, weight);
    }
    h.total += weight;
    const newest = times[times.length - 1];
    const horizon = newest - this.findtimeMs;
    let drop = 0;
    while (drop < times.length && times[drop] <= horizon) {
      h.total -= h.weights ? h.weights[drop] : 1;
      drop++;
    }
    if (drop > 0) {
      times.splice(0, drop);
      h.lines.splice(0, drop);
      h.weights?.splice(0, drop);
    }
    if (h.total >= maxretry && decide) return this.ban(key, times, h.lines, time, now);
    if (newest !== this.newest[slot]) {
      this.newest[slot] = newest;
      this.enqueue(slot, newest);
    }
    return null;
  }

  /** Decides a ban of `key` (an offender or an aggregation prefix), remembers it and empties its window. */
  private ban(key: string, times: number[], lines: string[], time: number, now: number): Decision {
    const before = this.banRecord(key);
    // While the last ban still runs, the decision is sent again as it was (the firewall may have lost
    // it); it is no new ban and does not lengthen the next one.
    const running = before !== undefined && (before.bantime < 0 || before.time + before.bantime * 1000 > time);
    const count = running ? before!.count : (before?.count ?? 0) + 1;
    const bantime = running ? before!.bantime : banTimeFor(this.policy.bantime, count - 1, this.increment, this.random);
    const matches = lines.filter((l) => l !== '');
    const failures = times.length;
    const record: BanHistory = { count, time, bantime, failures };
    this.remember(key, this.index.get(indexKey(key)), record);
    const slot = this.index.get(indexKey(key))!;
    if (this.open[slot]) this.closeWindow(slot);
    if (this.journal) this.journal.ban(key, count, time, bantime, failures);
    const decision: Decision = { key, bantime, failures, matches, banCount: count, time };
    if (this.subnet && !running) {
      const prefix = this.aggregateOf(key);
      if (prefix) {
        const prefixBan = this.join(prefix, key, record, matches, now);
        if (prefixBan) decision.prefixBan = prefixBan;
      }
    }
    this.capBans(now);
    return decision;
  }

  /** Sets the ban record of `key`, taking a slot for it when it has none. */
  private remember(key: string, slot: number | undefined, record: BanHistory): void {
    if (slot === undefined) slot = this.allocate(key);
    if (this.bansOf[slot] === undefined) this.banned++;
    this.bansOf[slot] = record;
  }

  /** The aggregation prefix of an offender, or null (not an address, no aggregation for its family, already as wide). */
  private aggregateOf(key: string): string | null {
    const sub = this.subnet;
    if (!sub) return null;
    const addr = parseAddressOrPrefix(key);
    if (!addr) return null;
    const len = addr.family === 4 ? sub.v4 : sub.v6;
    if (len === null || addr.prefix <= len) return null;
    return prefixOf(addr, len);
  }

  /** Adds a banned offender to its prefix; returns the prefix ban when the prefix has enough of them (and `decide`). */
  private join(prefix: string, key: string, record: BanHistory, matches: string[], now: number, decide = true): Decision | null {
    let group = this.members.get(prefix);
    if (!group) {
      group = new Map();
      this.members.set(prefix, group);
    }
    group.set(key, { until: record.bantime < 0 ? Infinity : record.time + record.bantime * 1000, time: record.time, failures: record.failures, matches });
    const prefixRecord = this.banRecord(prefix);
    const since = prefixRecord ? prefixRecord.time : -Infinity;
    for (const [k, m] of group) if (m.until <= now || m.time <= since) group.delete(k);
    if (!decide || group.size < this.subnet!.threshold) return null;
    if (prefixRecord && (prefixRecord.bantime < 0 || prefixRecord.time + prefixRecord.bantime * 1000 > record.time)) return null;
    if (!this.prefixAllowed(prefix)) return null;
    const times: number[] = [];
    const lines: string[] = [];
    for (const m of group.values()) {
      for (let i = 0; i < m.failures; i++) times.push(m.time);
      lines.push(...m.matches);
    }
    this.members.delete(prefix);
    return this.ban(prefix, times, lines, record.time, now);
  }

  /** When a ban record may be forgotten: a day after three times its ban has passed; never for a permanent ban. */
  private forgetAt(record: BanHistory): number {
    return record.bantime < 0 ? Infinity : record.time + 3 * record.bantime * 1000 + BAN_MEMORY_MS;
  }

  /** Keeps the ban records within maxEntries: forgotten ones go, then those that would be forgotten first. */
  private capBans(now: number): void {
    if (this.banned <= this.policy.maxEntries) return;
    this.sweepBans(now);
    if (this.banned <= this.policy.maxEntries) return;
    const target = Math.floor(this.policy.maxEntries * 0.9);
    const slots: number[] = [];
    for (let slot = 0; slot < this.bansOf.length; slot++) if (this.bansOf[slot]) slots.push(slot);
    slots.sort((a, b) => this.forgetAt(this.bansOf[a]!) - this.forgetAt(this.bansOf[b]!));
    for (let i = 0; i < slots.length - target; i++) {
      this.dropBan(slots[i]);
      this.bansEvicted++;
    }
  }

  private sweepBans(now: number): void {
    for (let slot = 0; slot < this.bansOf.length; slot++) {
      const record = this.bansOf[slot];
      if (record && this.forgetAt(record) <= now) this.dropBan(slot);
    }
    for (const [prefix, group] of this.members) {
      for (const [k, m] of group) if (m.until <= now) group.delete(k);
      if (group.size === 0) this.members.delete(prefix);
    }
  }

  private allocate(key: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.keys.length;
      this.keys.push(undefined);
      this.data.push(undefined);
      this.bansOf.push(undefined);
      if (slot >= this.newest.length) {
        const newest = new Float64Array(this.newest.length * 2);
        newest.set(this.newest);
        this.newest = newest;
        const open = new Uint8Array(this.open.length * 2);
        open.set(this.open);
        this.open = open;
      }
    }
    const k = indexKey(key);
    this.keys[slot] = k;
    this.index.set(k, slot);
    return slot;
  }

  /** Empties a slot's window (banned, expired, evicted, forgotten); frees the slot unless it holds a ban record. */
  private closeWindow(slot: number): void {
    this.open[slot] = 0;
    this.data[slot] = undefined;
    this.windows--;
    if (this.bansOf[slot] === undefined) this.freeSlot(slot);
  }

  private dropBan(slot: number): void {
    this.bansOf[slot] = undefined;
    this.banned--;
    if (this.open[slot] === 0) this.freeSlot(slot);
  }

  private freeSlot(slot: number): void {
    this.index.delete(this.keys[slot]!);
    this.keys[slot] = undefined;
    this.free.push(slot);
  }

  private enqueue(slot: number, time: number): void {
    if (this.qTail === this.qSlot.length) this.compactQueue();
    this.qSlot[this.qTail] = slot;
    this.qTime[this.qTail] = time;
    this.qTail++;
  }

  /** An entry is current while its slot has a window and its offender has not failed again since. */
  private isCurrent(i: number): boolean {
    const slot = this.qSlot[i];
    return this.open[slot] === 1 && this.newest[slot] === this.qTime[i];
  }

  /**
   * Called when the queue is full: keeps only its current entries (at most one per offender), and
   * grows it when they still fill more than half. Amortised O(1) per failure.
   */
  private compactQueue(): void {
    let out = 0;
    for (let i = this.qHead; i < this.qTail; i++) {
      if (!this.isCurrent(i)) continue;
      this.qSlot[out] = this.qSlot[i];
      this.qTime[out] = this.qTime[i];
      out++;
    }
    this.qHead = 0;
    this.qTail = out;
    if (out * 2 > this.qSlot.length) {
      const slots = new Int32Array(this.qSlot.length * 2);
      const times = new Float64Array(this.qSlot.length * 2);
      slots.set(this.qSlot.subarray(0, out));
      times.set(this.qTime.subarray(0, out));
      this.qSlot = slots;
      this.qTime = times;
    }
  }

  /** Index of the first current queue entry, skipping stale ones; -1 when none. */
  private front(): number {
    while (this.qHead < this.qTail) {
      if (this.isCurrent(this.qHead)) return this.qHead;
      this.qHead++;
    }
    this.qHead = 0;
    this.qTail = 0;
    return -1;
  }

  /** Drops offenders whose newest failure left the window, and ban records past their memory. */
  expire(now = Date.now()): number {
    const dropped = this.expireWindows(now);
    if (this.banned > 0) this.sweepBans(now);
    return dropped;
  }

  private expireWindows(now: number): number {
    const horizon = now - this.findtimeMs;
    let dropped = 0;
    for (let i = this.front(); i >= 0 && this.qTime[i] <= horizon; i = this.front()) {
      this.closeWindow(this.qSlot[i]);
      this.qHead++;
      dropped++;
    }
    return dropped;
  }

  /** Makes room: first what has expired, then the offender whose window ends soonest. */
  private evict(now: number): void {
    if (this.expireWindows(now) > 0) return;
    const i = this.front();
    if (i >= 0) {
      this.closeWindow(this.qSlot[i]);
      this.qHead++;
      this.evicted++;
    }
  }

  /** Forgets one offender's failures (e.g. after a manual unban). */
  forget(key: string): void {
    const slot = this.index.get(indexKey(key));
    if (slot === undefined || !this.open[slot]) return;
    this.closeWindow(slot);
    if (this.journal) this.journal.forget(key);
  }

  /** Calls `fn` with every offender's failures (times, lines, weights or null when all weigh 1). */
  forEachOffender(fn: (key: string, times: number[], lines: string[], weights: number[] | null) => void): void {
    for (const [k, slot] of this.index) {
      if (!this.open[slot]) continue;
      const key = keyText(k);
      const h = this.data[slot];
      if (typeof h === 'object') fn(key, h.times, h.lines, h.weights);
      else fn(key, [this.newest[slot]], [h ?? ''], null);
    }
  }

  /** Calls `fn` with every remembered ban. */
  forEachBan(fn: (key: string, record: BanHistory) => void): void {
    for (const [k, slot] of this.index) {
      const record = this.bansOf[slot];
      if (record) fn(keyText(k), record);
    }
  }

  /** Every offender's failures, one at a time, for a snapshot written in slices (the windows must not change meanwhile). */
  *offenders(): Generator<[string, number[], string[], number[] | null]> {
    for (const [k, slot] of this.index) {
      if (!this.open[slot]) continue;
      const h = this.data[slot];
      if (typeof h === 'object') yield [keyText(k), h.times, h.lines, h.weights];
      else yield [keyText(k), [this.newest[slot]], [h ?? ''], null];
    }
  }

  /** Every remembered ban, one at a time (as offenders()). */
  *bans(): Generator<[string, BanHistory]> {
    for (const [k, slot] of this.index) {
      const record = this.bansOf[slot];
      if (record) yield [keyText(k), record];
    }
  }

  /** The whole state, for a snapshot (see restore()). */
  state(): WindowState {
    const offenders: WindowState['offenders'] = [];
    this.forEachOffender((key, times, lines, weights) => offenders.push([key, times.slice(), lines.slice(), weights ? weights.slice() : null]));
    const bans: WindowState['bans'] = [];
    this.forEachBan((key, r) => bans.push([key, r.count, r.time, r.bantime, r.failures]));
    return { offenders, bans };
  }

  /** Loads a snapshot taken by state(), dropping what has expired since. */
  restore(state: WindowState, now = Date.now()): void {
    for (const [key, count, time, bantime, failures] of state.bans ?? []) this.restoreBan(key, count, time, bantime, failures, now);
    for (const [key, times, lines, weights] of state.offenders ?? []) {
      for (let i = 0; i < times.length; i++) this.restoreFailure(key, times[i], lines[i] ?? '', weights ? weights[i] : 1, now);
    }
  }
}
