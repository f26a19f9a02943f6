/** Message payloads of SPEC.md, shared by the nodes and the tests. */

/** log-tail output. */
export interface LineMessage {
  payload: string;
  topic: string;
  filename: string;
  timestamp?: number;
}

/** failregex-match output payload: one failure. */
export interface Failure {
  /** Failure id: an IP in canonical form, or the <F-ID> text. */
  host: string;
  /** Epoch ms of the failure. */
  time: number;
  user?: string;
  /** Every named capture by fail2ban name (ip4, ip6, dns, user, custom F- groups). */
  fields: Record<string, string>;
  line: string;
  filter: string;
}

/** threshold-window output payload: a ban decision. */
export interface BanDecision {
  action: 'ban';
  host: string;
  ip?: string;
  /** Seconds, -1 for ever. */
  bantime: number;
  failures: number;
  matches: string[];
  jail: string;
  banCount: number;
  prefix?: boolean;
  time?: number;
}

export type FirewallEventName = 'ban' | 'unban' | 'restore' | 'repair' | 'error';

/** firewall-ban output payload. */
export interface FirewallEvent {
  event: FirewallEventName;
  ip: string;
  jail: string;
  bantime: number;
  /** Epoch ms, null for ever. */
  until: number | null;
  backend: string;
  error?: string;
  [extra: string]: unknown;
}
