/** fail2ban time strings ("10m", "1h30m", "1d", "1w", "1mo", "1y") to seconds. */
import { describeValue } from './untrusted';

const YEAR = ((365 * 3 + 366) * 24 * 60 * 60) / 4;
const UNITS: Array<[RegExp, number]> = [
  // Order matters: "mo" before "m", "min" before "m"; matched case-insensitively as whole words.
  [/^(?:years?|yea?|yy?)$/i, YEAR],
  [/^(?:months?|mon?)$/i, YEAR / 12],
  [/^(?:weeks?|wee?|ww?)$/i, 7 * 24 * 3600],
  [/^(?:days?|da|dd?)$/i, 24 * 3600],
  [/^(?:hours?|hou?|hh?)$/i, 3600],
  [/^(?:minutes?|min?|mm?)$/i, 60],
  [/^(?:seconds?|sec?|ss?)$/i, 1],
];

const TERM = /([+-]?)\s*(\d+(?:\.\d+)?)\s*([a-z]*)/giy;

export class DurationError extends Error {}

/**
 * Parses a duration: a number of seconds, or terms like "1h 30m", "1h30m", "1year-6mo".
 * Throws a DurationError that names the bad text.
 */
export function parseDuration(value: unknown, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DurationError(`${what}: ${value} is not a finite number`);
    return value;
  }
  // The value may come from a message (an attacker's text): named in short, escaped.
  if (typeof value === 'object' && value !== null) throw new DurationError(`${what} is ${describeValue(value, 40)}: give seconds or a time like 10m, 1h30m, 1d`);
  const text = String(value ?? '').trim();
  const shown = describeValue(text, 40);
  if (text === '') throw new DurationError(`${what} is empty: give seconds or a time like 10m, 1h30m, 1d`);
  if (/^[+-]?\d+(?:\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let pos = 0;
  let terms = 0;
  TERM.lastIndex = 0;
  while (pos < text.length) {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
    if (pos >= text.length) break;
    TERM.lastIndex = pos;
    const m = TERM.exec(text);
    if (!m) throw new DurationError(`${what} ${shown}: cannot read ${describeValue(text.slice(pos), 20)}; use e.g. 10m, 1h30m, 1d, 1w, 1mo, 1y`);
    const unit = m[3];
    let factor = 1;
    if (unit) {
      const found = UNITS.find(([re]) => re.test(unit));
      if (!found) throw new DurationError(`${what} ${shown}: unknown unit ${describeValue(unit, 20)}; use s, m, h, d, w, mo or y`);
      factor = found[1];
    }
    total += (m[1] === '-' ? -1 : 1) * Number(m[2]) * factor;
    pos = TERM.lastIndex;
    terms++;
  }
  if (terms === 0) throw new DurationError(`${what} ${shown} holds no time`);
  return total;
}

/** Like parseDuration, but -1 (for ever) and positive values only. */
export function parseBantime(value: unknown, what = 'bantime'): number {
  const seconds = parseDuration(value, what);
  if (seconds === -1) return -1;
  if (seconds <= 0) throw new DurationError(`${what} must be positive, or -1 for ever (got ${typeof value === 'number' ? value : describeValue(value, 40)})`);
  return seconds;
}

/** Short human text for a number of seconds: "1h 30m", "for ever". */
export function formatDuration(seconds: number): string {
  if (seconds < 0) return 'for ever';
  const parts: string[] = [];
  let s = Math.round(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.length ? parts.slice(0, 2).join(' ') : '0s';
}
