/** threshold-window: counts failures per offender and decides bans (fail2ban's jail counting). */
import { formatDuration, parseBantime, parseDuration } from '../../lib/duration';
import { parseAddressOrPrefix, tooWideToBan, WIDEST_BAN_PREFIX, type Address } from '../../lib/ip';
import type { BanDecision } from '../../lib/messages';
import { describeValue } from '../../lib/untrusted';
import { FailureWindows, IgnoreList, offenderOf, parseMultipliers, unitForSubnetV6, windowStateFile, WindowStore, type Decision, type IncrementPolicy } from '../../lib/window';
import { ownJailName } from '../../lib/jail';
import { booleanProperty, Coalesced, errorText, type JailWindowNode, numberProperty, reportConfigError, stateDir, type Done, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

const REFRESH_IGNORE_MS = 60 * 60 * 1000;
const EXPIRE_MS = 10_000;
const EVICTION_WARNING_MS = 60_000;

/**
 * An offender that is not an address must look like an id (an <F-ID>, a user or host name): letters,
 * digits and . _ @ : + = , / -, not starting with '-'. Anything else (white space, quotes, ; | $ ` and
 * the like, control characters) is text a log line smuggled in, and is not counted.
 */
const PLAIN_ID = /^(?!-)[\p{L}\p{N}\p{M}._@:+=,/-]+$/u;

/** A whole number property within [min, max]; `fallback` when empty. */
function wholeProperty(value: unknown, fallback: number | null, what: string, min: number, max: number): number | null {
  if (value === undefined || value === null || String(value).trim() === '') return fallback;
  const n = numberProperty(value, 0, what);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number from ${min} to ${max} (got "${String(value)}")`);
  return n;
}

/** The bantime.increment settings from the node's properties, or null when increment is off. */
function incrementFrom(def: NodeDef): IncrementPolicy | null {
  if (!booleanProperty(def.increment, false)) return null;
  const factor = numberProperty(def.factor, 1, 'factor');
  if (!(factor > 0)) throw new Error(`factor must be a positive number (got "${String(def.factor)}")`);
  const optional = (value: unknown, what: string, min: number): number | null => {
    if (value === undefined || value === null || String(value).trim() === '') return null;
    const seconds = parseDuration(value, what);
    if (!(seconds >= min)) throw new Error(`${what} must be ${min > 0 ? 'positive' : '0 or more'} (got "${String(value)}")`);
    return seconds;
  };
  return {
    factor,
    multipliers: parseMultipliers(def.multipliers),
    maxtime: optional(def.maxtime, 'maxtime', 1),
    rndtime: optional(def.rndtime, 'rndtime', 0),
  };
}

export = function register(RED: NodeAPI): void {
  function ThresholdWindowNode(this: JailWindowNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let windows: FailureWindows | null = null;
    let ignore: IgnoreList | null = null;
    let store: WindowStore | null = null;
    let configError: string | null = null;
    let cancelReport: (() => void) | null = null;
    const keyProperty = String(def.keyProperty || 'payload.host');
    // A plain dotted path (the usual payload.host) is walked directly; anything else goes through
    // Node-RED's own property reader.
    const keyExpression = keyProperty.startsWith('msg.') ? keyProperty.slice(4) : keyProperty;
    const keyPath = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/.test(keyExpression) ? keyExpression.split('.') : null;
    const readKey = (msg: NodeMessage): unknown => {
      if (!keyPath) return RED.util.getMessageProperty(msg, keyProperty);
      let value: unknown = msg;
      for (const part of keyPath) {
        if (value === null || typeof value !== 'object') return undefined;
        value = (value as Record<string, unknown>)[part];
      }
      return value;
    };
    const jail = ownJailName(def);
    /** Failures counted since start (f2b-client's "Total failed"). */
    let totalFailed = 0;
    node.windowCounters = () => ({ currentlyFailed: windows ? windows.size : 0, totalFailed });
    node.ignores = (ip) => !!ignore && ignore.has(ip);
    let unitV6: number | null = 64;
    let bans = 0;
    let ignoredCount = 0;
    let lastEvicted = 0;
    let lastEvictionWarning = 0;
    let refreshTimer: NodeJS.Timeout | null = null;
    let expireTimer: NodeJS.Timeout | null = null;

    const showStatus = () => {
      if (!windows) return;
      const warnings: string[] = [];
      if (ignore && ignore.unresolved.length) warnings.push(`ignoreip: ${ignore.unresolved[0]} does not resolve`);
      if (windows.evicted) warnings.push(`${windows.evicted} dropped (maxEntries)`);
      if (!store) warnings.push('history not saved to disk');
      node.status({
        fill: warnings.length ? 'yellow' : 'green',
        shape: 'dot',
        text: [`${windows.size} watched, ${bans} ban${bans === 1 ? '' : 's'}`, ...(ignoredCount ? [`${ignoredCount} ignored`] : []), ...warnings].join(', '),
      });
    };

    // At a high failure rate the status is redrawn at most every 250 ms.
    const statusLater = new Coalesced(showStatus);
    const scheduleStatus = () => statusLater.schedule();

    const checkEvictions = () => {
      if (!windows || windows.evicted === lastEvicted) return;
      const now = Date.now();
      if (now - lastEvictionWarning < EVICTION_WARNING_MS) return;
      node.warn(
        `maxEntries (${windows.policy.maxEntries}) reached: ${windows.evicted - lastEvicted} more offenders dropped (${windows.evicted} in all), ` +
          'those closest to expiry first; a flood of distinct addresses does this. Raise Max offenders if your traffic needs more.',
      );
      lastEvicted = windows.evicted;
      lastEvictionWarning = now;
    };

    try {
      const maxretry = wholeProperty(def.maxretry, 5, 'maxretry', 1, 1_000_000)!;
      const subnetV4 = wholeProperty(def.subnetV4, null, 'subnetV4', WIDEST_BAN_PREFIX[4], 32);
      const subnetV6 = wholeProperty(def.subnetV6, 64, 'subnetV6', WIDEST_BAN_PREFIX[6], 128);
      const subnetThreshold = wholeProperty(def.subnetThreshold, 0, 'subnetThreshold', 0, 1_000_000)!;
      unitV6 = unitForSubnetV6(subnetV6);
      // IPv6 offenders are /64s (or the counting unit): they are gathered only into a shorter prefix.
      const gatherV6 = subnetV6 !== null && unitV6 !== null && subnetV6 < unitV6 ? subnetV6 : null;
      const gather = subnetThreshold > 0 && (subnetV4 !== null || gatherV6 !== null);
      windows = new FailureWindows({
        maxretry,
        findtime: parseDuration(def.findtime || '10m', 'findtime'),
        bantime: parseBantime(def.bantime || '10m', 'bantime'),
        maxEntries: wholeProperty(def.maxEntries, 100000, 'maxEntries', 1, 100_000_000)!,
        increment: incrementFrom(def),
        subnet: gather ? { v4: subnetV4, v6: gatherV6, threshold: subnetThreshold } : null,
      });
      if (subnetThreshold > 0 && !gather) {
        node.warn(`subnetThreshold ${subnetThreshold} has nothing to gather: set subnetV4 (e.g. 24), or subnetV6 shorter than 64 (e.g. 48); no prefix bans are made`);
      }
      ignore = new IgnoreList(def.ignoreip === undefined ? '127.0.0.1/8 ::1' : String(def.ignoreip), booleanProperty(def.ignoreself, true));
      if (ignore.invalid.length) throw new Error(`ignoreip: "${ignore.invalid[0]}" is not an IP address, CIDR range or host name`);
      const ignoreList = ignore;
      // A prefix ban that would also cover a never-ban address is not made.
      windows.prefixAllowed = (prefix) => !ignoreList.has(prefix);

      store = new WindowStore(windowStateFile(stateDir(RED), node.id), windows, {
        onError: (err) => node.warn(`cannot write the failure history (${errorText(err)}); it is kept in memory only until this is fixed`),
      });
      try {
        const loaded = store.open();
        if (loaded.movedAside) node.warn(`failure history could not be read and was moved aside: ${loaded.movedAside}`);
        if (loaded.skipped) node.warn(`failure history: ${loaded.skipped} damaged journal lines skipped`);
      } catch (err) {
        node.warn(`failure history cannot be kept on disk (${errorText(err)}): counting in memory only; failures and ban counts are lost on restart`);
        store = null;
      }

      let warnedUnresolved = '';
      const refresh = () =>
        ignoreList.refresh().then(
          () => {
            const names = ignoreList.unresolved.join(', ');
            if (names && names !== warnedUnresolved) node.warn(`ignoreip: ${names} did not resolve; those names protect nobody until they do (tried again every hour)`);
            warnedUnresolved = names;
            showStatus();
          },
          (err) => node.warn(`ignoreip: ${errorText(err)}`),
        );
      void refresh();
      refreshTimer = setInterval(refresh, REFRESH_IGNORE_MS);
      refreshTimer.unref();
      // Offenders whose window has passed leave, so the status counts only those still watched.
      expireTimer = setInterval(() => {
        if (windows && windows.expire()) showStatus();
      }, EXPIRE_MS);
      expireTimer.unref();
      showStatus();
    } catch (err) {
      windows = null;
      store?.close();
      store = null;
      configError = errorText(err);
      cancelReport = reportConfigError(RED, node, err);
    }

    const output = (d: Decision): NodeMessage => {
      const addr = parseAddressOrPrefix(d.key);
      const out: BanDecision = {
        action: 'ban',
        host: d.key,
        bantime: d.bantime,
        failures: d.failures,
        matches: d.matches,
        jail,
        banCount: d.banCount,
        time: d.time,
      };
      if (addr) out.ip = addr.text;
      if (addr?.isPrefix) out.prefix = true;
      return { topic: d.key, payload: out };
    };

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      if (!windows || !ignore) return done(new Error(`threshold-window is not configured: ${configError}`));
      const key = readKey(msg);
      if (key === undefined) return done(new Error(`message has no ${keyProperty} to count failures by (send failregex-match output, or set the key property)`));
      if (typeof key !== 'string' && typeof key !== 'number') return done(new Error(`${keyProperty} is ${describeValue(key)}, not an address or id to count failures by`));
      const rawKey = String(key).trim();
      if (rawKey === '') return done(new Error(`${keyProperty} is empty`));
      if (rawKey.length > 256) return done(new Error(`${keyProperty} ${describeValue(rawKey, 40)} is ${rawKey.length} characters long; an offender is an address or a short id`));
      const addr = parseAddressOrPrefix(rawKey);
      if (!addr && !PLAIN_ID.test(rawKey)) {
        return done(new Error(`${keyProperty} ${describeValue(rawKey)} is neither an IP address nor a plain id (letters, digits, . _ @ : + = , / -): not counted`));
      }
      // Fullwidth digits, ligatures and the like would pass for another id (or an address) in a mail or a list.
      if (!addr && rawKey.normalize('NFKC') !== rawKey) {
        return done(new Error(`${keyProperty} ${describeValue(rawKey)} holds look-alike characters (it reads as ${describeValue(rawKey.normalize('NFKC'))}): not counted`));
      }
      if (addr && ignore.has(addr)) {
        ignoredCount++;
        scheduleStatus();
        return done();
      }
      const wide = addr && tooWideToBan(addr);
      if (wide) return done(new Error(`${keyProperty} ${describeValue(rawKey)}: ${wide}; not counted`));
      let offender: Address | null = addr ? offenderOf(addr, unitV6) : null;
      // A /64 that holds a never-ban address is not banned as a whole: this address counts on its own.
      if (offender && offender !== addr && ignore.has(offender)) offender = addr;
      const host = offender ? offender.text : rawKey;
      const payload = (msg.payload ?? {}) as Record<string, unknown>;
      const now = Date.now();
      const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
      let time = finite(payload.time) ? payload.time : finite(msg.timestamp) ? msg.timestamp : now;
      // A time ahead of the clock (a skewed or forged log) counts as now.
      if (time > now) time = now;
      const line = typeof payload.line === 'string' ? payload.line : typeof msg.payload === 'string' ? msg.payload : undefined;
      totalFailed++;
      const decision = windows.add(host, time, line, now);
      if (decision) {
        bans++;
        send(output(decision));
        if (decision.prefixBan) {
          bans++;
          node.log(`${jail}: ${decision.prefixBan.key} banned as a whole (${windows.policy.subnet?.threshold} offenders in it), for ${formatDuration(decision.prefixBan.bantime)}`);
          send(output(decision.prefixBan));
        }
      }
      checkEvictions();
      scheduleStatus();
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (refreshTimer) clearInterval(refreshTimer);
      if (expireTimer) clearInterval(expireTimer);
      statusLater.cancel();
      cancelReport?.();
      try {
        store?.close(removed);
      } catch (err) {
        node.warn(`failure history: ${errorText(err)}`);
      }
      done();
    });
  }
  RED.nodes.registerType('threshold-window', ThresholdWindowNode);
};
