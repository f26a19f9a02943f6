/** log-tail: follows log files (or the journal) and sends one message per new line. */
import { Follower, JournalFollower } from '../../lib/tail';
import { closeAfter, linesProperty, reportConfigError, shortStatus, type Done, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

export = function register(RED: NodeAPI): void {
  function LogTailNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const source = String(def.source || 'file');
    const encoding = String(def.encoding || 'utf8') as BufferEncoding;
    const start = def.start === 'beginning' ? 'beginning' : 'end';
    let follower: Follower | JournalFollower | null = null;
    let cancelReport: (() => void) | null = null;
    let lastLines = 0;
    let errorShown = false;

    const emit = (line: string, file: string, timestamp?: number) => {
      const msg: NodeMessage = { payload: line, topic: file, filename: file };
      if (timestamp !== undefined) msg.timestamp = timestamp;
      node.send(msg);
    };

    try {
      if (!Buffer.isEncoding(encoding)) throw new Error(`encoding "${encoding}" is not known; use utf8, latin1, ascii or utf16le`);
      if (source === 'journal') {
        follower = new JournalFollower({ matches: linesProperty(def.journalMatch).flatMap((l) => l.split(/\s+/)), start });
        follower.on('line', (line: string, timestamp?: number) => emit(line, 'journal', timestamp));
      } else if (source === 'file') {
        follower = new Follower({ paths: linesProperty(def.paths), start, encoding });
        follower.on('line', (line: string, file: string) => emit(line, file));
      } else {
        throw new Error(`source "${source}" is not known: use file or journal`);
      }
      follower.on('error', (err: Error, file: string) => {
        errorShown = true;
        node.status({ fill: 'red', shape: 'ring', text: shortStatus(`${file}: ${err.message}`) });
        node.error(`${file}: ${err.message}`, { topic: file, payload: err.message, filename: file });
      });
      follower.start();
    } catch (err) {
      follower = null;
      cancelReport = reportConfigError(RED, node, err);
    }

    // Status once a second: what is followed and how fast lines come.
    const timer = follower
      ? setInterval(() => {
          if (!follower) return;
          const rate = follower.lines - lastLines;
          lastLines = follower.lines;
          if (errorShown && rate === 0) return;
          errorShown = false;
          if (follower instanceof Follower) {
            const missing = follower.missing.length;
            const files = follower.files.length;
            if (files === 0 || missing === files) {
              node.status({ fill: 'yellow', shape: 'ring', text: files === 0 ? 'waiting for files to match' : `waiting for ${follower.missing[0]}` });
            } else {
              node.status({ fill: 'green', shape: 'dot', text: `${files - missing} file${files - missing === 1 ? '' : 's'}, ${rate} lines/s, ${follower.lines} lines` });
            }
          } else {
            node.status({ fill: 'green', shape: 'dot', text: `journal, ${rate} lines/s, ${follower.lines} lines` });
          }
        }, 1000)
      : null;

    node.on('input', (_msg: NodeMessage, _send: Send, done: Done) => {
      // An input only asks for a status report; the lines come from the files.
      if (!follower) return done(new Error('log-tail is not following anything: fix its configuration'));
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      cancelReport?.();
      const f = follower;
      follower = null;
      if (!f) return done();
      closeAfter(node, f.stop(), done);
    });
  }
  RED.nodes.registerType('log-tail', LogTailNode);
};
