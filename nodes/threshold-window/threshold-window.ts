/** threshold-window: counts failures per offender and decides bans (fail2ban's jail counting). */
import { parseBantime, parseDuration } from '../../lib/duration';
import { parseAddressOrPrefix } from '../../lib/ip';
import type { BanDecision } from '../../lib/messages';
import { FailureWindows, IgnoreList } from '../../lib/window';
import { booleanProperty, errorText, numberProperty, reportConfigError, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

const REFRESH_IGNORE_MS = 60 * 60 * 1000;

export = function register(RED: NodeAPI): void {
  function ThresholdWindowNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let windows: FailureWindows | null = null;
    let ignore: IgnoreList | null = null;
    let configError: string | null = null;
    let cancelReport: (() => void) | null = null;
    const keyProperty = String(def.keyProperty || 'payload.host');
    const jail = String(def.jail || def.name || 'jail');
    let bans = 0;
    let ignoredCount = 0;
    let refreshTimer: NodeJS.Timeout | null = null;
    let expireTimer: NodeJS.Timeout | null = null;

    const showStatus = () => {
      if (!windows) return;
      const warn = ignore && ignore.unresolved.length ? `, ignoreip: ${ignore.unresolved[0]} does not resolve` : '';
      node.status({
        fill: warn ? 'yellow' : 'green',
        shape: 'dot',
        text: `${windows.size} watched, ${bans} bans${ignoredCount ? `, ${ignoredCount} ignored` : ''}${warn}`,
      });
    };

    try {
      const maxretry = numberProperty(def.maxretry, 5, 'maxretry');
      windows = new FailureWindows({
        maxretry,
        findtime: parseDuration(def.findtime || '10m', 'findtime'),
        bantime: parseBantime(def.bantime || '10m', 'bantime'),
        maxEntries: numberProperty(def.maxEntries, 100000, 'maxEntries'),
      });
      ignore = new IgnoreList(def.ignoreip === undefined ? '127.0.0.1/8 ::1' : String(def.ignoreip), booleanProperty(def.ignoreself, true));
      if (booleanProperty(def.increment, false)) node.warn('bantime.increment is not available in this version yet: every ban lasts bantime');
      if (ignore.invalid.length) throw new Error(`ignoreip: "${ignore.invalid[0]}" is not an IP address, CIDR range or host name`);
      const refresh = () => ignore!.refresh().then(showStatus, (err) => node.warn(`ignoreip: ${errorText(err)}`));
      void refresh();
      refreshTimer = setInterval(refresh, REFRESH_IGNORE_MS);
      refreshTimer.unref();
      // Offenders whose window has passed leave, so the status counts only those still watched.
      expireTimer = setInterval(() => windows && windows.expire() && showStatus(), 10_000);
      expireTimer.unref();
      showStatus();
    } catch (err) {
      windows = null;
      configError = errorText(err);
      cancelReport = reportConfigError(RED, node, err);
    }

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      if (!windows || !ignore) return done(new Error(`threshold-window is not configured: ${configError}`));
      const key = RED.util.getMessageProperty(msg, keyProperty);
      if (typeof key !== 'string' && typeof key !== 'number') {
        return done(new Error(`message has no ${keyProperty} to count failures by (send failregex-match output, or set the key property)`));
      }
      const rawKey = String(key).trim();
      const addr = parseAddressOrPrefix(rawKey);
      const host = addr ? addr.text : rawKey;
      if (host === '') return done(new Error(`${keyProperty} is empty`));
      if (addr && ignore.has(addr)) {
        ignoredCount++;
        showStatus();
        return done();
      }
      const payload = (msg.payload ?? {}) as Record<string, unknown>;
      const time = typeof payload.time === 'number' ? payload.time : typeof msg.timestamp === 'number' ? msg.timestamp : Date.now();
      const line = typeof payload.line === 'string' ? payload.line : undefined;
      const decision = windows.add(host, time, line);
      if (decision) {
        bans++;
        const out: BanDecision = {
          action: 'ban',
          host,
          bantime: decision.bantime,
          failures: decision.failures,
          matches: decision.matches,
          jail,
          banCount: decision.banCount,
          time: decision.time,
        };
        if (addr) out.ip = addr.text;
        if (addr?.isPrefix) out.prefix = true;
        send({ topic: host, payload: out });
      }
      showStatus();
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (refreshTimer) clearInterval(refreshTimer);
      if (expireTimer) clearInterval(expireTimer);
      cancelReport?.();
      done();
    });
  }
  RED.nodes.registerType('threshold-window', ThresholdWindowNode);
};
