/** f2b-client's side of the jail admin API: requests to a running Node-RED, errors that say what to do. */
import { JAILS_PATH, type JailChange, type JailChangeAnswer, type JailErrorAnswer, type JailsAnswer } from './api';

/** An error for the user; `exitCode` as f2b-client exits with it. */
export class ClientError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** An answer 401: a login is needed (no token) or the token was refused. */
export class AuthNeededError extends ClientError {}

export interface ClientOptions {
  url: string;
  token?: string;
}

export class JailClient {
  readonly base: string;
  token: string | undefined;

  constructor(options: ClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new ClientError(`--url ${JSON.stringify(options.url)} is not a URL: give Node-RED's address, e.g. http://127.0.0.1:1880`, 2);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ClientError(`--url ${options.url}: use an http:// or https:// address`, 2);
    this.base = parsed.href.replace(/\/+$/, '');
    this.token = options.token || undefined;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; data: unknown }> {
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code === 'ECONNREFUSED' ? 'connection refused' : cause?.message ?? (err as Error).message;
      throw new ClientError(`cannot reach Node-RED at ${this.base} (${why}): is it running? Start it, or give its address with --url or F2B_URL`);
    }
    const text = await res.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: kept as text */
    }
    return { status: res.status, data };
  }

  /** Whether the Node-RED asks for a login (adminAuth on). */
  async authActive(): Promise<boolean> {
    const { status, data } = await this.request('GET', '/auth/login');
    return status === 200 && !!data && typeof data === 'object' && 'type' in data;
  }

  /** Logs in through Node-RED's /auth/token, as its own admin tool does; keeps the token. */
  async login(username: string, password: string): Promise<string> {
    const { status, data } = await this.request('POST', '/auth/token', { client_id: 'node-red-admin', grant_type: 'password', scope: '*', username, password });
    const token = status === 200 && data && typeof data === 'object' ? (data as { access_token?: unknown }).access_token : undefined;
    if (typeof token !== 'string') throw new AuthNeededError(`login as ${JSON.stringify(username)} at ${this.base} refused: check the user name and password`);
    this.token = token;
    return token;
  }

  private fail(status: number, data: unknown, permission: string): never {
    const answer = (data && typeof data === 'object' ? data : {}) as Partial<JailErrorAnswer>;
    const said = typeof answer.error === 'string' ? answer.error : typeof data === 'string' && data.length < 200 ? data.trim() : '';
    if (status === 401) {
      throw new AuthNeededError(
        this.token
          ? `Node-RED at ${this.base} refused the token (wrong or expired): log in again, or pass a valid one with --token or F2B_TOKEN`
          : `Node-RED at ${this.base} asks for a login (adminAuth is on): pass a token with --token or F2B_TOKEN, or run f2b-client on a terminal to log in`,
      );
    }
    if (status === 403) throw new ClientError(`the user of this token may not do this: it needs the ${permission} permission in Node-RED's adminAuth`);
    if (status === 404 && !answer.jails) {
      throw new ClientError(`Node-RED at ${this.base} has no jail API (${JAILS_PATH}): install or update node-red-contrib-fail2ban there, and check --url`);
    }
    if (answer.jails) throw new ClientError(`${said}${answer.jails.length ? '' : ' (no jail is deployed)'}`);
    throw new ClientError(said ? said : `Node-RED answered ${status}`);
  }

  async jails(): Promise<JailsAnswer> {
    const { status, data } = await this.request('GET', JAILS_PATH);
    if (status !== 200 || !data || typeof data !== 'object' || !Array.isArray((data as JailsAnswer).jails)) this.fail(status, data, 'firewall-ban.read');
    return data as JailsAnswer;
  }

  async change(change: JailChange): Promise<JailChangeAnswer> {
    const { status, data } = await this.request('POST', JAILS_PATH, change);
    // Node-RED answers 401 to a valid token that lacks the permission too: a token that may read is
    // valid, and what it lacks is the right to change.
    if (status === 401 && this.token && (await this.request('GET', JAILS_PATH)).status === 200) this.fail(403, data, 'firewall-ban.write');
    if (status !== 200 || !data || typeof data !== 'object') this.fail(status, data, 'firewall-ban.write');
    return data as JailChangeAnswer;
  }
}
