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
  }
  RED.nodes.registerType('mail-server', MailServerNodeCtor, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
