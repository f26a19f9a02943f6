/** The jail admin API's shapes, shared by the runtime endpoints and f2b-client. */
import type { JailStatus } from './status';

/** GET /firewall-ban/jails */
export const JAILS_PATH = '/firewall-ban/jails';

export interface JailsAnswer {
  jails: JailStatus[];
}

/** POST /firewall-ban/jails: `banip`/`unbanip` in `jail`, `unban` in every jail. */
export interface JailChange {
  action: 'banip' | 'unbanip' | 'unban';
  jail?: string;
  ips: string[];
  /** For banip: seconds or a fail2ban time; each node's own bantime when missing. */
  bantime?: string | number;
}

export interface JailChangeAnswer {
  action: JailChange['action'];
  /** Addresses that were banned (banip) or lifted (unbanip, unban), by jail. */
  changed: Array<{ ip: string; jails: string[] }>;
  /** How many addresses were banned or lifted (fail2ban-client's answer). */
  count: number;
}

/** An error answer: what went wrong and, for an unknown jail, the known ones. */
export interface JailErrorAnswer {
  error: string;
  jails?: string[];
  refused?: Array<{ ip: string; error: string }>;
}
