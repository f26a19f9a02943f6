/**
 * The Local API over HTTP(S) with Node's fetch. CrowdSec 1.4 refuses a watcher whose User-Agent is not
 * `name/version` (with a 401 that only its log explains), so every request names this package.
 */
import { describeValue } from '../untrusted';

const PACKAGE_VERSION: string = (() => {
  try {
    return String((require('../../../package.json') as { version?: string }).version ?? '0');
  } catch {
    return '0';
  }
})();

export const USER_AGENT = `node-red-contrib-fail2ban/${PACKAGE_VERSION}`;

/** An answer of the API other than 2xx; `status` 0 when it could not be reached at all. */
export class LapiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Checks the API's address: http or https, no credentials or query in it. Returns it without a trailing /. */
export function checkLapiUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url ?? '').trim());
  } catch {
    throw new Error(`Local API URL ${describeValue(url, 60)} is not a URL: give e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`Local API URL must be http:// or https:// (got ${parsed.protocol})`);
  if (parsed.username || parsed.password) throw new Error('Local API URL must not hold a user or password: use the credentials');
  if (parsed.search || parsed.hash) throw new Error('Local API URL must not hold a query or fragment');
  return parsed.toString().replace(/\/+$/, '');
}

/** The largest answer read (a stream at startup of a large blocklist runs to megabytes). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export interface LapiRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

/** One request to the API; resolves with its parsed JSON, rejects with a LapiError that says what went wrong. */
export async function lapiRequest(base: string, path: string, req: LapiRequest = {}): Promise<unknown> {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: 'application/json', ...req.headers };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method: req.method ?? 'GET',
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(req.timeoutMs ?? 30_000),
      redirect: 'error',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? 'no answer in time' : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new LapiError(`Local API ${base} unreachable (${why})`, 0);
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw new LapiError(`Local API answer of ${length} bytes is too large`, res.status);
  }
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) throw new LapiError('Local API answer is too large', res.status);
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const said = json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string' ? (json as { message: string }).message : text;
    throw new LapiError(`Local API answered ${res.status} to ${req.method ?? 'GET'} ${path.split('?')[0]}: ${describeValue(said, 80)}`, res.status);
  }
  return json;
}
