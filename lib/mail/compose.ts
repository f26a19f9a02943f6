/** What one mail of the outbox says: a templated mail for one event, a digest for several, whois added. */
import { parseAddressOrPrefix } from '../ip';
import { renderDigest } from './digest';
import { addressOf, type MailEvent } from './event';
import type { Batch } from './outbox';
import { renderMail, type RenderedMail, type WhoisResult } from './render';
import { whoisLookup, type WhoisOptions } from './whois';

/** whois lookups per digest mail at most. */
export const WHOIS_PER_DIGEST = 5;

/**
 * whois answers by address, kept an hour (a failure a minute), so that a mail tried again or a
 * second ban of the same address does not ask again. Bounded in size.
 */
export class WhoisCache {
  private readonly entries = new Map<string, { until: number; result: WhoisResult }>();

  constructor(
    private readonly options: WhoisOptions,
    private readonly maxEntries = 500,
  ) {}

  /** The answer for `ip` (an address or prefix that parsed as IP), or why there is none; never rejects. */
  async lookup(ip: string): Promise<WhoisResult> {
    const hit = this.entries.get(ip);
    if (hit && hit.until > Date.now()) return hit.result;
    let result: WhoisResult;
    let ttl = 3600_000;
    try {
      const answer = await whoisLookup(ip, this.options);
      result = { server: answer.server, text: answer.text, cut: answer.cut };
    } catch (err) {
      result = { error: `no answer (${(err as Error).message}); the mail is sent without it` };
      ttl = 60_000;
    }
    this.entries.delete(ip);
    this.entries.set(ip, { until: Date.now() + ttl, result });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }
}

export interface ComposeOptions {
  subject?: string;
  body?: string;
  /** Ask whois about the addresses; null: no whois. */
  whois: WhoisCache | null;
}

/** The address of an event as whois can be asked about it, or null. */
function whoisAddress(e: MailEvent): string | null {
  const a = parseAddressOrPrefix(addressOf(e.msg));
  return a ? a.text : null;
}

/** The mail for a batch of the outbox: one event through the templates, several as a digest. */
export async function composeMail(batch: Batch<MailEvent>, options: ComposeOptions): Promise<RenderedMail> {
  const { whois } = options;
  if (batch.items.length === 1 && Object.keys(batch.more).length === 0) {
    const e = batch.items[0];
    let answer: WhoisResult | undefined;
    if (whois) {
      const ip = whoisAddress(e);
      answer = ip ? await whois.lookup(ip) : { error: `"${addressOf(e.msg)}" is not an IP address, no whois` };
    }
    return renderMail(e.msg, options.subject, options.body, answer);
  }
  const answers = new Map<string, WhoisResult>();
  if (whois) {
    const ips = [...new Set(batch.items.map(whoisAddress).filter((a): a is string => a !== null))].slice(0, WHOIS_PER_DIGEST);
    const results = await Promise.all(ips.map((ip) => whois.lookup(ip)));
    ips.forEach((ip, i) => answers.set(ip, results[i]));
  }
  return renderDigest(batch.items, batch.more, { whois: answers });
}
