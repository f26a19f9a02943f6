/**
 * CrowdSec's durations, as its API writes them (Go's time.Duration text): "4h", "3h59m58.336s",
 * "-90.8729ms", "0s". A decision's `duration` is the time it has left; negative once it has expired.
 */
import { describeValue } from '../untrusted';

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Seconds in a Go duration text; throws naming the text when it is not one. */
export function parseGoDuration(value: unknown): number {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) throw new Error(`duration ${describeValue(value, 40)} is not a Go duration such as 3h59m58s`);
  let pos = 0;
  let sign = 1;
  if (value[0] === '-' || value[0] === '+') {
    sign = value[0] === '-' ? -1 : 1;
    pos = 1;
  }
  if (value.slice(pos) === '0') return 0;
  let total = 0;
  let terms = 0;
  while (pos < value.length) {
    TERM.lastIndex = pos;
    const m = TERM.exec(value);
    if (!m) throw new Error(`duration ${describeValue(value, 40)} is not a Go duration such as 3h59m58s`);
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
    pos = TERM.lastIndex;
    terms++;
  }
  if (terms === 0) throw new Error(`duration ${describeValue(value, 40)} holds no time`);
  return sign * total;
}

/** A number of seconds as a Go duration text the API reads ("3600s"). */
export function goDuration(seconds: number): string {
  return `${Math.max(1, Math.round(seconds))}s`;
}
