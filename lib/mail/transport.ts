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

export function createTransport(s: MailServerSettings): Transporter {
  if (!s.host) throw new Error('mail-server has no host: set the SMTP server name or address');
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new Error(`mail-server port ${s.port} is not a port number`);
  return nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: !s.secure && s.starttls === 'require',
    ignoreTLS: !s.secure && s.starttls === 'never',
    auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
    tls: { rejectUnauthorized: !s.allowSelfSigned },
    connectionTimeout: 15000,
    greetingTimeout: 15000,
    socketTimeout: 30000,
  });
}
