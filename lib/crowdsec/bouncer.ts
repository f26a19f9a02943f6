/**
 * The bouncer's side: follows GET /v1/decisions/stream, `startup=true` first (every decision there is),
 * then only the changes, every `intervalMs`. After any failure (the API down or restarted, a wrong key)
 * the next poll asks for the full set again, so that nothing is missed and the DecisionSet compares.
 * Emits 'changes' (StreamChanges), 'failed' (LapiError, advice) and 'ok' (after a poll that worked).
 */
import { EventEmitter } from 'events';
import { lapiRequest, LapiError } from './client';
import { DecisionSet, type FirewallHolds } from './stream';

/** What a person should do about a failed poll. */
export function streamAdvice(err: unknown): string {
  if (err instanceof LapiError) {
    if (err.status === 403 || err.status === 401) return 'the Local API refused the bouncer key: make one with cscli bouncers add NAME and put it in the crowdsec-lapi node';
    if (err.status === 0) return 'the Local API is not answering: is crowdsec running, and the URL right? Trying again';
    return `${err.message}; trying again`;
  }
  return `${err instanceof Error ? err.message : String(err)}; trying again`;
}

/** The same in a node's status (60 characters at most). */
export function streamStatus(err: unknown): string {
  if (err instanceof LapiError) {
    if (err.status === 403 || err.status === 401) return `key refused (${err.status}): cscli bouncers add, key in crowdsec-lapi`;
    if (err.status === 0) return 'Local API not answering: is crowdsec running? retrying';
    return `Local API answered ${err.status}; retrying`;
  }
  return 'Local API failed; retrying (see the log)';
}

export class DecisionStream extends EventEmitter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private full = true;
  /** The first full answer after start() is checked against the firewall (`holds`), later ones are not. */
  private checkFirewall = true;
  /** Polls that worked, and the last failure (null once one works again). */
  polls = 0;
  lastError: LapiError | Error | null = null;

  constructor(
    private readonly base: string,
    private readonly apiKey: string,
    readonly decisions: DecisionSet,
    private readonly intervalMs: number,
    private readonly holds?: FirewallHolds,
  ) {
    super();
  }

  start(): void {
    this.stopped = false;
    this.checkFirewall = true;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.poll().finally(() => {
        this.running = null;
        this.schedule(this.intervalMs);
      });
    }, ms);
  }

  /** One poll of the stream. */
  private async poll(): Promise<void> {
    const full = this.full;
    let answer: unknown;
    try {
      if (!this.apiKey) throw new LapiError('no bouncer API key', 403);
      answer = await lapiRequest(this.base, `/v1/decisions/stream?startup=${full}`, { headers: { 'X-Api-Key': this.apiKey } });
    } catch (err) {
      this.full = true;
      this.lastError = err as Error;
      this.emit('failed', err, streamAdvice(err));
      return;
    }
    if (this.stopped) {
      // Stopped while asking: this answer's changes would be lost with the node, so the next start asks again.
      return;
    }
    this.full = false;
    this.lastError = null;
    this.polls++;
    const changes = this.decisions.apply(answer, full, Date.now(), full && this.checkFirewall ? this.holds : undefined);
    if (full) this.checkFirewall = false;
    this.emit('changes', changes, full);
    this.emit('ok');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
