/** log-tail: follows log files (or the journal) and sends one message per new line. */
import { join } from 'path';
import { Follower, JournalFollower, PositionStore } from '../../lib/tail';
import { booleanProperty, closeAfter, linesProperty, pathStatus, reportConfigError, shortStatus, stateDir, ThrottledCount, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

export = function register(RED: NodeAPI): void {
  function LogTailNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const source = String(def.source || 'file');
    const encoding = String(def.encoding || 'utf8') as BufferEncoding;
    const start = def.start === 'beginning' ? 'beginning' : 'end';
    const resume = booleanProperty(def.resume, true);
    // Read positions of this node, kept under the user directory (resume on).
    const positionsFile = join(stateDir(RED), `tail-${node.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
    let positions: PositionStore | null = null;
    let follower: Follower | JournalFollower | null = null;
    let cancelReport: (() => void) | null = null;
    let lastLines = 0;
    let errorShown = false;
    // Lines dropped for their length, warned of at most once a minute.
    const droppedLines = new ThrottledCount();
    // Files that are not there, warned of once each: a status alone is easily missed.
    const warnedMissing = new Set<string>();

    const emit = (line: string, file: string, timestamp?: number, journal?: Record<string, unknown>) => {
      const msg: NodeMessage = { payload: line, topic: file, filename: file };
      if (timestamp !== undefined) msg.timestamp = timestamp;
      if (journal) msg.journal = journal;
      node.send(msg);
    };

    try {
      if (!Buffer.isEncoding(encoding)) throw new Error(`encoding "${encoding}" is not known; use utf8, latin1, ascii or utf16le`);
      if (resume) {
        positions = new PositionStore(positionsFile);
        if (positions.problem) node.warn(positions.problem);
      } else {
        // Positions from when resume was on would be stale by the time it is turned on again.
        new PositionStore(positionsFile).remove();
      }
      if (source === 'journal') {
        const journalPath = String(def.journalPath ?? '').trim() || undefined;
        follower = new JournalFollower({ matches: linesProperty(def.journalMatch).flatMap((l) => l.split(/\s+/)), start, path: journalPath, positions: positions ?? undefined });
        // The line fail2ban's systemd backend makes of the entry ("host sshd[811]: message"), the entry's time and fields.
        follower.on('line', (line: string, timestamp: number | undefined, entry: Record<string, unknown>) => emit(line, 'journal', timestamp, entry));
      } else if (source === 'file') {
        follower = new Follower({ paths: linesProperty(def.paths), start, encoding, positions: positions ?? undefined });
        follower.on('line', (line: string, file: string) => emit(line, file));
      } else {
        throw new Error(`source "${source}" is not known: use file or journal`);
      }
      follower.on('error', (err: Error, file: string) => {
        errorShown = true;
        const text = file === 'journal' || err.message.includes(file) ? err.message : `${file}: ${err.message}`;
        node.status({ fill: 'red', shape: 'ring', text: shortStatus(text) });
        node.error(text, { topic: file, payload: err.message, filename: file });
      });
      follower.start();
    } catch (err) {
      follower = null;
      positions?.close();
      positions = null;
      cancelReport = reportConfigError(RED, node, err);
    }

    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

    // Status once a second: what is followed, how fast lines come, rotations seen.
    const timer = follower
      ? setInterval(() => {
          if (!follower) return;
          const rate = follower.lines - lastLines;
          lastLines = follower.lines;
          if (errorShown && rate === 0) return;
          errorShown = false;
          const dropped = follower.dropped;
          const told = droppedLines.add(Math.max(0, dropped - droppedLines.total));
          if (told) {
            // Lines this long are no log lines a filter should read (or are made to hide a forged line).
            const what = follower instanceof Follower ? 'longer than 64 KiB' : 'longer than 64 KiB or cut by the journal';
            node.warn(`${plural(told, 'line')} ${what} dropped whole, unread (${dropped} in all)`);
          }
          const droppedText = !dropped ? '' : follower instanceof Follower ? `, ${dropped} over 64 KiB dropped` : `, ${dropped} dropped (over 64 KiB or cut)`;
          if (follower instanceof Follower) {
            const missing = follower.missing;
            const unmatched = follower.unmatched;
            const following = follower.files.length - missing.length;
            const counts = `${rate} lines/s, ${plural(follower.rotations, 'rotation')}${droppedText}`;
            for (const path of missing) {
              if (warnedMissing.has(path)) continue;
              warnedMissing.add(path);
              node.warn(missingFileWarning(path));
            }
            if (missing.length > 0) {
              const what = following > 0 ? `${following} followed, ` : '';
              node.status({ fill: 'yellow', shape: 'ring', text: pathStatus(`${what}waiting for `, missing[0], missing.length > 1 ? ` +${missing.length - 1}` : '') });
            } else if (following === 0) {
              node.status({ fill: 'yellow', shape: 'ring', text: pathStatus('waiting for files to match ', unmatched[0] ?? '') });
            } else {
              node.status({ fill: dropped ? 'yellow' : 'green', shape: 'dot', text: `${plural(following, 'file')}, ${counts}` });
            }
          } else {
            node.status({ fill: dropped ? 'yellow' : 'green', shape: 'dot', text: `journal, ${rate} lines/s, ${follower.lines} lines${droppedText}` });
          }
        }, 1000)
      : null;

    node.on('input', (_msg: NodeMessage, _send: Send, done: Done) => {
      // An input only asks for a status report; the lines come from the files.
      if (!follower) return done(new Error('log-tail is not following anything: fix its configuration'));
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      cancelReport?.();
      const f = follower;
      const p = positions;
      follower = null;
      positions = null;
      const stopped = f ? f.stop() : Promise.resolve();
      closeAfter(
        node,
        stopped.then(() => {
          // A node deleted from the flow forgets its positions; a redeploy or restart keeps them.
          if (removed) p?.remove();
          else p?.close();
        }),
        done,
      );
    });
  }
  RED.nodes.registerType('log-tail', LogTailNode);
};

/**
 * A followed file that does not exist. Under /var/log it is most often a system that logs only to the
 * systemd journal (no rsyslog: Debian 12 and later, Fedora, Arch), where the fix is the journal source.
 */
function missingFileWarning(path: string): string {
  const text = `${path} does not exist: waiting for it to be created`;
  if (!path.startsWith('/var/log/')) return text;
  return `${text}. If this system logs only to the systemd journal (no rsyslog), set Source to "journal" (e.g. journalMatch _SYSTEMD_UNIT=ssh.service) instead of following this file`;
}
