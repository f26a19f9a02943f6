/**
 * The ban manager: applies bans through a backend, records them in the ledger first, lifts them when
 * they expire, restores them at start and puts back what the firewall lost (reconciliation).
 */
import { EventEmitter } from 'events';
import { parseAddressOrPrefix, tooWideToBan, type Address } from '../ip';
import type { BanRecord, Ledger } from '../ledger';
import type { FirewallEvent } from '../messages';
import { describeValue } from '../untrusted';
import type { BanRequest, FirewallBackend } from './backend';
import { selfConflict } from './self';

export interface BanInput {
  ip: unknown;
  /** Seconds, -1 for ever; the default bantime when missing. */
  bantime?: number;
  jail?: string;
  [extra: string]: unknown;
}

export interface ManagerOptions {
  backend: FirewallBackend;
  ledger: Ledger;
  jail: string;
  /** Seconds, -1 for ever. */
  defaultBantime: number;
  /** Seconds between reconciliations; 0 turns them off. */
  reconcile: number;
  /**
   * Why an address must not be banned (this machine's own), or null; the default refuses loopback and
   * this host's interface addresses, so a jail can never lock the machine out of itself.
   */
  protect?: (ip: Address) => string | null;
  /** Called with freshly banned addresses to drop their open connections (killConnections). */
  killConnections?: (ips: Address[]) => Promise<void>;
}

/** Fields of a ban decision that travel into the ledger and the events. */
const DECISION_FIELDS = ['failures', 'matches', 'banCount', 'host', 'prefix', 'reason', 'origin'] as const;

export class InvalidAddressError extends Error {}

/** A ban refused because it would lock this machine out of itself. */
export class ProtectedAddressError extends InvalidAddressError {}

interface PendingBan {
  record: BanRecord;
  resolve: (e: FirewallEvent) => void;
  reject: (err: Error) => void;
}

/** An address as the message gave it, with its canonical form when that differs ("1.2.3.4/0" (0.0.0.0/0)). */
function named(input: unknown, address: Address): string {
  return typeof input === 'string' && input.trim() === address.text ? address.text : `${describeValue(input)} (${address.text})`;
}

/** The addresses of ledger records (every record holds one that parsed when it was written). */
function addressesOf(records: BanRecord[]): Address[] {
  return records.map((r) => parseAddressOrPrefix(r.ip)).filter((a): a is Address => a !== null);
}

/** What the firewall must hold for `records`, each for the rest of its time (at least a second). */
function requestsFor(records: BanRecord[], now = Date.now()): BanRequest[] {
  return records.flatMap((r) => {
    const ip = parseAddressOrPrefix(r.ip);
    if (!ip) return [];
    const request: BanRequest = { ip, seconds: r.until === null ? -1 : Math.max(1, (r.until - now) / 1000) };
    if (typeof r.failures === 'number' && Number.isFinite(r.failures)) request.failures = r.failures;
    if (typeof r.banCount === 'number' && Number.isFinite(r.banCount)) request.banCount = r.banCount;
    return [request];
  });
}

/** Emits 'event' (FirewallEvent) for every ban, unban, restore, repair and error. */
export class BanManager extends EventEmitter {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: PendingBan[] = [];
  private flushScheduled = false;
  private flushTimer: NodeJS.Immediate | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private started = false;
  /** Why start() failed: bans are refused with it instead of reaching a backend that is not there. */
  private startError: Error | null = null;
  /** The last error from the backend, cleared by the next success. */
  lastError: string | null = null;
  repairs = 0;

  constructor(private readonly options: ManagerOptions) {
    super();
  }

  get backendName(): string {
    return this.options.backend.name;
  }

  /** How many bans are active (list().length, without sorting them). */
  activeCount(): number {
    const now = Date.now();
    let n = 0;
    for (const r of this.options.ledger.all()) if (r.until === null || r.until > now) n++;
    return n;
  }

  /** When the active ban on `ip` ends (epoch ms; null: never), or undefined when none is held (a bouncer's check after a restart). */
  heldUntil(ip: string): number | null | undefined {
    const address = parseAddressOrPrefix(ip);
    const r = address ? this.options.ledger.get(address.text) : undefined;
    if (!r || (r.until !== null && r.until <= Date.now())) return undefined;
    return r.until;
  }

  /** Active bans, soonest to end first. */
  list(): BanRecord[] {
    const now = Date.now();
    return this.options.ledger
      .all()
      .filter((r) => r.until === null || r.until > now)
      .sort((a, b) => (a.until ?? Infinity) - (b.until ?? Infinity));
  }

  /**
   * Starts the backend, then puts back unexpired bans from the ledger and lifts expired ones.
   * Bans asked for meanwhile wait in the queue and go to the firewall once it is ready.
   */
  start(): Promise<void> {
    const done = this.serial(() => this.startNow());
    // Whatever was asked for before or during the start goes out (or is refused) now.
    this.queue = this.queue.then(() => this.flush());
    return done;
  }

