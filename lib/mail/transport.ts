/** SMTP transport settings from a mail-server config node. */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';

export interface MailServerSettings {
  host: string;
  port: number;
  /** TLS from the start (port 465). */
  secure: boolean;
  starttls: 'auto' | 'require' | 'never';
  allowSelfSigned: boolean;
  user?: string;
  password?: string;
}

/** A nodemailer SMTP transport for the settings; throws with advice when host or port cannot work. */
export function createTransport(s: MailServerSettings): Transporter {
  if (!s.host) throw new Error('mail-server has no host: set the SMTP server name or address');
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new Error(`mail-server port ${s.port} is not a port number`);
  // nodemailer asks the DNS for a name before it looks in /etc/hosts; localhost is this machine (RFC
  // 6761) and needs no question to the DNS: its address is given, and TLS still checks the name.
  const local = /^localhost\.?$|\.localhost\.?$/i.test(s.host);
  return nodemailer.createTransport({
    host: local ? '127.0.0.1' : s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: !s.secure && s.starttls === 'require',
    ignoreTLS: !s.secure && s.starttls === 'never',
    auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
    tls: { rejectUnauthorized: !s.allowSelfSigned, ...(local ? { servername: s.host.replace(/\.$/, '') } : {}) },
    connectionTimeout: 15000,
    greetingTimeout: 15000,
    socketTimeout: 30000,
  });
}

/** Turns a failed send into advice a person can act on (the server's own words kept). */
export function describeMailError(err: unknown, s: Pick<MailServerSettings, 'host' | 'port' | 'allowSelfSigned'>): string {
  const e = err as { code?: string; message?: string; responseCode?: number };
  // OpenSSL's "80FC...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:file:line:" says "wrong version number".
  const text = String(e?.message ?? err)
    .replace(/[0-9A-F]{8,}:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):\S*/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  const where = `${s.host}:${s.port}`;
  if (/self[- ]signed|unable to verify|certificate has expired|Hostname\/IP does not match|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|CERT_HAS_EXPIRED/i.test(text) && !s.allowSelfSigned) {
    return `${where}: the server's TLS certificate is not trusted (${text}); for a home server with its own certificate, tick "accept a self-signed certificate"`;
  }
  if (/wrong version number|ssl3_get_record|packet length too long/i.test(text)) {
    return `${where}: TLS mismatch (${text}); use "TLS from the start" only for port 465, STARTTLS for 587 and 25`;
  }
  if (/Error upgrading connection with STARTTLS/i.test(text)) {
    return `${where}: the server does not offer STARTTLS (${text}); choose "TLS from the start" if it listens for TLS (port 465), or STARTTLS "never" only for a server on a trusted network`;
  }
  if (/Greeting never received/i.test(text)) {
    return `${where}: the server sent no greeting (${text}); if it expects TLS from the start (port 465), tick "Use TLS from the start"`;
  }
  if (e?.code === 'EAUTH' || e?.responseCode === 535) return `${where}: login refused (${text}); check the user and password of the mail server`;
  if (e?.responseCode && e.responseCode >= 500) return `${where}: the server refused the mail (${text}); check the from and to addresses and what the server allows this user to send`;
  if (e?.code === 'ECONNECTION' || /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT/.test(text) || e?.code === 'ETIMEDOUT' || e?.code === 'EDNS') {
    return `${where}: cannot reach the mail server (${text}); check the host and port, and that the server is running`;
  }
  return `${where}: ${text}`;
}
