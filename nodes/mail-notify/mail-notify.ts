/**
 * mail-notify: one mail per ban (or a digest), through the mail-server's SMTP server, never a storm,
 * never a lost alert: mails wait in an outbox saved under the user directory until the server takes them.
 */
import { renameSync } from 'fs';
import { join } from 'path';
import { parseDuration } from '../../lib/duration';
import {
  batchSize,
  checkTemplate,
  composeMail,
  describeMailError,
  eventKey,
  Outbox,
  OutboxFile,
  parseWhoisServer,
  payloadOf,
  toMailEvent,
  WhoisCache,
  type Batch,
  type MailEvent,
  type OutboxState,
} from '../../lib/mail';
import { booleanProperty, errorText, reportConfigError, shortStatus, stateDir, type Done, type MailServerNode, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

/** Events kept in full while they wait; beyond, they are counted per jail and event. */
const MAX_QUEUED = 1000;

export = function register(RED: NodeAPI): void {
  function MailNotifyNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(String(def.server ?? '')) as MailServerNode | null;
    const to = String(def.to ?? '').trim();
    const from = String(def.from ?? '').trim();
    const skipRestored = booleanProperty(def.skipRestored, true);
    const subject = typeof def.subject === 'string' ? def.subject : '';
    const body = typeof def.body === 'string' ? def.body : '';
    let outbox: Outbox<MailEvent> | null = null;
    let store: OutboxFile<MailEvent> | null = null;
    let cancelReport: (() => void) | null = null;
    let sent = 0;
    let maxPerHour = 60;
    let lastError = '';
    let closing = false;
    let closeTransport: (() => void) | null = null;

    // At most a few status updates a second, however fast events come.
    let statusTimer: NodeJS.Timeout | null = null;
    let statusAt = 0;
    const showStatus = () => {
      if (closing || statusTimer) return;
      const wait = statusAt + 250 - Date.now();
      if (wait > 0) {
        statusTimer = setTimeout(() => {
          statusTimer = null;
          showStatus();
        }, wait);
        return;
      }
      statusAt = Date.now();
      showStatusNow();
    };
    const showStatusNow = () => {
      if (!outbox || closing) return;
      const waiting = outbox.queued;
      if (lastError) {
        const retry = outbox.retryAt ? `, retry in ${Math.max(1, Math.round((outbox.retryAt - Date.now()) / 1000))}s` : '';
        node.status({ fill: 'red', shape: 'ring', text: shortStatus(`${waiting} waiting${retry}: ${lastError}`) });
      } else if (waiting && outbox.sentThisHour >= maxPerHour) {
        node.status({ fill: 'yellow', shape: 'ring', text: shortStatus(`hourly cap of ${maxPerHour} reached, ${waiting} waiting for the next mail`) });
      } else {
        node.status({ fill: waiting ? 'yellow' : 'green', shape: 'dot', text: `${sent} sent${waiting ? `, ${waiting} waiting` : ''}` });
      }
    };

    try {
      if (!server) throw new Error('no mail server: choose or add a mail-server configuration');
      if (!to) throw new Error('no recipient: set "to"');
      const digest = parseDuration(def.digest ?? 0, 'digest');
      if (digest < 0) throw new Error(`digest ${String(def.digest)} is negative: give seconds, 0 to send each event at once`);
      maxPerHour = Number(String(def.maxPerHour ?? '').trim() || 60);
      if (!Number.isInteger(maxPerHour) || maxPerHour < 1) throw new Error(`maxPerHour "${String(def.maxPerHour)}" must be a whole number of at least 1`);
      checkTemplate(subject, 'subject');
      checkTemplate(body, 'body');
      const whoisOn = booleanProperty(def.whois, false);
      const whoisServer = String(def.whoisServer ?? '').trim();
      if (whoisOn && whoisServer) parseWhoisServer(whoisServer);
      const whoisTimeoutMs = parseDuration(def.whoisTimeout || 10, 'whoisTimeout') * 1000;
      if (!(whoisTimeoutMs > 0)) throw new Error('whoisTimeout must be more than 0 seconds');
      const transport = server.transport();
      closeTransport = () => transport.close();
      const sender = from || `fail2ban@${server.settings.host}`;

      const compose = { subject, body, whois: whoisOn ? new WhoisCache({ server: whoisServer, timeoutMs: whoisTimeoutMs }) : null };

      const send = async (batch: Batch<MailEvent>) => {
        const mail = await composeMail(batch, compose);
        const info = await transport.sendMail({ from: sender, to, subject: mail.subject, text: mail.text });
        const out = { messageId: info.messageId, accepted: info.accepted, events: batchSize(batch), digest: batchSize(batch) > 1 };
        for (const e of batch.items) {
          try {
            node.send({ ...e.msg, mail: out });
          } catch (err) {
            node.warn(`after sending the mail: ${errorText(err)}`);
          }
        }
      };

      outbox = new Outbox<MailEvent>({ digest, maxPerHour, maxQueued: MAX_QUEUED, send, keyOf: eventKey });
      const box = outbox;
      outbox.on('sent', (batch: Batch<MailEvent>) => {
        sent++;
        if (lastError) node.log(`the mail server takes mail again: ${batchSize(batch)} waiting event(s) sent`);
        lastError = '';
        showStatus();
      });
      outbox.on('failed', (err: Error, batch: Batch<MailEvent>, retryMs: number) => {
        const reason = describeMailError(err, server.settings);
        const text = `mail not sent, will retry in ${Math.round(retryMs / 1000)} s (${box.queued} waiting): ${reason}`;
        // Catch hears of an outage once, and again when the reason changes; the status shows it meanwhile.
        if (reason !== lastError) {
          const first = batch.items[0]?.msg ?? { topic: 'mail', payload: { queued: batch.more } };
          node.error(text, RED.util.cloneMessage(first as NodeMessage));
        } else {
          node.log(text);
        }
        lastError = reason;
        showStatus();
      });
      outbox.on('overflow', (kept: number) => node.warn(`more than ${kept} events are waiting: further ones are counted per jail, and the next mail gives the counts`));

      store = new OutboxFile<MailEvent>(join(stateDir(RED), `mail-${node.id}.json`));
      const file = store;
      let saved: OutboxState<MailEvent> | null = null;
      try {
        saved = file.load();
      } catch (err) {
        const aside = `${file.file}.damaged-${Date.now()}`;
        renameSync(file.file, aside);
        node.warn(`${errorText(err)}; it was moved to ${aside}`);
      }
      outbox.on('change', () => {
        file.saveSoon(() => box.snapshot());
        showStatus();
      });
      if (saved) {
        box.restore(saved);
        if (box.queued) node.log(`${box.queued} event(s) waiting to be mailed from before the restart`);
      }
      showStatus();
    } catch (err) {
      cancelReport = reportConfigError(RED, node, err);
    }

    node.on('input', (msg: NodeMessage, _send: Send, done: Done) => {
      if (!outbox) return done(new Error('mail-notify is not configured: set the mail server and recipient'));
      if (skipRestored && payloadOf(msg).event === 'restore') return done();
      outbox.add(toMailEvent(msg));
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      cancelReport?.();
      closing = true;
      if (statusTimer) clearTimeout(statusTimer);
      if (!outbox || !store) return done();
      const box = outbox;
      const file = store;
      box.close().then(() => {
        closeTransport?.();
        try {
          if (removed) {
            if (box.queued) node.warn(`${box.queued} event(s) were still waiting to be mailed and are discarded with this node`);
            file.remove();
          } else {
            file.saveSoon(() => box.snapshot());
            file.flush();
          }
        } catch (err) {
          node.warn(`could not save the mails waiting to be sent: ${errorText(err)}`);
        }
        done();
      }, () => done());
    });
  }
  RED.nodes.registerType('mail-notify', MailNotifyNode);
};
