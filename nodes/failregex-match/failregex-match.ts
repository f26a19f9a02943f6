/** failregex-match: one log line in, one message per failure out (fail2ban's filter stage). */
import { filterFromSettings, filterLabel, Matcher, MAX_LINE_LENGTH, parseFilterOptions, type FilterSettings } from '../../lib/filter';
import { DEFAULT_MATCH_TIMEOUT_MS, IsolatedMatcher, MAX_QUEUED_LINES, type LineOutcome } from '../../lib/filter/isolated-matcher';
import { builtinFilterInfo, builtinOptionProblem } from '../../lib/filter-library';
import { FilterTestError, runFilterTest } from '../../lib/filter-tester';
import { errorText, numberProperty, reportConfigError, ThrottledCount, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage } from '../node-red';

export = function register(RED: NodeAPI): void {
  function FailregexMatchNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let matcher: IsolatedMatcher<NodeMessage, Done> | null = null;
    let configError: string | null = null;
    let cancelReport: (() => void) | null = null;
    let lines = 0;
    let failures = 0;
    let ignored = 0;
    // Told to Catch nodes (or as a warning) at most once a minute, with how many came meanwhile.
    const tooLong = new ThrottledCount();
    const skipped = new ThrottledCount();
    const refused = new ThrottledCount();
    let label = '';
    let maxLineLength = MAX_LINE_LENGTH;
    let timeoutMs = DEFAULT_MATCH_TIMEOUT_MS;

    try {
      if (String(def.filterSource || 'builtin') === 'builtin') {
        // "mode=agressive" would otherwise fail as a pattern without <HOST>: name the value instead.
        const problem = builtinOptionProblem(String(def.filterName || 'sshd').trim(), parseFilterOptions(def.filterOptions ? String(def.filterOptions) : undefined));
        if (problem) throw new Error(problem);
      }
      const filter = filterFromSettings(def as FilterSettings);
      maxLineLength = numberProperty(def.maxLineLength, MAX_LINE_LENGTH, 'maxLineLength');
      if (!Number.isInteger(maxLineLength) || maxLineLength < 1) throw new Error(`maxLineLength must be a whole number of characters, at least 1 (got ${maxLineLength})`);
      timeoutMs = numberProperty(def.matchTimeout, DEFAULT_MATCH_TIMEOUT_MS, 'matchTimeout');
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
        throw new Error(`matchTimeout must be a whole number of milliseconds from 1 to 60000 (got ${def.matchTimeout})`);
      }
      // Compiled here once, so that a bad pattern turns the node red at deploy; the lines are matched
      // by the same filter in a worker thread, which a watchdog stops when a line takes too long.
      new Matcher(filter, { maxLineLength });
      label = filterLabel(filter);
      // Each line waits for its result with just its message and its done (no closure of its own).
      matcher = new IsolatedMatcher<NodeMessage, Done>(filter, { maxLineLength, timeoutMs, label, onOutcome: finish });
      node.status({ fill: 'grey', shape: 'dot', text: `${label}: waiting for lines` });
    } catch (err) {
      configError = errorText(err);
      cancelReport = reportConfigError(RED, node, err);
    }

    let statusDue = false;
    const showStatus = () => {
      statusDue = false;
      const extra = `${ignored ? `, ${ignored} ignored` : ''}${tooLong.total ? `, ${tooLong.total} refused (over ${maxLineLength} characters)` : ''}${refused.total ? `, ${refused.total} dropped (queue full)` : ''}`;
      const text = skipped.total
        ? `${label}: ${skipped.total} line${skipped.total === 1 ? '' : 's'} skipped: over ${timeoutMs} ms to match; ${lines} lines, ${failures} failures${extra}`
        : `${label}: ${lines} lines, ${failures} failures${extra}`;
      node.status({ fill: tooLong.total || skipped.total || refused.total ? 'yellow' : 'green', shape: 'dot', text });
    };

    const scheduleStatus = () => {
      if (!statusDue) {
        statusDue = true;
        setTimeout(showStatus, 500).unref();
      }
    };

    /**
     * What to do with a line once the worker is done with it; called in the order lines came in.
     * (Messages go out through node.send, which is what the input handler's send calls: a waiting line
     * does not keep that function alive.)
     */
    function finish(outcome: LineOutcome, msg: NodeMessage, done: Done): void {
      if (outcome.kind === 'closed') return done();
      if (outcome.kind === 'error') return done(new Error(`matching failed: ${outcome.message}`));
      if (outcome.kind === 'too-long') {
        const length = (msg.payload as string).length;
        // Never cut and matched: what follows a cut is whatever the attacker wrote there.
        const count = tooLong.add();
        scheduleStatus();
        if (count) {
          node.error(
            `a line of ${length} characters, over the limit of ${maxLineLength}, was refused unmatched (${count} refused since the last report, ${tooLong.total} in all); ` +
              'a line that long is most likely written by an attacker; raise "Refuse lines over" only if your daemon really writes such lines',
            msg,
          );
        }
        return done();
      }
      if (outcome.kind === 'timeout') {
        const length = (msg.payload as string).length;
        const count = skipped.add();
        scheduleStatus();
        if (count) {
          node.error(
            `a line of ${length} characters took over ${timeoutMs} ms to match and was skipped (${count} skipped since the last report, ${skipped.total} in all); ` +
              'a pattern probably backtracks (nested repeats like (\\w+\\s?)*, or .* next to .*): make it more specific, or raise "Stop a line after"',
            msg,
          );
        }
        return done();
      }
      lines++;
      if (outcome.ignored) ignored++;
      if (outcome.failures.length === 0) {
        // Most lines: nothing to send.
        scheduleStatus();
        return done();
      }
      // Each failure is its payload as the worker's results were parsed. The message that carried the
      // line becomes the last failure's (the line is done with); copies of it, taken before it changes,
      // carry the others. Node-RED's own nodes reuse msg the same way.
      const list = outcome.failures;
      failures += list.length;
      if (list.length === 1) {
        msg.topic = list[0].host;
        msg.payload = list[0];
        node.send(msg);
      } else {
        const last = list.length - 1;
        const out: NodeMessage[] = [];
        for (let i = 0; i <= last; i++) {
          const m = i === last ? msg : RED.util.cloneMessage(msg);
          m.topic = list[i].host;
          m.payload = list[i];
          out.push(m);
        }
        node.send([out]);
      }
      scheduleStatus();
      done();
    }

    node.on('input', (msg: NodeMessage, _send: unknown, done: Done) => {
      if (!matcher) return done(new Error(`failregex-match is not configured: ${configError}`));
      if (typeof msg.payload !== 'string') {
        return done(new Error(`payload must be a log line (a string), got ${msg.payload === null ? 'null' : typeof msg.payload}`));
      }
      const time = typeof msg.timestamp === 'number' ? msg.timestamp : undefined;
      const queued = matcher.match(msg.payload, time, msg, done);
      if (!queued) {
        // More lines wait than the worker can take: memory stays bounded, this line is not matched.
        const count = refused.add();
        scheduleStatus();
        if (count) {
          node.warn(
            `${count} line${count === 1 ? '' : 's'} dropped unmatched (${refused.total} in all): more than ${MAX_QUEUED_LINES} lines were waiting to be matched; ` +
              'the log grows faster than the filter can read it (a flood, or lines that each take long to match)',
          );
        }
        done();
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      cancelReport?.();
      const m = matcher;
      matcher = null;
      configError = 'the node is stopping';
      if (!m) return done();
      // Lines still waiting are dropped (their messages are done), and the thread ends.
      m.close().then(() => done(), () => done());
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
