/**
 * A watcher (a "machine" in CrowdSec's words): logs in with its machine id and password for a JWT, and
 * posts alerts with it. The token is renewed a minute before it expires, and again after a 401: each
 * start of the Local API makes a new secret, which voids every token given before.
 */
import { lapiRequest, LapiError } from './client';

/** Renew this long before the token expires. */
const RENEW_BEFORE_MS = 60_000;

export class Watcher {
  private token: string | null = null;
  private expires = 0;
  /** Logins made (a test and the status count them). */
  logins = 0;

  constructor(
    private readonly base: string,
    private readonly machineId: string,
    private readonly password: string,
    private readonly scenarios: string[] = [],
  ) {}

  private async login(): Promise<string> {
    if (!this.machineId || !this.password) throw new LapiError('no machine id or password: add the watcher with cscli machines add and fill them in the crowdsec-lapi node', 401);
    try {
      const answer = (await lapiRequest(this.base, '/v1/watchers/login', { method: 'POST', body: { machine_id: this.machineId, password: this.password, scenarios: this.scenarios } })) as { token?: unknown; expire?: unknown } | null;
      if (!answer || typeof answer.token !== 'string' || !answer.token) throw new LapiError('Local API login gave no token', 500);
      const expire = typeof answer.expire === 'string' ? Date.parse(answer.expire) : NaN;
      this.token = answer.token;
      // Without an expiry it says, a token is taken for 10 minutes.
      this.expires = Number.isFinite(expire) ? expire : Date.now() + 600_000;
      this.logins++;
      return this.token;
    } catch (err) {
      if (err instanceof LapiError && err.status === 401 || err instanceof LapiError && err.status === 403) {
        throw new LapiError(`the Local API refused machine ${this.machineId} (${err.message}): check it with cscli machines list (validated?) and the password in the crowdsec-lapi node`, err.status);
      }
      throw err;
    }
  }

  private async currentToken(now = Date.now()): Promise<string> {
    if (this.token && now < this.expires - RENEW_BEFORE_MS) return this.token;
    return this.login();
  }

  /** An authenticated request; after a 401 logs in again and tries once more. */
  async request(path: string, body: unknown): Promise<unknown> {
    const send = async (token: string) => lapiRequest(this.base, path, { method: 'POST', body, headers: { Authorization: `Bearer ${token}` } });
    try {
      return await send(await this.currentToken());
    } catch (err) {
      if (!(err instanceof LapiError) || err.status !== 401) throw err;
      this.token = null;
      return send(await this.login());
    }
  }

  /** Posts alerts; resolves with the ids the API gave them. */
  async postAlerts(alerts: unknown[]): Promise<string[]> {
    const ids = await this.request('/v1/alerts', alerts);
    return Array.isArray(ids) ? ids.map(String) : [];
  }
}
