/** mail-notify: one mail per ban (or a digest), through the mail-server's SMTP server, never a storm. */
import { describeMailError, Outbox, renderMail } from '../../lib/mail';
import { booleanProperty, numberProperty, reportConfigError, shortStatus, type Done, type MailServerNode, type Node, type NodeAPI, type NodeDef, type NodeMessage, type Send } from '../node-red';

export = function register(RED: NodeAPI): void {
  function MailNotifyNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(String(def.server ?? '')) as MailServerNode | null;
    const to = String(def.to ?? '').trim();
    const from = String(def.from ?? '').trim();
    const skipRestored = booleanProperty(def.skipRestored, true);
    let outbox: Outbox<NodeMessage> | null = null;
    let cancelReport: (() => void) | null = null;
    let sent = 0;

    const showStatus = (text?: string, fill: 'green' | 'red' | 'yellow' = 'green') => {
      const waiting = outbox?.queued ?? 0;
      node.status({ fill: waiting && fill === 'green' ? 'yellow' : fill, shape: fill === 'red' ? 'ring' : 'dot', text: shortStatus(text ?? `${sent} sent${waiting ? `, ${waiting} waiting` : ''}`) });
    };

    try {
      if (!server) throw new Error('no mail server: choose or add a mail-server configuration');
      if (!to) throw new Error('no recipient: set "to"');
      const digest = numberProperty(def.digest, 0, 'digest');
      const transport = server.transport();
      outbox = new Outbox<NodeMessage>({
        digest,
        maxPerHour: Math.max(1, numberProperty(def.maxPerHour, 60, 'maxPerHour')),
        maxQueued: 1000,
        send: async (items) => {
          const mail = items.length === 1 ? renderMail(items[0], def.subject as string, def.body as string) : digestMail(items);
          const info = await transport.sendMail({ from: from || `fail2ban@${server.settings.host}`, to, subject: mail.subject, text: mail.text });
          for (const item of items) node.send({ ...item, mail: { messageId: info.messageId, accepted: info.accepted, digest: items.length > 1 } });
        },
      });
      outbox.on('sent', () => {
        sent++;
        showStatus();
      });
      outbox.on('failed', (err: Error, items: NodeMessage[]) => {
        const reason = describeMailError(err, server.settings);
        showStatus(`${reason} (${outbox?.queued ?? items.length} waiting)`, 'red');
        node.error(`mail not sent, will retry: ${reason}`, items[0]);
      });
      outbox.on('dropped', (count: number) => node.warn(`${count} old notifications dropped: the outbox is full (the mail server has been failing)`));
      if (booleanProperty(def.whois, false)) node.warn('whois is not available in this version yet: mails are sent without it');
      showStatus('ready', 'green');
    } catch (err) {
      cancelReport = reportConfigError(RED, node, err);
    }

    node.on('input', (msg: NodeMessage, _send: Send, done: Done) => {
      if (!outbox) return done(new Error('mail-notify is not configured: set the mail server and recipient'));
      if (skipRestored && payloadOf(msg).event === 'restore') return done();
      outbox.add(RED.util.cloneMessage(msg));
      showStatus();
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      cancelReport?.();
      outbox?.close();
      done();
    });
  }
  RED.nodes.registerType('mail-notify', MailNotifyNode);
};

/** A message's payload as the event object it should be (an empty one when it is not). */
function payloadOf(msg: NodeMessage): Record<string, unknown> {
  return msg.payload !== null && typeof msg.payload === 'object' ? (msg.payload as Record<string, unknown>) : {};
}

/** One mail for many events: a line per event, then each event's log lines. */
function digestMail(items: NodeMessage[]): { subject: string; text: string } {
  const rows = items.map((m) => {
    const p = payloadOf(m);
    return `${String(p.event ?? 'event').padEnd(8)} ${String(p.ip ?? m.topic ?? '').padEnd(40)} ${String(p.jail ?? '')}`;
  });
  const jails = [...new Set(items.map((m) => String(payloadOf(m).jail ?? '')).filter(Boolean))];
  return {
    subject: `[fail2ban] ${items.length} events${jails.length ? ` in ${jails.join(', ')}` : ''}`,
    text: `${items.length} events:\n\n${'event'.padEnd(8)} ${'address'.padEnd(40)} jail\n${rows.join('\n')}\n\n${items
      .map((m) => renderMail(m).text)
      .join('\n----\n')}`,
  };
}
