/** mail-server: the SMTP server settings shared by mail-notify nodes; credentials stay out of the flow file. */
import { createTransport } from '../../lib/mail';
import { booleanProperty, numberProperty, type MailServerNode, type NodeAPI, type NodeDef } from '../node-red';

export = function register(RED: NodeAPI): void {
  function MailServerNodeCtor(this: MailServerNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const starttls = String(def.starttls || 'auto');
    this.settings = {
      host: String(def.host ?? '').trim(),
      port: numberProperty(def.port, 587, 'port'),
      secure: booleanProperty(def.secure, false),
      starttls: starttls === 'require' || starttls === 'never' ? starttls : 'auto',
      allowSelfSigned: booleanProperty(def.allowSelfSigned, false),
      user: this.credentials?.user || undefined,
      password: this.credentials?.password || undefined,
    };
    this.transport = () => createTransport(this.settings);
    // The usual pairing of port and TLS mode; the other way round, the server never answers or answers garbage.
    const { port, secure } = this.settings;
    if (!secure && port === 465) this.warn('port 465 usually expects TLS from the start: tick "Use TLS from the start" if mails time out');
    if (secure && (port === 587 || port === 25)) this.warn(`port ${port} usually starts in plain text and upgrades with STARTTLS: untick "Use TLS from the start" if mails fail with a TLS error`);
  }
  RED.nodes.registerType<MailServerNode, NodeDef, Record<string, never>, { user?: string; password?: string }>('mail-server', MailServerNodeCtor, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
