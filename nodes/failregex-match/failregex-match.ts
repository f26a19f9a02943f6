/** failregex-match: one log line in, one message per failure out (fail2ban's filter stage). */
import { filterFromSettings, Matcher, MAX_LINE_LENGTH, parseFilterOptions, type FilterSettings } from '../../lib/filter';
import { builtinFilterInfo, builtinOptionProblem } from '../../lib/filter-library';
import { FilterTestError, runFilterTest } from '../../lib/filter-tester';
import type { Failure } from '../../lib/messages';
import { errorText, numberProperty, reportConfigError, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

export = function register(RED: NodeAPI): void {
  function FailregexMatchNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let matcher: Matcher | null = null;
    let configError: string | null = null;
    let cancelReport: (() => void) | null = null;
    let lines = 0;
    let failures = 0;
    let ignored = 0;
    let cut = 0;
    let lastCutWarning = 0;
    let label = '';

    try {
      if (String(def.filterSource || 'builtin') === 'builtin') {
        // "mode=agressive" would otherwise fail as a pattern without <HOST>: name the value instead.
        const problem = builtinOptionProblem(String(def.filterName || 'sshd').trim(), parseFilterOptions(def.filterOptions ? String(def.filterOptions) : undefined));
        if (problem) throw new Error(problem);
      }
      const filter = filterFromSettings(def as FilterSettings);
      const maxLineLength = numberProperty(def.maxLineLength, MAX_LINE_LENGTH, 'maxLineLength');
      if (!Number.isInteger(maxLineLength) || maxLineLength < 1) throw new Error(`maxLineLength must be a whole number of characters, at least 1 (got ${maxLineLength})`);
      matcher = new Matcher(filter, { maxLineLength });
      label = filter.source.replace(/^builtin:/, '');
      node.status({ fill: 'grey', shape: 'dot', text: `${label}: waiting for lines` });
    } catch (err) {
      configError = errorText(err);
      cancelReport = reportConfigError(RED, node, err);
    }

    let statusDue = false;
    const showStatus = () => {
      statusDue = false;
      const extra = `${ignored ? `, ${ignored} ignored` : ''}${cut ? `, ${cut} cut` : ''}`;
      node.status({ fill: cut ? 'yellow' : 'green', shape: 'dot', text: `${label}: ${lines} lines, ${failures} failures${extra}` });
    };

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      if (!matcher) return done(new Error(`failregex-match is not configured: ${configError}`));
      if (typeof msg.payload !== 'string') {
        return done(new Error(`payload must be a log line (a string), got ${msg.payload === null ? 'null' : typeof msg.payload}`));
      }
      const time = typeof msg.timestamp === 'number' ? msg.timestamp : undefined;
      let result;
      try {
        result = matcher.match(msg.payload, time);
      } catch (err) {
        return done(new Error(`matching failed: ${errorText(err)}`));
      }
      lines++;
      if (result.ignored) ignored++;
      if (result.truncated) {
        cut++;
        if (Date.now() - lastCutWarning > 60_000) {
          lastCutWarning = Date.now();
          node.warn(`a line of ${msg.payload.length} characters was cut to ${matcher.maxLineLength} before matching (${cut} cut so far); raise "Cut lines at" if such lines are real`);
        }
      }
      const out: NodeMessage[] = result.failures.map((f) => {
        failures++;
        const payload: Failure = { host: f.host, time: f.time, fields: f.fields, line: f.lines.join('\n'), filter: label };
        if (f.user !== undefined) payload.user = f.user;
        const copy = RED.util.cloneMessage(msg);
        copy.topic = f.host;
        copy.payload = payload;
        return copy;
      });
      if (out.length) send([out]);
      if (!statusDue) {
        statusDue = true;
        setTimeout(showStatus, 500).unref();
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      cancelReport?.();
      done();
    });
  }
  RED.nodes.registerType('failregex-match', FailregexMatchNode);

  // The editor's list of built-in filters (name, what each reads, its options).
  RED.httpAdmin.get('/failregex-match/filters', RED.auth.needsPermission('failregex-match.read'), (_req, res) => {
    res.json(builtinFilterInfo());
  });

  // The dialog's live tester: the filter being edited against sample lines, in a worker thread that is
  // stopped after 2 s. Write permission, as it compiles the user's patterns and may read a filter file.
  RED.httpAdmin.post('/failregex-match/test', RED.auth.needsPermission('failregex-match.write'), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    runFilterTest({ settings: (body.settings ?? {}) as Record<string, unknown>, lines: body.lines as string[], now: body.now as number | undefined }).then(
      (report) => res.json(report),
      (err: Error) => {
        const e = err instanceof FilterTestError ? err : null;
        res.status(e?.busy ? 503 : e?.timeout ? 422 : 400).json({ error: err.message, timeout: !!e?.timeout });
      },
    );
  });
};
