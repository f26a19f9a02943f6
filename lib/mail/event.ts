/** A message kept for mailing: plain data only, bounded, safe to save as JSON and to render. */

export interface MailEvent {
  /** When the message arrived (epoch ms). */
  at: number;
  /** The message as plain data (no functions, no cycles, no sockets of an HTTP request). */
  msg: Record<string, unknown>;
}

/** Message properties never kept: the HTTP request and response of http-in, and Node-RED internals. */
const SKIP = new Set(['req', 'res', '_msgid', '_event', '_linkSource', '_session']);
/**
 * Keys never copied at any depth: in JSON from MQTT or HTTP they are plain data, but copied they would
 * replace how the object turns into text (String() of one whose toString is text throws) or its prototype.
 */
const UNSAFE_KEYS = new Set(['__proto__', 'toString', 'valueOf', 'toJSON']);
const MAX_STRING = 8192;
const MAX_ARRAY = 1000;
const MAX_KEYS = 200;
const MAX_DEPTH = 8;

/** A deep copy with only plain data: strings are bounded, functions and cycles left out. */
export function plainData(value: unknown, depth = 0, seen: Set<object> = new Set()): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}...` : value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || depth >= MAX_DEPTH || seen.has(value)) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return undefined;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.slice(0, MAX_ARRAY).map((v) => plainData(v, depth + 1, seen) ?? null);
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(value)) {
      if ((depth === 0 && SKIP.has(k)) || UNSAFE_KEYS.has(k)) continue;
      if (n++ >= MAX_KEYS) break;
      const copy = plainData(v, depth + 1, seen);
      if (copy !== undefined) out[k] = copy;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export function toMailEvent(msg: Record<string, unknown>, at = Date.now()): MailEvent {
  return { at, msg: (plainData(msg) ?? {}) as Record<string, unknown> };
}

/** A message's payload as the event object it should be (an empty one when it is not). */
export function payloadOf(msg: Record<string, unknown>): Record<string, unknown> {
  return msg.payload !== null && typeof msg.payload === 'object' && !Array.isArray(msg.payload) ? (msg.payload as Record<string, unknown>) : {};
}

/** The address an event is about: payload.ip, payload.host, or the topic. */
export function addressOf(msg: Record<string, unknown>): string {
  const p = payloadOf(msg);
  const v = p.ip ?? p.host ?? msg.topic ?? (typeof msg.payload === 'string' ? msg.payload : '');
  return String(v ?? '');
}

/** "jail\tevent", how events beyond the outbox's bound are counted. */
export function eventKey(e: MailEvent): string {
  const p = payloadOf(e.msg);
  return `${String(p.jail ?? '') || '-'}\t${String(p.event ?? p.action ?? '') || 'event'}`;
}
