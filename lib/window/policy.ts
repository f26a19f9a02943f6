/**
 * Ban length policy: fail2ban's bantime and its bantime.increment family (factor, the default doubling
 * formula, multipliers, maxtime, rndtime), and how much a failure of a returning offender weighs.
 */

/** The bantime.increment settings. */
export interface IncrementPolicy {
  /** bantime.factor: multiplies the growth (default 1). */
  factor: number;
  /** bantime.multipliers: used instead of the doubling formula when not empty. */
  multipliers: number[];
  /** bantime.maxtime, seconds: no increased ban is longer. null = no limit. */
  maxtime: number | null;
  /** bantime.rndtime, seconds: up to this much is added at random to an increased ban. null = none. */
  rndtime: number | null;
}

/** Doubling stops after this many earlier bans (2^20 times bantime is over 20 years for 10 minutes). */
const MAX_DOUBLINGS = 20;

/**
 * The length in seconds of a ban that follows `earlier` bans of the same offender.
 *
 * - bantime -1 (for ever) stays -1, and without increment (or for a first ban) the ban lasts bantime.
 * - With multipliers: bantime × factor × multipliers[earlier], the last multiplier once the list runs out.
 * - Otherwise: bantime × 2^earlier × factor (capped at 2^20), never shorter than bantime.
 * - Then maxtime caps it and rndtime adds a random part, as fail2ban does for increased bans.
 * The result is rounded to whole seconds.
 */
export function banTimeFor(bantime: number, earlier: number, increment: IncrementPolicy | null, random: () => number = Math.random): number {
  if (bantime < 0) return -1;
  if (!increment || earlier <= 0) return bantime;
  let seconds: number;
  const m = increment.multipliers;
  if (m.length > 0) {
    seconds = bantime * increment.factor * m[Math.min(earlier, m.length - 1)];
  } else {
    seconds = Math.max(bantime, bantime * 2 ** Math.min(earlier, MAX_DOUBLINGS) * increment.factor);
  }
  if (increment.maxtime !== null) seconds = Math.min(seconds, increment.maxtime);
  if (increment.rndtime !== null) seconds += random() * increment.rndtime;
  return Math.max(1, Math.round(seconds));
}

/**
 * How many failures one failure of an offender banned `earlier` times before counts for, with
 * increment on: 2, 3, 5, 9, ... (2^(n-1) + 1), never more than maxretry. 1 for a newcomer.
 */
export function failureWeight(earlier: number, maxretry: number): number {
  if (earlier <= 0) return 1;
  return Math.min(2 ** (Math.min(earlier, MAX_DOUBLINGS) - 1) + 1, maxretry);
}

/** Parses bantime.multipliers text ("1 2 4 8", commas allowed) into positive numbers; throws on anything else. */
export function parseMultipliers(text: unknown): number[] {
  const words = String(text ?? '').split(/[\s,]+/).filter(Boolean);
  return words.map((w) => {
    const n = Number(w);
    if (!/^\d+(?:\.\d+)?$/.test(w) || !(n > 0)) throw new Error(`multipliers: "${w}" is not a positive number; give numbers separated by spaces, such as 1 2 4 8`);
    return n;
  });
}
