/**
 * How a value from a message (an attacker may have written it) is named in an error or a status: short,
 * on one line, with nothing a terminal, log viewer or editor could interpret.
 */

/** Invisible and direction-changing characters (bidi overrides, zero-width, soft hyphen, BOM, separators). */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

const escapeInvisible = (text: string) => text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The value as a person can read it in an error: a string quoted and escaped (JSON form, invisible
 * characters as \uXXXX), cut after `max` characters with its length said; other types by type and value
 * ("the number 5", "an object {...}", "null", "nothing").
 */
export function describeValue(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (value === '') return 'an empty string';
    const shown = escapeInvisible(JSON.stringify(value.slice(0, max)));
    return value.length > max ? `${shown.slice(0, -1)}..." (${value.length} characters)` : shown;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `the ${typeof value} ${String(value)}`;
  if (typeof value === 'object') {
    const kind = Array.isArray(value) ? 'an array' : 'an object';
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined; // a cycle
    }
    if (json === undefined) return kind;
    json = escapeInvisible(json);
    return `${kind} ${json.length > max ? `${json.slice(0, max)}...` : json}`;
  }
  return `a ${typeof value}`;
}

/**
 * The value as text without calling anything of it: a string as it is (cut at `max`), other primitives
 * by String(), objects by describeValue. String() of an object from JSON whose `toString` is text (an
 * MQTT or HTTP message can carry one) throws a TypeError.
 */
export function textOf(value: unknown, max = 100): string {
  if (typeof value === 'string') return value.slice(0, max);
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) return describeValue(value, max);
  return String(value);
}
