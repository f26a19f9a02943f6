/** The text of a notification: Mustache templates over the message, with a fail2ban-like default. */
import Mustache from 'mustache';
import { formatDuration } from '../duration';
import { cleanUntrusted } from './whois';

export const DEFAULT_SUBJECT = '[fail2ban] {{payload.jail}}: {{payload.event}} {{payload.ip}}';

export const DEFAULT_BODY = `Hi,

{{payload.event}}: {{payload.ip}} in jail {{payload.jail}}{{#bantimeText}} for {{bantimeText}}{{/bantimeText}}{{#failures}} after {{failures}} failures{{/failures}}.
{{#untilText}}
Until: {{untilText}}
{{/untilText}}
{{#payload.backend}}
Firewall backend: {{payload.backend}}
{{/payload.backend}}
{{#payload.error}}
Error: {{payload.error}}
{{/payload.error}}
{{#hasMatches}}

The log lines that caused it:
{{#payload.matches}}
  {{.}}
{{/payload.matches}}
{{/hasMatches}}
{{#whois}}

whois answer for {{payload.ip}} from {{whoisServer}} (quoted as received):
{{whois}}
{{/whois}}
{{#whoisError}}

whois: {{whoisError}}
{{/whoisError}}

Regards,
Node-RED fail2ban
`;

export interface RenderedMail {
  subject: string;
  text: string;
}

/** What a whois lookup gave for the mail: an answer, or why there is none. */
export interface WhoisResult {
  server?: string;
  text?: string;
  cut?: boolean;
  error?: string;
}

/** Checks that a template parses; throws with the template's name and Mustache's reason. */
export function checkTemplate(template: unknown, what: string): void {
  if (typeof template !== 'string' || !template.trim()) return;
  try {
    Mustache.parse(template);
  } catch (err) {
    throw new Error(`${what} template: ${(err as Error).message}`);
  }
}

/** Untrusted text as a quotation: each line behind "> ", so it cannot pass for the mail's own text. */
export function quote(text: string): string {
  return text.replace(/\n+$/, '').split('\n').map((l) => `> ${l}`).join('\n');
}

/** The whois part of a mail's view: `whois` (quoted answer), `whoisServer`, `whoisError`. */
export function whoisView(w: WhoisResult | undefined): Record<string, string> {
  if (!w) return { whois: '', whoisServer: '', whoisError: '' };
  const text = w.text === undefined ? '' : quote(cleanUntrusted(w.text)) + (w.cut ? '\n[answer cut at 16 KiB]' : '');
  return { whois: text, whoisServer: w.server ?? '', whoisError: w.error ?? (w.text !== undefined && !w.text.trim() ? `empty answer from ${w.server}` : '') };
}

/**
 * Renders subject and body (plain text: nothing is HTML-escaped; values are inserted as they are and
 * never read as templates). Control characters are removed from the result, the subject is one line.
 * With a whois answer and a body that does not mention whois, the answer is appended.
 */
export function renderMail(msg: Record<string, unknown>, subject?: string, body?: string, whois?: WhoisResult): RenderedMail {
  const payload = (msg.payload !== null && typeof msg.payload === 'object' ? msg.payload : {}) as Record<string, unknown>;
  const bantime = typeof payload.bantime === 'number' ? payload.bantime : undefined;
  const until = typeof payload.until === 'number' ? payload.until : undefined;
  const w = whoisView(whois);
  // A ban decision straight from threshold-window says action and host where firewall-ban says event and ip.
  const filled = msg.payload !== null && typeof msg.payload === 'object' && !Array.isArray(msg.payload)
    ? { payload: { ...payload, event: payload.event ?? payload.action ?? 'event', ip: payload.ip ?? payload.host ?? msg.topic ?? '' } }
    : {};
  const view = {
    ...msg,
    ...filled,
    bantimeText: bantime === undefined ? '' : bantime < 0 ? 'ever' : formatDuration(bantime),
    untilText: until === undefined ? '' : new Date(until).toISOString(),
    failures: payload.failures ?? '',
    hasMatches: Array.isArray(payload.matches) && payload.matches.length > 0,
    ...w,
  };
  const render = (template: string) => Mustache.render(template, view, {}, { escape: (v: unknown) => String(v) });
  const bodyTemplate = body?.trim() ? body : DEFAULT_BODY;
  let text = render(bodyTemplate);
  if (whois && !/whois/i.test(bodyTemplate)) {
    text = `${text.replace(/\n+$/, '')}\n\n${w.whois ? `whois answer from ${w.whoisServer} (quoted as received):\n${w.whois}` : `whois: ${w.whoisError}`}\n`;
  }
  return {
    subject: cleanUntrusted(render(subject?.trim() ? subject : DEFAULT_SUBJECT)).replace(/\s+/g, ' ').trim().slice(0, 250),
    text: cleanUntrusted(text),
  };
}