  private async startNow(): Promise<void> {
    const { backend, ledger } = this.options;
    try {
      await backend.start();
    } catch (err) {
      this.startError = err as Error;
      throw err;
    }
    this.started = true;
    const now = Date.now();
    const isExpired = (r: BanRecord) => !parseAddressOrPrefix(r.ip) || (r.until !== null && r.until <= now);
    const expired = ledger.all().filter(isExpired);
    // A ledger from before an address change may hold what is this machine's own address now.
    const refused = ledger.all().filter((r) => !isExpired(r) && this.conflict(r.ip));
    const active = ledger.all().filter((r) => !isExpired(r) && !this.conflict(r.ip));
    if (refused.length) {
      ledger.remove(refused.map((r) => r.ip));
      for (const r of refused) this.emit('event', { ...this.eventOf('error', r), error: `not restored: ${this.conflict(r.ip)}` });
    }
    if (expired.length) {
      await backend.unban(addressesOf(expired)).catch(() => undefined);
      ledger.remove(expired.map((r) => r.ip));
    }
    if (active.length) {
      await backend.ban(requestsFor(active, now));
      for (const record of active) this.emit('event', this.eventOf('restore', record));
    }
    this.expiryTimer = setInterval(() => void this.expire(), 1000);
    this.expiryTimer.unref();
    this.watchWaiting();
    if (this.options.reconcile > 0) {
      this.reconcileTimer = setInterval(() => void this.reconcile(), this.options.reconcile * 1000);
      this.reconcileTimer.unref();
    }
  }

  /**
   * While the backend waits for something another program owns (Docker's DOCKER-USER chain), the status
   * says why and the backend is started again every few seconds, until the bans it holds apply.
   */
  private watchWaiting(): void {
    const why = this.options.backend.waiting?.();
    if (!why) return;
    this.lastError = why;
    if (this.waitTimer) return;
    const seconds = this.options.reconcile > 0 ? Math.min(5, this.options.reconcile) : 5;
    this.waitTimer = setInterval(() => {
      void this.serial(async () => {
        await this.options.backend.start();
        const still = this.options.backend.waiting?.();
        this.lastError = still ?? null;
        if (!still && this.waitTimer) {
          clearInterval(this.waitTimer);
          this.waitTimer = null;
        }
      }).catch((err: Error) => {
        this.lastError = err.message;
      });
    }, seconds * 1000);
    this.waitTimer.unref();
  }

  /** Clears the last error after a success; what the backend still waits for stays. */
  private succeeded(): void {
    this.lastError = this.options.backend.waiting?.() ?? null;
  }

  /** Bans an address or prefix; rejects with InvalidAddressError for anything that is not one. */
  ban(input: BanInput): Promise<FirewallEvent> {
    const address = parseAddressOrPrefix(input.ip);
    if (!address) return Promise.reject(new InvalidAddressError(`refused to ban ${describeValue(input.ip)}: not an IPv4/IPv6 address or CIDR prefix`));
    const conflict = (this.options.protect ?? selfConflict)(address);
    if (conflict) return Promise.reject(new ProtectedAddressError(`refused to ban ${named(input.ip, address)}: ${conflict}; banning it would lock this machine out of itself`));
    const wide = tooWideToBan(address);
    if (wide) return Promise.reject(new InvalidAddressError(`refused to ban ${named(input.ip, address)}: ${wide}`));
    const bantime = typeof input.bantime === 'number' && (input.bantime > 0 || input.bantime === -1) ? input.bantime : this.options.defaultBantime;
    const now = Date.now();
    const record: BanRecord = {
      ip: address.text,
      jail: typeof input.jail === 'string' && input.jail ? input.jail : this.options.jail,
      start: now,
      until: bantime < 0 ? null : now + bantime * 1000,
      bantime,
    };
    for (const f of DECISION_FIELDS) if (input[f] !== undefined) (record as unknown as Record<string, unknown>)[f] = input[f];
    return this.enqueue(record);
  }

  /** Why the ledger's `ip` must not be banned, or null. */
  private conflict(ip: string): string | null {
    const address = parseAddressOrPrefix(ip);
    // A ledger edited by hand (or by an older version) may hold a prefix no ban may take.
    return address ? (this.options.protect ?? selfConflict)(address) ?? tooWideToBan(address) : null;
  }

  /** The error for bans asked of a backend whose start failed. */
  private notStarted(cause: Error): Error {
    return new Error(`the ${this.backendName} backend did not start: ${cause.message}`);
  }

