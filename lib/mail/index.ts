export { renderMail, DEFAULT_BODY, DEFAULT_SUBJECT, type RenderedMail } from './render';
export { createTransport, describeMailError, type MailServerSettings } from './transport';
export { Outbox, type OutboxOptions } from './outbox';
