export { renderMail, checkTemplate, quote, DEFAULT_BODY, DEFAULT_SUBJECT, type RenderedMail, type WhoisResult } from './render';
export { renderDigest, type DigestOptions } from './digest';
export { createTransport, describeMailError, type MailServerSettings } from './transport';
export { Outbox, batchSize, type Batch, type OutboxOptions, type OutboxState } from './outbox';
export { whoisLookup, whoisQuery, parseServer as parseWhoisServer, referralOf, cleanUntrusted, WHOIS_MAX_BYTES, type WhoisAnswer, type WhoisOptions } from './whois';
export { toMailEvent, plainData, payloadOf, addressOf, eventKey, type MailEvent } from './event';
export { OutboxFile } from './store';
export { composeMail, WhoisCache, WHOIS_PER_DIGEST, type ComposeOptions } from './compose';
