/** The text of a notification: Mustache templates over the message, with a fail2ban-like default. */
import Mustache from 'mustache';
import { formatDuration } from '../duration';

export const DEFAULT_SUBJECT = '[fail2ban] {{payload.jail}}: {{payload.event}} {{payload.ip}}';

export const DEFAULT_BODY = `Hi,

{{payload.event}}: {{payload.ip}} in jail {{payload.jail}}{{#bantimeText}} for {{bantimeText}}{{/bantimeText}}{{#failures}} after {{failures}} failures{{/failures}}.
{{#untilText}}Until: {{untilText}}
{{/untilText}}{{#payload.backend}}Firewall backend: {{payload.backend}}
{{/payload.backend}}{{#payload.error}}Error: {{payload.error}}
{{/payload.error}}{{#hasMatches}}
The log lines that caused it:
{{#payload.matches}}
  {{.}}
{{/payload.matches}}
{{/hasMatches}}{{#whois}}
whois:
{{whois}}
{{/whois}}
Regards,
Node-RED fail2ban`;

export interface RenderedMail {
  subject: string;
  text: string;
}

/** Renders subject and body (plain text: nothing is HTML-escaped, nothing from the log is interpreted). */
export function renderMail(msg: Record<string, unknown>, subject?: string, body?: string, extra: Record<string, unknown> = {}): RenderedMail {
  const payload = (msg.payload ?? {}) as Record<string, unknown>;
  const bantime = typeof payload.bantime === 'number' ? payload.bantime : undefined;
  const until = typeof payload.until === 'number' ? payload.until : undefined;
  const view = {
    ...msg,
    bantimeText: bantime === undefined ? '' : formatDuration(bantime),
    untilText: until === undefined ? '' : new Date(until).toISOString(),
    failures: payload.failures ?? '',
    hasMatches: Array.isArray(payload.matches) && payload.matches.length > 0,
    ...extra,
  };
  const render = (template: string) => Mustache.render(template, view, {}, { escape: (v: unknown) => String(v) });
  return {
    subject: render(subject?.trim() ? subject : DEFAULT_SUBJECT).replace(/[\r\n]+/g, ' ').slice(0, 250),
    text: render(body?.trim() ? body : DEFAULT_BODY),
  };
}