  private enqueue(record: BanRecord): Promise<FirewallEvent> {
    if (this.startError) return Promise.reject(this.notStarted(this.startError));
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Bans that arrive in one turn of the event loop go to the ledger and the firewall in one batch
        // on the next: Node-RED hands each message over in a turn of its own, and a microtask per ban
        // would write the whole ledger once per ban without the event loop ever getting through.
        this.flushTimer = setImmediate(() => {
          this.flushTimer = null;
          this.queue = this.queue.then(() => this.flush());
        });
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (!this.started) {
      if (!this.startError) {
        // start() has not run yet: the batch waits for it (start flushes when it ends).
        this.pending.unshift(...batch);
        return;
      }
      const err = this.notStarted(this.startError);
      for (const b of batch) b.reject(err);
      return;
    }
    try {
      // The ledger first: a crash after this line still has the ban to restore.
      const records = batch.map((b) => b.record);
      this.options.ledger.put(records);
      try {
        await this.options.backend.ban(requestsFor(records));
      } catch {
        // The backend's table or set may have been flushed away since start: make it again, try once more.
        await this.options.backend.start();
        this.watchWaiting();
        await this.options.backend.ban(requestsFor(records));
      }
      this.succeeded();
      for (const b of batch) {
        const e = this.eventOf('ban', b.record);
        this.emit('event', e);
        b.resolve(e);
      }
      if (this.options.killConnections) {
        // The bans hold; a failure here only leaves old connections open, and the status says so.
        await this.options.killConnections(addressesOf(records)).catch((err: Error) => {
          this.lastError = err.message;
        });
      }
    } catch (err) {
      this.lastError = (err as Error).message;
      for (const b of batch) b.reject(err as Error);
    }
  }

  /** Lifts a ban. Resolves null when the address was not banned by this node. */
  unban(ip: unknown): Promise<FirewallEvent | null> {
    const address = parseAddressOrPrefix(ip);
    if (!address) return Promise.reject(new InvalidAddressError(`refused to unban ${describeValue(ip)}: not an IPv4/IPv6 address or CIDR prefix`));
    // Never banned (ban() refuses it), so there is nothing to lift, and it goes to no command.
    const wide = tooWideToBan(address);
    if (wide) return Promise.reject(new InvalidAddressError(`refused to unban ${named(ip, address)}: ${wide}`));
    // A ban asked for in this same turn must not land after its unban (and stay).
    this.flushNow();
    return this.serial(async () => {
      const rec = this.options.ledger.get(address.text);
      await this.options.backend.unban([address]);
      this.options.ledger.remove([address.text]);
      if (!rec) return null;
      const e = this.eventOf('unban', rec);
      this.emit('event', e);
      return e;
    });
  }

  /** Queues the batch waiting for the next turn now, ahead of what is queued after it. */
  private flushNow(): void {
    if (!this.flushTimer) return;
    clearImmediate(this.flushTimer);
    this.flushTimer = null;
    this.queue = this.queue.then(() => this.flush());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Lifts the bans whose time is up. */
  private expire(): Promise<void> {
    const now = Date.now();
    const due = this.options.ledger.all().filter((r) => r.until !== null && r.until <= now);
    if (due.length === 0) return Promise.resolve();
    return this.serial(async () => {
      try {
        await this.options.backend.unban(addressesOf(due));
      } catch (err) {
        this.lastError = (err as Error).message;
        this.emit('event', { ...this.eventOf('error', due[0]), error: `lifting expired bans: ${this.lastError}` });
        return;
      }
      this.options.ledger.remove(due.map((r) => r.ip));
      for (const r of due) this.emit('event', this.eventOf('unban', r));
    }).catch(() => undefined);
  }

  /** Puts back every unexpired ban the firewall no longer holds (a flush, a reload, a reboot). */
  reconcile(): Promise<number> {
    if (!this.started) return Promise.resolve(0);
    return this.serial(async () => {
      const backend = this.options.backend;
      // A list that fails means the backend's own objects are gone (a flushed ruleset): make them again.
      const held = new Set(
        await backend.list().catch(async () => {
          await backend.start();
          this.watchWaiting();
          return backend.list();
        }),
      );
      const now = Date.now();
      const missing = this.options.ledger.all().filter((r) => !held.has(r.ip) && (r.until === null || r.until > now + 1000));
      if (missing.length === 0) return 0;
      // The chain may be gone while a set survived: make sure the rules are there too.
      await backend.start();
      await backend.ban(requestsFor(missing, now));
      this.watchWaiting();
      this.repairs += missing.length;
      this.succeeded();
      for (const r of missing) this.emit('event', this.eventOf('repair', r));
      return missing.length;
    }).catch((err: Error) => {
      this.lastError = `reconcile: ${err.message}`;
      return 0;
    });
  }

  eventOf(event: FirewallEvent['event'], r: BanRecord): FirewallEvent {
    return { ...r, event, ip: r.ip, jail: r.jail, bantime: r.bantime, until: r.until, backend: this.backendName };
  }

  /** Stops timers; lifts this node's bans when `removeBans`. Waits for queued work. */
  async stop(removeBans: boolean): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    if (this.waitTimer) clearInterval(this.waitTimer);
    this.waitTimer = null;
    // Bans asked for just now still go out before the stop.
    this.flushNow();
    await this.queue.catch(() => undefined);
    if (!this.started) return;
    if (removeBans) {
      const all = this.options.ledger.all();
      await this.options.backend.unban(addressesOf(all)).catch(() => undefined);
      this.options.ledger.remove(all.map((r) => r.ip));
    }
    await this.options.backend.stop(removeBans);
  }
}
