/**
 * Sample lines for the built-in filters, written for the tests (documentation addresses only): lines
 * in each daemon's log format that must match (with the offender and user), lines that must not,
 * lines where client-controlled text holds another address, and a hostile line.
 */
import { MAX_LINE_LENGTH } from '../../lib/filter';

export interface Hit {
  line: string;
  host: string;
  user?: string;
  /**
   * false: fail2ban's own filter (the table's `upstream`) does not find this failure, ours does on
   * purpose; or another of fail2ban's filters that reads this line.
   */
  upstream?: false | Upstream;
}

/** One of fail2ban's filters (filter.d in Debian's package) and its options. */
export interface Upstream {
  filter: string;
  options?: Record<string, string>;
}

/** Lines of one connection, in order, that make one failure together (fail2ban's mlfid session). */
export interface Session {
  lines: string[];
  /** The offender, found with the last line (the lines before wait for it); null for none. */
  host: string | null;
  /** fail2ban's own filter (the table's `upstream`) does not find this failure; ours does on purpose. */
  upstream?: false;
}


export interface Table {
  filter: string;
  options?: Record<string, string>;
  /** Lines that are failures: the host (and user) expected. */
  match: Hit[];
  /** Lines that are no failure. */
  miss: string[];
  /** Client-controlled text holds another address: the expected host, or null for no match. */
  injected: Array<{ line: string; host: string | null }>;
  /** A long hostile line: `head` then `fragment` repeated to 64 KiB. */
  hostile: { head: string; fragment: string };
  /** Failures spread over several lines of one process. */
  sessions?: Session[];
  /**
   * fail2ban's own filter for this daemon (filter.d of Debian's package) and its options: on each
   * `match` line (unless marked `upstream: false`) and each session it finds the host we find.
   */
  upstream?: Upstream;
}

/** Every line of a table, in the order the tests feed them: failures, sessions, others, injected. */
export function tableLines(t: Table): string[] {
  return [...t.match.map((h) => h.line), ...(t.sessions ?? []).flatMap((s) => s.lines), ...t.miss, ...t.injected.map((i) => i.line)];
}

// sshd: every line has its own process id, as each connection has (lines of one process are one
// session, see filters/sshd.conf). Injected addresses are 198.51.100.1 and 10.0.0.1, in user names
// and other text the client chose.
const ssh = (pid: number, message: string) => `Nov 24 10:00:01 box sshd[${pid}]: ${message}`;

/** The two-line failed banner exchanges of OpenSSH 8.x to 10.x, and what they name. */
const bannerSessions: Session[] = [
  // 8.x-9.5: the first line is an error
  { lines: [ssh(3001, 'error: kex_exchange_identification: Connection closed by remote host'), ssh(3001, 'Connection closed by 203.0.113.30 port 51234')], host: '203.0.113.30' },
  { lines: [ssh(3002, 'error: kex_exchange_identification: read: Connection reset by peer'), ssh(3002, 'Connection reset by 2001:db8::30 port 51235')], host: '2001:db8::30' },
  { lines: [ssh(3003, 'error: kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.1"'), ssh(3003, 'banner exchange: Connection from 203.0.113.31 port 51236: invalid format')], host: '203.0.113.31' },
  // 9.6+ with LogLevel VERBOSE: the first line is no error
  { lines: [ssh(3004, 'kex_exchange_identification: Connection closed by remote host'), ssh(3004, 'Connection closed by 203.0.113.32 port 51237')], host: '203.0.113.32' },
  // 10.3+: the banner is read by sshd-auth, whose lines sshd-session writes with [preauth]
  // (fail2ban's sshd.conf reads only "sshd")
  {
    lines: [
      'Nov 24 10:00:01 box sshd-session[3005]: error: kex_exchange_identification: read: Connection reset by peer [preauth]',
      'Nov 24 10:00:01 box sshd-session[3005]: Connection reset by 203.0.113.33 port 51238 [preauth]',
    ],
    host: '203.0.113.33',
    upstream: false,
  },
  // the client's protocol identifier holds an address: the next line names the one sshd writes
  {
    lines: [ssh(3006, 'error: kex_exchange_identification: client sent invalid protocol identifier "SSH-2.0 from 198.51.100.1 port 22"'), ssh(3006, 'banner exchange: Connection from 203.0.113.34 port 51239: invalid format')],
    host: '203.0.113.34',
  },
];

/** sshd's lines that are no failure in any mode. */
const sshdNever = [
  ssh(2101, 'Accepted password for root from 203.0.113.5 port 22 ssh2'),
  ssh(2102, 'Accepted publickey for root from 203.0.113.5 port 22 ssh2: ED25519 SHA256:bXlrZXlmaW5nZXJwcmludA'),
  ssh(2103, 'Received disconnect from 203.0.113.5 port 22:11: disconnected by user'),
  ssh(2104, 'Disconnected from user alice 203.0.113.5 port 22'),
  ssh(2105, 'pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)'),
  ssh(2106, 'Connection from 203.0.113.5 port 50000 on 192.0.2.1 port 22 rdomain ""'),
  // on its own (no banner exchange line before it in its process)
  ssh(2107, 'Connection closed by 203.0.113.5 port 51241'),
  ssh(2108, 'Received disconnect from 203.0.113.5 port 4000:11: Bye Bye [preauth]'),
  'Nov 24 10:00:01 box cron[2109]: Failed password for root from 203.0.113.5 port 22 ssh2',
];

const sshdNormal: Hit[] = [
  { line: ssh(2001, 'Failed password for root from 203.0.113.5 port 22 ssh2'), host: '203.0.113.5', user: 'root' },
  { line: ssh(2002, 'Failed password for invalid user admin from 203.0.113.6 port 41000 ssh2'), host: '203.0.113.6', user: 'admin' },
  { line: ssh(2003, 'Invalid user oracle from 2001:db8::7 port 5555'), host: '2001:db8::7', user: 'oracle' },
  { line: ssh(2004, 'error: maximum authentication attempts exceeded for root from 198.51.100.3 port 1 ssh2 [preauth]'), host: '198.51.100.3', user: 'root' },
  { line: ssh(2005, 'User bob from 198.51.100.4 not allowed because not listed in AllowUsers'), host: '198.51.100.4', user: 'bob' },
  { line: ssh(2006, 'Failed keyboard-interactive/pam for invalid user test from 203.0.113.7 port 4000 ssh2'), host: '203.0.113.7', user: 'test' },
  { line: ssh(2007, 'error: PAM: Authentication failure for root from 203.0.113.8'), host: '203.0.113.8', user: 'root' },
  { line: '2026-11-24T10:00:05.123456+01:00 box sshd[2008]: Failed password for root from ::ffff:192.0.2.44 port 1 ssh2', host: '192.0.2.44', user: 'root' },
  // a client that gives up after a failed login (JSch and the tools built on it send this)
  { line: ssh(2009, 'Received disconnect from 203.0.113.9 port 50000:3: com.jcraft.jsch.JSchException: Auth fail [preauth]'), host: '203.0.113.9' },
  { line: ssh(2017, 'ROOT LOGIN REFUSED FROM 203.0.113.20 port 4000'), host: '203.0.113.20', user: 'ROOT' },
  { line: ssh(2018, 'Disconnecting invalid user admin 203.0.113.21 port 44004: Change of username or service not allowed: (admin,ssh-connection) -> (root,ssh-connection) [preauth]'), host: '203.0.113.21', user: 'admin' },
  { line: ssh(2019, 'Failed hostbased for alice from 203.0.113.22 port 4001 ssh2: ECDSA SHA256:Zm9vYmFyYmF6cXV4, client user "alice", client host "ws1.example.net"'), host: '203.0.113.22', user: 'alice' },
  // OpenSSH before 7.x wrote no port
  { line: ssh(2020, 'Received disconnect from 203.0.113.23: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]'), host: '203.0.113.23' },
  // OpenSSH 9.8+ runs each connection in sshd-session (fail2ban's sshd.conf reads only "sshd")
  { line: 'Nov 24 10:00:01 box sshd-session[2010]: Invalid user test from 198.51.100.2 port 5 [preauth]', host: '198.51.100.2', user: 'test', upstream: false },
];

const sshdInjectedNormal: Table['injected'] = [
  { line: ssh(2201, 'Failed password for invalid user root from 198.51.100.1 port 22 from 203.0.113.50 port 5555 ssh2'), host: '203.0.113.50' },
  { line: ssh(2202, 'Invalid user root from 198.51.100.1 port 22 from 203.0.113.51 port 5555'), host: '203.0.113.51' },
  { line: ssh(2203, 'Failed password for invalid user x from 10.0.0.1 port 22 ssh2 from 203.0.113.52 port 5555 ssh2'), host: '203.0.113.52' },
  // the disconnect message is the client's: the address before it is sshd's
  { line: ssh(2204, 'Received disconnect from 203.0.113.53 port 50000:3: x from 198.51.100.1 port 22: Auth fail [preauth]'), host: '203.0.113.53' },
  { line: ssh(2205, 'Failed password for invalid user x from 198.51.100.1 port 22 ssh2: ED25519 SHA256:Zm9v from 203.0.113.54 port 4008 ssh2'), host: '203.0.113.54' },
  // a host based client names its user and host itself
  { line: ssh(2206, 'Failed hostbased for alice from 203.0.113.55 port 4001 ssh2: ECDSA SHA256:Zm9v, client user "x from 198.51.100.1 port 22 ssh2", client host "198.51.100.1"'), host: '203.0.113.55' },
  // sshd names both users of a refused change of user; a user name holding the rest of the line is refused
  {
    line: ssh(2207, 'Disconnecting invalid user a 198.51.100.1 port 22: Change of username or service not allowed: (a,x 203.0.113.56 port 4004: Change of username or service not allowed: (a 198.51.100.1 port 22: Change of user [preauth]'),
    host: null,
  },
  { line: ssh(2208, 'Disconnecting invalid user a 198.51.100.1 port 22: Change of username or service not allowed: (a,b) -> (c,d) 203.0.113.57 port 4005: Change of username or service not allowed: (a 198.51.100.1 port 22: Chan [preauth]'), host: null },
];

/** Connections closed before a login: counted from mode=ddos on. */
const sshdPreauthClosed: Hit[] = [
  { line: ssh(2301, 'Connection closed by 192.0.2.90 port 45000 [preauth]'), host: '192.0.2.90' },
  { line: ssh(2302, 'Connection reset by 2001:db8::91 port 45001 [preauth]'), host: '2001:db8::91' },
  { line: ssh(2303, 'Disconnected from 192.0.2.92 port 45002 [preauth]'), host: '192.0.2.92' },
];

/** A client that tried to log in and then left: counted in mode=aggressive. */
const sshdUserClosed: Hit[] = [
  { line: ssh(2401, 'Disconnected from invalid user admin 198.51.100.3 port 4000 [preauth]'), host: '198.51.100.3', user: 'admin' },
  { line: ssh(2402, 'Connection closed by authenticating user root 203.0.113.13 port 51238 [preauth]'), host: '203.0.113.13', user: 'root' },
  { line: ssh(2403, 'Disconnected from authenticating user root 203.0.113.14 port 51239 [preauth]'), host: '203.0.113.14', user: 'root' },
  { line: ssh(2404, 'Connection reset by invalid user test 2001:db8::15 port 51240 [preauth]'), host: '2001:db8::15', user: 'test' },
  { line: ssh(2405, 'Connection closed by invalid user  203.0.113.16 port 51241 [preauth]'), host: '203.0.113.16' },
];

/** A user name the client chose holds an address (and "port", "from", "[preauth]"): sshd writes its own last. */
const sshdInjectedClosed: Table['injected'] = [
  { line: ssh(2501, 'Connection closed by invalid user x 10.0.0.1 port 22 203.0.113.60 port 51237 [preauth]'), host: '203.0.113.60' },
  { line: ssh(2502, 'Disconnected from invalid user x 198.51.100.1 port 22 [preauth] 203.0.113.61 port 4000 [preauth]'), host: '203.0.113.61' },
  { line: ssh(2503, 'Connection closed by authenticating user from 198.51.100.1 port 22 203.0.113.62 port 4001 [preauth]'), host: '203.0.113.62' },
  { line: ssh(2504, 'Connection reset by invalid user 198.51.100.1 2001:db8::63 port 4002 [preauth]'), host: '2001:db8::63' },
  { line: ssh(2505, 'Disconnected from invalid user Connection closed by 198.51.100.1 port 22 [preauth] 203.0.113.64 port 4003 [preauth]'), host: '203.0.113.64' },
];

export const tables: Table[] = [
  {
    filter: 'sshd',
    upstream: { filter: 'sshd' },
    match: sshdNormal,
    miss: [
      ...sshdNever,
      ssh(2110, 'Failed publickey for root from 203.0.113.5 port 22 ssh2: ED25519 SHA256:bXlrZXlmaW5nZXJwcmludA'),
      ssh(2111, 'Did not receive identification string from 203.0.113.5 port 4'),
      ...sshdPreauthClosed.map((h) => h.line),
      ...sshdUserClosed.map((h) => h.line),
      ...bannerSessions.flatMap((s) => s.lines),
    ],
    injected: sshdInjectedNormal,
    hostile: { head: 'Nov 24 10:00:01 box sshd[1]: Failed password for invalid user ', fragment: 'a from 192.0.2.1 port 1 ' },
  },
  {
    filter: 'sshd',
    options: { publickey: 'any' },
    upstream: { filter: 'sshd', options: { publickey: 'any' } },
    match: [
      { line: ssh(2601, 'Failed publickey for root from 203.0.113.24 port 22 ssh2: ED25519 SHA256:bXlrZXlmaW5nZXJwcmludA'), host: '203.0.113.24', user: 'root' },
      { line: ssh(2602, 'Failed publickey for invalid user git from 2001:db8::25 port 4000 ssh2: RSA SHA256:cnNha2V5ZmluZ2VycHJpbnQ'), host: '2001:db8::25', user: 'git' },
      { line: ssh(2603, 'Failed publickey for git from 203.0.113.26 port 4001 ssh2: ED25519-CERT SHA256:Y2VydGtleQ ID deploy@ci (serial 7) CA ED25519 SHA256:Y2FrZXk'), host: '203.0.113.26', user: 'git' },
      { line: ssh(2604, 'Failed publickey for root from 203.0.113.27 port 22 ssh2'), host: '203.0.113.27', user: 'root' },
      ...sshdNormal,
    ],
    miss: sshdNever,
    injected: [
      { line: ssh(2701, 'Failed publickey for invalid user x from 198.51.100.1 port 22 ssh2: RSA SHA256:YWJj from 203.0.113.73 port 4005 ssh2: RSA SHA256:ZGVm'), host: '203.0.113.73' },
      // a certificate's ID is the client's text; after an account sshd's address comes first
      { line: ssh(2702, 'Failed publickey for git from 203.0.113.74 port 4006 ssh2: ED25519-CERT SHA256:YWJj ID x from 198.51.100.1 port 22 ssh2 (serial 1) CA ED25519 SHA256:ZGVm'), host: '203.0.113.74' },
      // ... after an invalid user either could be: refused
      { line: ssh(2703, 'Failed publickey for invalid user x from 203.0.113.75 port 4007 ssh2: ED25519-CERT SHA256:YWJj ID x from 198.51.100.1 port 22 ssh2: RSA SHA256:eno (serial 1) CA ED25519 SHA256:ZGVm'), host: null },
      ...sshdInjectedNormal,
    ],
    hostile: { head: 'Nov 24 10:00:01 box sshd[1]: Failed publickey for invalid user ', fragment: 'a from 192.0.2.1 port 1 ssh2: RSA SHA256:x ' },
  },
  {
    filter: 'sshd',
    options: { mode: 'ddos' },
    upstream: { filter: 'sshd', options: { mode: 'ddos' } },
    match: [
      ...sshdNormal,
      { line: ssh(2011, 'Did not receive identification string from 203.0.113.10 port 4'), host: '203.0.113.10' },
      { line: ssh(2012, 'banner exchange: Connection from 203.0.113.11 port 51236: invalid format'), host: '203.0.113.11' },
      { line: ssh(2013, "Bad protocol version identification 'GET / HTTP/1.1' from 203.0.113.12 port 4"), host: '203.0.113.12' },
      ...sshdPreauthClosed,
    ],
    sessions: bannerSessions,
    miss: [
      ...sshdNever,
      // fail2ban's mode=ddos counts these too; ours leaves a client that tried to log in to aggressive
      ...sshdUserClosed.map((h) => h.line),
      ssh(2112, 'Unable to negotiate with 203.0.113.5 port 4: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]'),
    ],
    injected: [
      ...sshdInjectedNormal,
      // the address before "port N [preauth]" follows a user name: never a connection closed before a login
      ...sshdInjectedClosed.map((i) => ({ line: i.line, host: null })),
    ],
    hostile: { head: 'Nov 24 10:00:01 box sshd[1]: Connection closed by ', fragment: '192.0.2.1 port 1 ' },
  },
  {
    filter: 'sshd',
    options: { mode: 'extra' },
    upstream: { filter: 'sshd', options: { mode: 'extra' } },
    match: [
      ...sshdNormal,
      // fail2ban's mode=extra reads only the "Disconnected from" ones
      ...sshdUserClosed.map((h): Hit => (h.line.includes('Disconnected from') ? h : { ...h, upstream: false })),
      { line: ssh(2014, 'Unable to negotiate with 203.0.113.17 port 4: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]'), host: '203.0.113.17' },
      { line: ssh(2016, 'Received disconnect from 203.0.113.19 port 4002:14: No supported authentication methods available [preauth]'), host: '203.0.113.19' },
    ],
    miss: [
      ...sshdNever,
      ...sshdPreauthClosed.map((h) => h.line),
      ...bannerSessions.flatMap((s) => s.lines),
      ssh(2113, 'Did not receive identification string from 203.0.113.5 port 4'),
    ],
    injected: [...sshdInjectedNormal, ...sshdInjectedClosed],
    hostile: { head: 'Nov 24 10:00:01 box sshd[1]: Disconnected from authenticating user ', fragment: 'a 192.0.2.1 port 1 [preauth] ' },
  },
  {
    filter: 'sshd',
    options: { mode: 'aggressive' },
    upstream: { filter: 'sshd', options: { mode: 'aggressive' } },
    match: [
      ...sshdNormal,
      ...sshdPreauthClosed,
      ...sshdUserClosed,
      { line: ssh(2014, 'Unable to negotiate with 203.0.113.17 port 4: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]'), host: '203.0.113.17' },
      { line: ssh(2015, 'Unable to negotiate with 2001:db8::18 port 4: no matching host key type found. Their offer: ssh-rsa,ssh-dss [preauth]'), host: '2001:db8::18' },
      { line: ssh(2016, 'Received disconnect from 203.0.113.19 port 4002:14: No supported authentication methods available [preauth]'), host: '203.0.113.19' },
    ],
    sessions: bannerSessions,
    miss: sshdNever,
    injected: [
      ...sshdInjectedNormal,
      ...sshdInjectedClosed,
      { line: ssh(2506, 'Unable to negotiate with 203.0.113.65 port 4: no matching host key type found. Their offer: 198.51.100.1 port 22 [preauth]'), host: '203.0.113.65' },
      { line: ssh(2507, 'Received disconnect from 203.0.113.66 port 4003:14: No supported authentication methods available from 198.51.100.1 port 22 [preauth]'), host: '203.0.113.66' },
    ],
    hostile: { head: 'Nov 24 10:00:01 box sshd[1]: Connection closed by invalid user ', fragment: 'a 192.0.2.1 port 1 ' },
  },
  {
    filter: 'postfix',
    upstream: { filter: 'postfix' },
    match: [
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<mail.example.net>', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from mail.example.net[2001:db8::25]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@example.net> to=<nobody@example.org> proto=ESMTP helo=<mail.example.net>', host: '2001:db8::25' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[198.51.100.20]: 450 4.7.1 Client host rejected: cannot find your hostname, [198.51.100.20]; from=<a@example.net> to=<b@example.org> proto=ESMTP helo=<x>', host: '198.51.100.20' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[198.51.100.21]: 450 4.7.1 <bogus>: Helo command rejected: Host not found; from=<a@example.net> to=<b@example.org> proto=ESMTP helo=<bogus>', host: '198.51.100.21' },
      { line: 'Nov 24 10:00:01 mx postfix/submission/smtpd[99]: 4Nk9Zx3yQvz1XX: reject: RCPT from unknown[203.0.113.22]:41000: 554 5.7.1 Service unavailable; Client host [203.0.113.22] blocked using zen.example.net; from=<a@b> to=<c@d> proto=ESMTP helo=<x>', host: '203.0.113.22' },
      { line: '2026-11-24T10:00:01.123456+01:00 mx postfix/smtpd[2211]: NOQUEUE: reject: MAIL from unknown[203.0.113.23]: 553 5.7.1 <root@example.org>: Sender address rejected: not logged in; from=<root@example.org> proto=ESMTP helo=<x>', host: '203.0.113.23', upstream: false },
      { line: 'Nov 24 10:00:01 mx postfix/postscreen[2211]: NOQUEUE: reject: RCPT from [203.0.113.24]:50123: 550 5.7.1 Service unavailable; client [203.0.113.24] blocked using zen.example.net; from=<a@example.net>, to=<b@example.org>, proto=ESMTP, helo=<x>', host: '203.0.113.24' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.25]: 454 4.7.1 Service unavailable; Client host [203.0.113.25] blocked using bl.example.net; from=<a@example.net> to=<b@example.org> proto=ESMTP helo=<x>', host: '203.0.113.25' },
      // 450: an unknown recipient domain, an unknown or undeliverable recipient (address verification), a HELO name that is no full name
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.26]: 450 4.1.2 <x@nonexistent.example>: Recipient address rejected: Domain not found; from=<a@example.net> to=<x@nonexistent.example> proto=ESMTP helo=<x>', host: '203.0.113.26' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.27]: 450 4.1.1 <nobody@example.org>: Recipient address rejected: undeliverable address: host mail.example.org[192.0.2.25] said: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command); from=<a@example.net> to=<nobody@example.org> proto=ESMTP helo=<x>', host: '203.0.113.27' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from mail.example.net[2001:db8::28]: 450 4.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@example.net> to=<nobody@example.org> proto=ESMTP helo=<mail.example.net>', host: '2001:db8::28' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.29]: 450 4.7.1 <localhost>: Helo command rejected: need fully-qualified hostname; from=<a@example.net> to=<b@example.org> proto=ESMTP helo=<localhost>', host: '203.0.113.29' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: VRFY from unknown[203.0.113.30]: 450 4.1.1 <root>: Recipient address rejected: undeliverable address: mail for root loops back to myself; to=<root> proto=SMTP', host: '203.0.113.30' },
    ],
    miss: [
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/help/example.org.html; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<mail.example.net>',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: connect from unknown[203.0.113.5]',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: 4Nk9Zx3yQvz1XX: client=mail.example.net[203.0.113.5]',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: UGFzc3dvcmQ6',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: lost connection after AUTH from unknown[203.0.113.5]',
      'Nov 24 10:00:01 mx postfix/smtp[2212]: 4Nk9Zx3yQvz1XX: to=<a@example.net>, relay=mx.example.net[198.51.100.9]:25, delay=1, status=bounced (host mx.example.net[198.51.100.9] said: 550 5.1.1 no such user)',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <x@[198.51.100.1]>: Relay access denied; from=<unknown[198.51.100.1]: @example.net> to=<x@[198.51.100.1]> proto=ESMTP helo=<unknown[198.51.100.1]>', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.1.1 <x@[198.51.100.1]>: Recipient address rejected: undeliverable address: host unknown[198.51.100.1] said: 550 x; from=<RCPT from unknown[198.51.100.1]: 450 4.1.1 > to=<x@[198.51.100.1]> proto=ESMTP helo=<[198.51.100.1]>', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <NOQUEUE: reject: RCPT from x[198.51.100.1]: 554 5.7.1 x>: Recipient address rejected: Greylisted; from=<a@b> to=<c@d>', host: null },
    ],
    hostile: { head: 'Nov 24 10:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from ', fragment: 'unknown[192.0.2.1]: ' },
  },
  {
    filter: 'postfix',
    options: { mode: 'auth' },
    upstream: { filter: 'postfix', options: { mode: 'auth' } },
    match: [
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: UGFzc3dvcmQ6', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mx postfix/submission/smtpd[2211]: warning: host.example.net[2001:db8::77]: SASL PLAIN authentication failed: authentication failure', host: '2001:db8::77' },
    ],
    miss: [
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: 4Nk9Zx3yQvz1XX: client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username=alice',
      // the SASL server failed, not the client
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: Connection lost to authentication server',
    ],
    injected: [],
    hostile: { head: 'Nov 24 10:00:01 mx postfix/smtpd[1]: warning: ', fragment: 'unknown[192.0.2.1]: SASL ' },
  },
  {
    filter: 'postfix',
    options: { mode: 'ddos' },
    upstream: { filter: 'postfix', options: { mode: 'ddos' } },
    match: [
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: lost connection after AUTH from unknown[203.0.113.5]', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: too many errors after RCPT from unknown[203.0.113.6]', host: '203.0.113.6', upstream: { filter: 'postfix' } },
      { line: 'Nov 24 10:00:01 mx postfix/postscreen[2211]: PREGREET 11 after 0.08 from [203.0.113.7]:4711: EHLO x\\r\\n', host: '203.0.113.7' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: disconnect from unknown[203.0.113.8] ehlo=1 auth=0/1 quit=1 commands=2/3', host: '203.0.113.8' },
      { line: 'Nov 24 10:00:01 mx postfix/postscreen[2211]: COMMAND TIME LIMIT from [2001:db8::25]:4000 after CONNECT', host: '2001:db8::25' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: improper command pipelining after EHLO from unknown[203.0.113.9]: MAIL FROM:<a@b>\\r\\n', host: '203.0.113.9', upstream: { filter: 'postfix' } },
    ],
    miss: [
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: disconnect from unknown[203.0.113.5] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: disconnect from unknown[203.0.113.5] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: lost connection after DATA (0 bytes) from mail.example.net[203.0.113.5]',
    ],
    injected: [{ line: 'Nov 24 10:00:01 mx postfix/postscreen[2211]: NON-SMTP COMMAND from [203.0.113.7]:4711 after CONNECT: GET / from [198.51.100.1]:1', host: '203.0.113.7' }],
    hostile: { head: 'Nov 24 10:00:01 mx postfix/postscreen[1]: PREGREET 11 after 0.1 from ', fragment: '[192.0.2.1]:1' },
  },
  {
    filter: 'postfix-greylist',
    match: [
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/help/example.org.html; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<mail.example.net>', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from mail.example.net[2001:db8::25]:50000: 450 4.7.1 <bob@example.org>: Recipient address rejected: Greylisted for 300 seconds; from=<a@example.net> to=<bob@example.org> proto=ESMTP helo=<mail.example.net>', host: '2001:db8::25' },
    ],
    miss: [
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>',
      'Nov 24 10:00:01 mx postgrey[900]: action=greylist, reason=new, client_name=unknown, client_address=203.0.113.5, sender=x@example.net, recipient=info@example.org',
      'Nov 24 10:00:01 mx postfix/smtpd[2211]: 4Nk9Zx3yQvz1XX: client=mail.example.net[203.0.113.5]',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <x@[198.51.100.1]>: Recipient address rejected: Greylisted, see http://postgrey.example/; from=<RCPT from unknown[198.51.100.1]: > to=<x@[198.51.100.1]> proto=ESMTP helo=<[198.51.100.1]>', host: '203.0.113.5' },
    ],
    hostile: { head: 'Nov 24 10:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.2.0 <', fragment: 'a>: Recipient address rejected: ' },
  },
  {
    filter: 'postfix-greylist',
    options: { reason: 'Please try again later' },
    match: [{ line: 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <info@example.org>: Recipient address rejected: Please try again later; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>', host: '203.0.113.5' }],
    miss: ['Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[203.0.113.5]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>'],
    injected: [],
    hostile: { head: 'Nov 24 10:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.2.0 <', fragment: 'a>: Please try again ' },
  },
  {
    filter: 'named',
    upstream: { filter: 'named-refused' },
    match: [
      { line: "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.5#53411 (example.org): query (cache) 'example.org/ANY/IN' denied (allow-query-cache did not match)", host: '203.0.113.5', upstream: false },
      { line: "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 2001:db8::53#4000 (example.com): view external: zone transfer 'example.com/AXFR/IN' denied", host: '2001:db8::53', upstream: false },
      { line: "24-Nov-2026 10:00:01.123 security: info: client @0x7f3a2c0a8b68 198.51.100.7#1053 (example.org): update 'example.org/IN' denied", host: '198.51.100.7', upstream: false },
      { line: "24-Nov-2026 10:00:01.123 client 198.51.100.8#1053: query 'x.test/A/IN' denied", host: '198.51.100.8' },
      { line: "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.9#4000 (example.net): bad zone transfer request: 'example.net/IN': non-authoritative zone (NOTAUTH)", host: '203.0.113.9' },
    ],
    miss: [
      "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.5#53411 (example.org): query: example.org IN A +E(0)K (192.0.2.53)",
      "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.5#53411 (example.org): transfer of 'example.org/IN': AXFR started (serial 2026112401)",
      'Nov 24 10:00:01 ns1 named[811]: zone example.org/IN: loaded serial 2026112401',
    ],
    injected: [
      { line: "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.5#53411 (198.51.100.1#53): query (cache) 'client\\ 198.51.100.1#53/A/IN' denied", host: '203.0.113.5' },
      // BIND escapes the special characters of a query name (")" as "\)", a space as "\032").
      { line: "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.5#53411 (x\\):\\032client\\032198.51.100.1#1): query (cache) 'x\\):\\032client\\032198.51.100.1#1/A/IN' denied", host: '203.0.113.5' },
      { line: "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 203.0.113.5#53411 (x): client 198.51.100.1#1): query (cache) 'x/A/IN' denied", host: null },
    ],
    hostile: { head: 'Nov 24 10:00:01 ns1 named[1]: client @0x1 192.0.2.1#1 (', fragment: '\\)\\(a' },
  },
  {
    filter: 'dovecot',
    upstream: { filter: 'dovecot' },
    match: [
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, TLS, session=<8r1hBxmW0K3L>', host: '203.0.113.5', user: 'alice' },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: pop3-login: Login aborted: Connection closed (auth failed, 3 attempts in 12 secs) (auth_failed): user=<dave@example.org>, method=LOGIN, rip=2001:db8::110, lip=2001:db8::1, TLS, session=<x>', host: '2001:db8::110', user: 'dave@example.org', upstream: false },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected: Inactivity (auth failed, 1 attempts in 178 secs): user=<eve>, method=PLAIN, rip=203.0.113.10, lip=192.0.2.1, session=<x>', host: '203.0.113.10', user: 'eve' },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(bob,203.0.113.6,<aBcD/+e1>): unknown user', host: '203.0.113.6', user: 'bob' },
      { line: 'Nov 24 10:00:01 mail dovecot: auth-worker(4242): pam(carol,203.0.113.7,<x1>): pam_authenticate() failed: Authentication failure (password mismatch?)', host: '203.0.113.7', user: 'carol' },
      { line: 'Nov 24 10:00:01 auth: Info: sql(frank@example.org,203.0.113.8,<Zx9>): Password mismatch', host: '203.0.113.8', user: 'frank@example.org' },
      { line: 'Nov 24 10:00:01 imap-login: Info: Aborted login (auth failed, 2 attempts in 4 secs): user=<gina>, method=PLAIN, rip=203.0.113.11, lip=192.0.2.1, session=<y>', host: '203.0.113.11', user: 'gina' },
      { line: 'Nov 24 10:00:01 mail dovecot: submission-login: Client has quit the connection (auth failed, 1 attempts in 2 secs): user=<hank>, method=LOGIN, rip=203.0.113.12, lip=192.0.2.1, TLS, session=<z>', host: '203.0.113.12', user: 'hank' },
      { line: 'Nov 24 10:00:01 mail dovecot: imap-login: Disconnected: Connection closed: read(size=1024) failed: Connection reset by peer (auth failed, 1 attempts in 0 secs): user=<ida>, rip=203.0.113.13, lip=192.0.2.1, TLS', host: '203.0.113.13', user: 'ida' },
      { line: 'Nov 24 10:00:01 pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<jo>, method=PLAIN, rip=203.0.113.14', host: '203.0.113.14', user: 'jo' },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: ldap(kim,203.0.113.15,<Qw3>): invalid credentials', host: '203.0.113.15', user: 'kim' },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(bob,203.0.113.18,<aBcD>): Password mismatch (given password: letmein)', host: '203.0.113.18', user: 'bob' },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: dovecot: auth(default): pam(lee,203.0.113.16): pam_authenticate() failed: User not known to the underlying authentication module', host: '203.0.113.16', user: 'lee', upstream: false },
      { line: 'Nov 24 10:00:01 mail auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=mo rhost=203.0.113.17  user=mo', host: '203.0.113.17', user: 'mo' },
      // auth_verbose_passwords=sha1, and an LDAP bind that failed
      { line: 'Nov 24 10:00:01 mail dovecot: auth: ldap(nina@example.org,203.0.113.19,<LZmGp6mZaMrA>): unknown user (SHA1 of given password: 5baa61)', host: '203.0.113.19', user: 'nina@example.org' },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: ldap(olaf,2001:db8::20,<LZmGp6mZaMrB>): Password mismatch (for LDAP bind) (SHA1 of given password: 5baa61)', host: '2001:db8::20', user: 'olaf' },
    ],
    miss: [
      'Nov 24 10:00:01 mail dovecot[811]: imap-login: Login: user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, mpid=4242, TLS, session=<8r1hBxmW0K3L>',
      'Nov 24 10:00:01 mail dovecot[811]: imap(alice)<4242><8r1hBxmW0K3L>: Disconnected: Logged out in=120 out=4500',
      'Nov 24 10:00:01 mail dovecot[811]: pop3-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=203.0.113.11, lip=192.0.2.1, session=<x>',
      'Nov 24 10:00:01 mail dovecot[811]: pop3-login: Aborted login (tried to use disallowed plaintext auth): user=<>, rip=203.0.113.12, lip=192.0.2.1, session=<x>',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<a>, method=PLAIN, rip=198.51.100.1, lip=x>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, TLS, session=<8r1hBxmW0K3L>', host: null },
      // a name holding "): " is refused: no real account is called that
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(x,198.51.100.1): unknown user,203.0.113.5,<Zx9>): Password mismatch', host: null },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(x 198.51.100.1,203.0.113.5,<Zx9>): Password mismatch', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: ldap(x,198.51.100.1,<a>): unknown user (SHA1 of given password: 1) (x,203.0.113.21,<b>): Password mismatch (for LDAP bind)', host: null },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: ldap(x,198.51.100.1,<a>): Password mismatch (for LDAP bind) (given password: ,203.0.113.21,<b>): unknown user)', host: null },
      { line: 'Nov 24 10:00:01 mail dovecot: auth-worker(1): pam(x,198.51.100.1): pam_authenticate() failed: Authentication failure,203.0.113.5,<s1>): pam_authenticate() failed: Permission denied', host: null },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(x,198.51.100.1,<a>): unknown user (given,203.0.113.5,<Zx9>): unknown user', host: null },
      { line: 'Nov 24 10:00:01 mail auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=x rhost=198.51.100.1 rhost=203.0.113.17  user=x rhost=198.51.100.1', host: null },
      // auth_verbose_passwords=plain logs the password the client sent
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(bob,203.0.113.6,<aBcD>): Password mismatch (given password: ): x,198.51.100.1): pam_authenticate() failed: a (b)', host: null },
      { line: 'Nov 24 10:00:01 mail dovecot: auth: passwd-file(x,198.51.100.1): Password mismatch (given password: ,203.0.113.6,<aBcD>): Password mismatch (given password: y)', host: null },
      { line: 'Nov 24 10:00:01 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<(auth failed, 1 attempts): user=<a>, rip=198.51.100.1, lip=x>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1', host: null },
    ],
    hostile: { head: 'Nov 24 10:00:01 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts): user=<', fragment: '>, rip=192.0.2.1, lip=x, ' },
  },
  {
    filter: 'dovecot',
    options: { mode: 'aggressive' },
    upstream: { filter: 'dovecot', options: { mode: 'aggressive' } },
    match: [
      { line: 'Nov 24 10:00:01 mail dovecot[811]: pop3-login: Aborted login (tried to use disallowed plaintext auth): user=<>, rip=203.0.113.12, lip=192.0.2.1, session=<x>', host: '203.0.113.12' },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=203.0.113.13, lip=192.0.2.1, TLS handshaking: SSL_accept() failed: error:0A00006C:SSL routines::bad key share, session=<x>', host: '203.0.113.13' },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected: Connection closed: SSL_accept() failed: error:0A00010B:SSL routines::wrong version number (no auth attempts in 0 secs): user=<>, rip=203.0.113.14, lip=192.0.2.1, TLS handshaking: SSL_accept() failed, session=<x>', host: '203.0.113.14' },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (client didn\'t finish SASL auth, waited 2 secs): user=<>, method=PLAIN, rip=203.0.113.15, lip=192.0.2.1, session=<x>', host: '203.0.113.15' },
      { line: 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, TLS, session=<8r1hBxmW0K3L>', host: '203.0.113.5', user: 'alice' },
    ],
    miss: [
      'Nov 24 10:00:01 mail dovecot[811]: pop3-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=203.0.113.11, lip=192.0.2.1, session=<x>',
      'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (no auth attempts in 1 secs): user=<>, rip=203.0.113.11, lip=192.0.2.1, TLS handshaking: Disconnected, session=<x>',
    ],
    injected: [],
    hostile: { head: 'Nov 24 10:00:01 mail dovecot: imap-login: Disconnected (no auth attempts): user=<', fragment: '>, rip=192.0.2.1, lip=x, TLS' },
  },
  {
    filter: 'vsftpd',
    upstream: { filter: 'vsftpd' },
    match: [
      { line: 'Tue Nov 24 10:00:01 2026 [pid 4242] [alice] FAIL LOGIN: Client "203.0.113.5"', host: '203.0.113.5', user: 'alice' },
      { line: 'Tue Nov 24 10:00:01 2026 [pid 4242] [bob] FAIL LOGIN: Client "::ffff:203.0.113.6", "User is not in the allow user list."', host: '203.0.113.6', user: 'bob' },
      { line: 'Nov 24 10:00:01 ftp vsftpd[4242]: [carol] FAIL LOGIN: Client "2001:db8::21"', host: '2001:db8::21', user: 'carol', upstream: false },
      { line: 'Nov 24 10:00:01 ftp vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=dave rhost=203.0.113.7  user=dave', host: '203.0.113.7', user: 'dave' },
      { line: 'Nov 24 10:00:01 ftp vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser= rhost=203.0.113.8', host: '203.0.113.8', user: '' },
    ],
    miss: [
      'Tue Nov 24 10:00:01 2026 [pid 4242] [alice] OK LOGIN: Client "203.0.113.5"',
      'Tue Nov 24 10:00:01 2026 [pid 4242] CONNECT: Client "203.0.113.5"',
      'Tue Nov 24 10:00:01 2026 [pid 4242] [alice] OK DOWNLOAD: Client "203.0.113.5", "/pub/file.iso", 1048576 bytes, 2048.00Kbyte/sec',
      'Nov 24 10:00:01 box sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root',
    ],
    injected: [
      { line: 'Tue Nov 24 10:00:01 2026 [pid 4242] [x] FAIL LOGIN: Client "198.51.100.1"] FAIL LOGIN: Client "203.0.113.5"', host: null },
      { line: 'Nov 24 10:00:01 ftp vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=x rhost=198.51.100.1 rhost=203.0.113.7  user=x rhost=198.51.100.1', host: null },
      { line: 'Nov 24 10:00:01 ftp vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser= rhost=203.0.113.7  user=x rhost=198.51.100.1', host: null },
      { line: 'Tue Nov 24 10:00:01 2026 [pid 4242] [Client "198.51.100.1"] FAIL LOGIN: Client "203.0.113.5"', host: '203.0.113.5' },
    ],
    hostile: { head: 'Tue Nov 24 10:00:01 2026 [pid 1] [', fragment: '] FAIL LOGIN: Client "192.0.2.1", ' },
  },
  {
    filter: 'proftpd',
    upstream: { filter: 'proftpd' },
    match: [
      { line: 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[203.0.113.5]) - USER alice (Login failed): Incorrect password', host: '203.0.113.5', user: 'alice' },
      { line: 'Nov 24 10:00:01 ftp proftpd[4242] ftp.example.org (::ffff:203.0.113.6[::ffff:203.0.113.6]): USER bob: no such user found from ::ffff:203.0.113.6 [::ffff:203.0.113.6] to ::ffff:192.0.2.1:21', host: '203.0.113.6', user: 'bob' },
      { line: '2026-11-24 10:00:01,123 ftp proftpd[4242] ftp.example.org (2001:db8::21[2001:db8::21]): SECURITY VIOLATION: Root login attempted.', host: '2001:db8::21' },
      { line: 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (203.0.113.8[203.0.113.8]) - Maximum login attempts (3) exceeded, connection refused', host: '203.0.113.8' },
      { line: 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[203.0.113.9]) - USER carol (Login failed): User in /etc/ftpusers', host: '203.0.113.9', user: 'carol' },
    ],
    miss: [
      'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[203.0.113.5]) - USER alice: Login successful.',
      'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[203.0.113.5]) - FTP session opened.',
      'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org - ProFTPD 1.3.8 (stable) (built Mon Jan 1 2026) standalone mode STARTUP',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[203.0.113.5]) - USER x (z[198.51.100.1]) - USER y (Login failed): Incorrect password', host: '203.0.113.5' },
      { line: 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[203.0.113.5]) - USER q: no such user found from x [198.51.100.1] to 1: no such user found from client.example.net [203.0.113.5] to 192.0.2.1:21', host: '203.0.113.5' },
    ],
    hostile: { head: 'Nov 24 10:00:01 ftp proftpd[1]: ftp.example.org (x[192.0.2.1]) - USER ', fragment: 'a (Login failed)' },
  },
  {
    filter: 'pure-ftpd',
    upstream: { filter: 'pure-ftpd' },
    match: [
      { line: 'Nov 24 10:00:01 ftp pure-ftpd: (?@203.0.113.5) [WARNING] Authentication failed for user [alice]', host: '203.0.113.5', user: 'alice' },
      { line: 'Nov 24 10:00:01 ftp pure-ftpd[4242]: (?@2001:db8::21) [WARNING] Authentication failed for user [root]', host: '2001:db8::21', user: 'root' },
      { line: 'Nov 24 10:00:01 ftp pure-ftpd: (?@client.example.net) [WARNING] Authentication failed for user [bob]', host: 'client.example.net', user: 'bob' },
    ],
    miss: [
      'Nov 24 10:00:01 ftp pure-ftpd: (?@203.0.113.5) [INFO] New connection from 203.0.113.5',
      'Nov 24 10:00:01 ftp pure-ftpd: (?@203.0.113.5) [INFO] alice is now logged in',
      'Nov 24 10:00:01 ftp pure-ftpd: (alice@203.0.113.5) [INFO] Logout.',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 ftp pure-ftpd: (?@203.0.113.5) [WARNING] Authentication failed for user [x] (?@198.51.100.1) [WARNING] Authentication failed for user [y]', host: '203.0.113.5' },
    ],
    hostile: { head: 'Nov 24 10:00:01 ftp pure-ftpd: (?@192.0.2.1) [WARNING] Authentication failed for user [', fragment: '] [' },
  },
  {
    filter: 'exim',
    upstream: { filter: 'exim' },
    match: [
      { line: '2026-11-24 10:00:01 dovecot_plain authenticator failed for (WIN-ABC) [203.0.113.5]:50412 I=[192.0.2.1]:587: 535 Incorrect authentication data (set_id=alice)', host: '203.0.113.5', user: 'alice' },
      { line: '2026-11-24 10:00:01 [4242] plain authenticator failed for ([192.168.1.2]) [203.0.113.6]: 535 Incorrect authentication data', host: '203.0.113.6' },
      { line: '2026-11-24 10:00:01 H=mail.example.net (helo.example.net) [2001:db8::25]:41000 I=[192.0.2.1]:25 F=<a@example.net> rejected RCPT <nobody@example.org>: Unknown user', host: '2001:db8::25' },
      { line: '2026-11-24 10:00:01 1tGxyz-0001aB-Cd H=(x) [203.0.113.7]:4000 F=<a@example.net> rejected RCPT <c@example.com>: relay not permitted', host: '203.0.113.7', upstream: false },
      { line: '2026-11-24 10:00:01 H=bad.example.net [203.0.113.8] sender verify fail for <x@bad.example.net>: all relevant MX records point to non-existent hosts', host: '203.0.113.8' },
      { line: '2026-11-24 10:00:01 SMTP call from (x) [203.0.113.9]:4000 I=[192.0.2.1]:25 dropped: too many syntax or protocol errors (last command was "AUTH LOGIN")', host: '203.0.113.9', upstream: false },
      { line: 'Nov 24 10:00:01 mx exim[4242]: H=(helo) [203.0.113.10]:4000 F=<x@example.net> rejected RCPT <y@example.org>: Unknown user', host: '203.0.113.10' },
      { line: '2026-11-24 10:00:01 [4242] H=(helo) [203.0.113.11]:3755 I=[192.0.2.1]:25 F=x@example.net rejected RCPT y@example.org: relay not permitted', host: '203.0.113.11' },
      { line: '2026-11-24 10:00:01 [4242] 1tGxyz-0001aB-Cd SMTP connection from (helo) [203.0.113.12]:44884 I=[192.0.2.1]:25 closed by DROP in ACL', host: '203.0.113.12' },
      { line: '2026-11-24 10:00:01 [4242] SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[203.0.113.13]:25936 I=[192.0.2.1]:25 input="GET / HTTP/1.1"', host: '203.0.113.13' },
      // AUTH on a connection where it was not offered (no TLS yet), and commands sent ahead without PIPELINING
      { line: '2026-11-24 10:00:01 [4242] SMTP protocol error in "AUTH LOGIN" H=(User) [203.0.113.14]:58870 I=[192.0.2.1]:25 AUTH command used when not advertised', host: '203.0.113.14' },
      { line: '2026-11-24 10:00:01 SMTP protocol error in "auth login" H=(x) [2001:db8::26] AUTH command used when not advertised', host: '2001:db8::26' },
      { line: '2026-11-24 10:00:01 [4242] SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected "RSET" H=mail.example.net [203.0.113.15]:58302 I=[192.0.2.1]:25 next input="QUIT\\r\\n"', host: '203.0.113.15' },
      // Exim 4.98+ with log_selector +connection_id (fail2ban's exim.conf does not know "Ci=")
      { line: '2026-11-24 10:00:01.431 [4242] SMTP protocol error in "AUTH LOGIN" H=(User) [203.0.113.16]:58871 I=[192.0.2.1]:25 Ci=111810 AUTH command used when not advertised', host: '203.0.113.16', upstream: false },
      { line: '2026-11-24 10:00:01 H=(helo) [203.0.113.17]:4000 I=[192.0.2.1]:25 Ci=4242 F=<a@example.net> rejected RCPT <b@example.org>: relay not permitted', host: '203.0.113.17', upstream: false },
    ],
    miss: [
      '2026-11-24 10:00:01 1tGxyz-0001aB-Cd <= a@example.net H=mail.example.net [203.0.113.10]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 S=1234 id=abc@example.net',
      '2026-11-24 10:00:01 1tGxyz-0001aB-Cd => alice <alice@example.org> R=local_user T=mail_spool',
      '2026-11-24 10:00:01 [4242] no MAIL in SMTP connection from (helo) [203.0.113.9]:28890 I=[192.0.2.1]:25 D=21s C=EHLO,STARTTLS',
      '2026-11-24 10:00:01 SMTP connection from (helo) [203.0.113.9]:28890 I=[192.0.2.1]:25 closed by QUIT',
    ],
    injected: [
      // the client's text (its command) comes before the address in these: a quote in it, or more than Exim writes after it, is refused
      { line: '2026-11-24 10:00:01 SMTP protocol error in "AUTH LOGIN" H=(x) [198.51.100.1]:1 AUTH command used when not advertised" H=(helo) [203.0.113.18]:4000 I=[192.0.2.1]:587 AUTH command used when not advertised', host: null },
      { line: '2026-11-24 10:00:01 SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected "RSET" H=(x) [198.51.100.1]:1 next input="x" H=(helo) [203.0.113.19]:4000 I=[192.0.2.1]:25 next input="QUIT\\r\\n"', host: null },
      { line: '2026-11-24 10:00:01 SMTP protocol error in "AUTH LOGIN" H=(x [198.51.100.1]) [203.0.113.20]:4000 AUTH command used when not advertised', host: null },
      { line: '2026-11-24 10:00:01 SMTP protocol error in "AUTH LOGIN" H=(x) [198.51.100.1]:1" H=(helo) [203.0.113.6]:4000 I=[192.0.2.1]:587 AUTH command used when not advertised', host: null },
      { line: '2026-11-24 10:00:01 H=(x) [198.51.100.1]:1) [203.0.113.7]:4000 F=<a@b> rejected RCPT <c@d>: relay not permitted', host: null },
      { line: '2026-11-24 10:00:01 H=(x [198.51.100.1]) [203.0.113.7]:4000 F=<a@b> rejected RCPT <c@d>: relay not permitted', host: null },
      { line: '2026-11-24 10:00:01 H=(helo) [203.0.113.7]:4000 F=<x> rejected RCPT <y> H=(z) [198.51.100.1]:1 F=<x> rejected RCPT <y>: Unknown user', host: '203.0.113.7' },
      { line: '2026-11-24 10:00:01 login authenticator failed for (helo) [203.0.113.5]:1: 535 Incorrect authentication data (set_id=for (x) [198.51.100.1]: 535 )', host: '203.0.113.5' },
    ],
    hostile: { head: '2026-11-24 10:00:01 H=(', fragment: 'a) [192.0.2.1]:1 (' },
  },
  {
    filter: 'exim',
    options: { mode: 'aggressive' },
    upstream: { filter: 'exim', options: { mode: 'aggressive' } },
    match: [
      { line: '2026-11-24 10:00:01 [4242] no MAIL in SMTP connection from (helo) [203.0.113.9]:28890 I=[192.0.2.1]:25 D=21s C=EHLO,STARTTLS', host: '203.0.113.9' },
      { line: '2026-11-24 10:00:01 unexpected disconnection while reading SMTP command from (helo) [203.0.113.10]:4000 I=[192.0.2.1]:25 D=1s', host: '203.0.113.10', upstream: false },
    ],
    miss: ['2026-11-24 10:00:01 SMTP connection from (helo) [203.0.113.9]:28890 I=[192.0.2.1]:25 closed by QUIT'],
    injected: [],
    hostile: { head: '2026-11-24 10:00:01 no MAIL in SMTP connection from (', fragment: 'a) [192.0.2.1] (' },
  },
  {
    filter: 'courier',
    upstream: { filter: 'courier-auth' },
    match: [
      { line: 'Nov 24 10:00:01 mail imapd-ssl: LOGIN FAILED, user=alice@example.org, ip=[::ffff:203.0.113.5]', host: '203.0.113.5', user: 'alice@example.org' },
      { line: 'Nov 24 10:00:01 mail pop3d: LOGIN FAILED, user=bob, ip=[::ffff:203.0.113.6], port=[4711]', host: '203.0.113.6', user: 'bob' },
      { line: 'Nov 24 10:00:01 mail imapd: LOGIN FAILED, method=PLAIN, ip=[2001:db8::5]', host: '2001:db8::5' },
      { line: 'Nov 24 10:00:01 mail courieresmtpd: error,relay=::ffff:203.0.113.7,from=<a@example.net>,to=<nobody@example.org>: 550 User unknown.', host: '203.0.113.7', upstream: { filter: 'courier-smtp' } },
      { line: 'Nov 24 10:00:01 mail courieresmtpd[4242]: error,relay=::ffff:203.0.113.8,port=4711,msg="535 Authentication failed.",cmd: AUTH LOGIN alice', host: '203.0.113.8', upstream: { filter: 'courier-smtp' } },
    ],
    miss: [
      'Nov 24 10:00:01 mail imapd: LOGIN, user=alice, ip=[::ffff:203.0.113.5], port=[4711], protocol=IMAP',
      'Nov 24 10:00:01 mail imapd: Connection, ip=[::ffff:203.0.113.5]',
      'Nov 24 10:00:01 mail courieresmtpd: started,ip=[::ffff:203.0.113.7],port=[4711]',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 mail pop3d: LOGIN FAILED, user=x, ip=[::ffff:198.51.100.1], ip=[::ffff:203.0.113.5], port=[4711]', host: null },
      { line: 'Nov 24 10:00:01 mail courieresmtpd: error,relay=::ffff:203.0.113.7,from=<error,relay=::ffff:198.51.100.1,>,to=<x>: 550 User unknown.', host: '203.0.113.7' },
    ],
    hostile: { head: 'Nov 24 10:00:01 mail imapd: LOGIN FAILED, user=', fragment: 'a, ip=[192.0.2.1' },
  },
  {
    filter: 'courier',
    options: { mode: 'auth' },
    upstream: { filter: 'courier-auth' },
    match: [{ line: 'Nov 24 10:00:01 mail pop3d: LOGIN FAILED, user=bob, ip=[::ffff:203.0.113.6], port=[4711]', host: '203.0.113.6', user: 'bob' }],
    miss: ['Nov 24 10:00:01 mail courieresmtpd: error,relay=::ffff:203.0.113.7,from=<a@example.net>,to=<nobody@example.org>: 550 User unknown.'],
    injected: [],
    hostile: { head: 'Nov 24 10:00:01 mail courieresmtpd: error,relay=', fragment: '::ffff:192.0.2.1,' },
  },
  {
    filter: 'nginx-http-auth',
    upstream: { filter: 'nginx-http-auth' },
    match: [
      { line: '2026/11/24 10:00:01 [error] 811#811: *5 user "alice": password mismatch, client: 203.0.113.5, server: example.org, request: "GET /admin/ HTTP/1.1", host: "example.org"', host: '203.0.113.5', user: 'alice' },
      { line: '2026/11/24 10:00:01 [error] 811#811: *6 user "bob" was not found in "/etc/nginx/.htpasswd", client: 2001:db8::5, server: example.org, request: "GET / HTTP/2.0", host: "example.org"', host: '2001:db8::5', user: 'bob' },
    ],
    miss: [
      '2026/11/24 10:00:01 [error] 811#811: *5 no user/password was provided for basic authentication, client: 203.0.113.5, server: example.org, request: "GET /admin/ HTTP/1.1", host: "example.org"',
      '2026/11/24 10:00:01 [error] 811#811: *7 open() "/var/www/html/favicon.ico" failed (2: No such file or directory), client: 203.0.113.5, server: example.org, request: "GET /favicon.ico HTTP/1.1", host: "example.org"',
    ],
    injected: [
      { line: '2026/11/24 10:00:01 [error] 811#811: *5 user "x\\", client 198.51.100.1": password mismatch, client: 203.0.113.5, server: example.org, request: "GET /?, client: 198.51.100.1, server: x HTTP/1.1", host: "198.51.100.1"', host: '203.0.113.5' },
      { line: '2026/11/24 10:00:01 [error] 811#811: *5 user "x" was not found in "y", client 198.51.100.1, z": password mismatch, client: 203.0.113.5, server: example.org', host: '203.0.113.5' },
    ],
    hostile: { head: '2026/11/24 10:00:01 [error] 1#1: *1 user "', fragment: 'a", client 192.0.2.1 ' },
  },
  {
    filter: 'nginx-limit-req',
    upstream: { filter: 'nginx-limit-req' },
    match: [
      { line: '2026/11/24 10:00:01 [error] 811#811: *77 limiting requests, excess: 10.520 by zone "login", client: 203.0.113.5, server: example.org, request: "POST /login HTTP/1.1", host: "example.org"', host: '203.0.113.5' },
      { line: '2026/11/24 10:00:01 [warn] 811#811: *78 limiting requests, excess: 5.000 by zone "api", client: 2001:db8::80, server: example.org, request: "GET /api/x HTTP/2.0", host: "example.org"', host: '2001:db8::80' },
    ],
    miss: [
      '2026/11/24 10:00:01 [warn] 811#811: *77 delaying request, excess: 0.520, by zone "login", client: 203.0.113.5, server: example.org, request: "POST /login HTTP/1.1", host: "example.org"',
      '2026/11/24 10:00:01 [error] 811#811: *7 limiting connections by zone "perip", client: 203.0.113.5, server: example.org, request: "GET / HTTP/1.1", host: "example.org"',
    ],
    injected: [
      { line: '2026/11/24 10:00:01 [error] 811#811: *77 limiting requests, excess: 1.000 by zone "login", client: 203.0.113.5, server: example.org, request: "GET /?by zone \\"login\\", client: 198.51.100.1, HTTP/1.1", host: "198.51.100.1"', host: '203.0.113.5' },
    ],
    hostile: { head: '2026/11/24 10:00:01 [error] 1#1: *1 limiting requests, excess: 1.0 by zone "', fragment: 'a", client: 192.0.2.1, ' },
  },
  {
    filter: 'nginx-limit-req',
    options: { zones: 'login|auth' },
    upstream: { filter: 'nginx-limit-req', options: { ngx_limit_req_zones: 'login|auth' } },
    match: [{ line: '2026/11/24 10:00:01 [error] 811#811: *77 limiting requests, excess: 10.520 by zone "login", client: 203.0.113.5, server: example.org, request: "POST /login HTTP/1.1", host: "example.org"', host: '203.0.113.5' }],
    miss: ['2026/11/24 10:00:01 [error] 811#811: *78 limiting requests, excess: 5.000 by zone "api", client: 203.0.113.6, server: example.org, request: "GET /api/x HTTP/2.0", host: "example.org"'],
    injected: [],
    hostile: { head: '2026/11/24 10:00:01 [error] 1#1: *1 limiting requests, excess: 1.0 by zone "', fragment: 'login|' },
  },
  {
    filter: 'apache-auth',
    upstream: { filter: 'apache-auth' },
    match: [
      { line: '[Tue Nov 24 10:00:01.123456 2026] [auth_basic:error] [pid 811:tid 812] [client 203.0.113.5:51234] AH01617: user alice: authentication failure for "/admin": Password Mismatch', host: '203.0.113.5', user: 'alice' },
      { line: '[Tue Nov 24 10:00:01.123456 2026] [auth_basic:error] [pid 811:tid 812] [client 203.0.113.6:51235] AH01618: user bob not found: /admin', host: '203.0.113.6', user: 'bob' },
      { line: '[Tue Nov 24 10:00:01 2026] [error] [client 203.0.113.7] user carol not found: /private/', host: '203.0.113.7', user: 'carol' },
      { line: "[Tue Nov 24 10:00:01.123456 2026] [auth_digest:error] [pid 811:tid 812] [client 2001:db8::80:51236] AH01790: user `dave' in realm `private' not found: /x", host: '2001:db8::80', user: 'dave' },
      { line: '[Tue Nov 24 10:00:01.123456 2026] [auth_digest:error] [pid 811:tid 812] [client 203.0.113.8:51237] AH01792: user erin: password mismatch: /x', host: '203.0.113.8', user: 'erin' },
      { line: '[Tue Nov 24 10:00:01.123456 2026] [auth_basic:error] [pid 811:tid 812] [client 203.0.113.9:51238] AH01614: client used wrong authentication scheme: /admin', host: '203.0.113.9' },
      { line: '[Tue Nov 24 10:00:01 2026] [error] [client 203.0.113.10] Digest: user frank: password mismatch: /private/', host: '203.0.113.10', user: 'frank' },
      { line: '[Tue Nov 24 10:00:01.123456 2026] [auth_digest:error] [pid 811:tid 812] [client 203.0.113.11:51239] AH01789: unknown algorithm `MD7\' received: /private/', host: '203.0.113.11' },
      { line: 'Nov 24 10:00:01 www apache2[811]: [auth_basic:error] [pid 811:tid 812] [client 203.0.113.12:51240] AH01618: user gus not found: /admin', host: '203.0.113.12', user: 'gus', upstream: false },
      { line: '[Tue Nov 24 10:00:01 2026] [error] [client 203.0.113.13] user hal not found', host: '203.0.113.13', user: 'hal' },
    ],
    miss: [
      '[Tue Nov 24 10:00:01.123456 2026] [authz_core:error] [pid 811:tid 812] [client 203.0.113.5:51234] AH01630: client denied by server configuration: /var/www/html/.git',
      '[Tue Nov 24 10:00:01.123456 2026] [core:error] [pid 811:tid 812] [client 203.0.113.5:51234] AH00126: Invalid URI in request GET /../.. HTTP/1.1',
      '[Tue Nov 24 10:00:01.123456 2026] [mpm_event:notice] [pid 811:tid 812] AH00489: Apache/2.4.62 (Debian) configured -- resuming normal operations',
      // a stale nonce after a restart is no attack
      '[Tue Nov 24 10:00:01.123456 2026] [auth_digest:error] [pid 811:tid 812] [client 203.0.113.5:51234] AH01776: invalid nonce b9YAiJDiBAZZZ1b1 received - hash is not d42d824dee7a',
    ],
    injected: [
      { line: '[Tue Nov 24 10:00:01.123456 2026] [auth_basic:error] [pid 811:tid 812] [client 203.0.113.5:51234] AH01618: user [client 198.51.100.1] not found: /[client 198.51.100.1], referer: http://198.51.100.1/', host: '203.0.113.5' },
    ],
    hostile: { head: '[Tue Nov 24 10:00:01.1 2026] [auth_basic:error] [pid 1:tid 2] [client 192.0.2.1:1] AH01618: user ', fragment: 'a: authentication failure for "' },
  },
  {
    filter: 'apache-badbots',
    match: [
      { line: '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "GET /wp-login.php HTTP/1.1" 404 196 "-" "Mozilla/5.0 zgrab/0.x"', host: '203.0.113.5' },
      { line: 'example.org:443 2001:db8::7 - - [24/Nov/2026:10:00:01 +0100] "GET /?q=\\"x\\" HTTP/1.1" 404 196 "http://198.51.100.1/" "sqlmap/1.7.2#stable (https://sqlmap.org)"', host: '2001:db8::7' },
      { line: '203.0.113.6 - - [24/Nov/2026:10:00:01 +0100] "GET /.env HTTP/1.1" 404 153 "-" "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)"', host: '203.0.113.6' },
    ],
    miss: [
      '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"',
      '203.0.113.5 - alice [24/Nov/2026:10:00:01 +0100] "GET /zgrab HTTP/1.1" 200 5120 "https://example.org/sqlmap" "curl/8.5.0"',
    ],
    injected: [
      { line: '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "GET /\\" 200 1 \\"-\\" \\"x\\" HTTP/1.1" 404 196 "198.51.100.1 - - [x] \\"GET /\\"" "198.51.100.1 zgrab"', host: '203.0.113.5' },
    ],
    hostile: { head: '192.0.2.1 - - [24/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 1 "-" "', fragment: '\\"a\\\\' },
  },
  {
    filter: 'apache-badbots',
    options: { badbots: 'EvilCrawler' },
    match: [{ line: '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 1 "-" "EvilCrawler/1.0"', host: '203.0.113.5' }],
    miss: ['203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 1 "-" "zgrab/0.x"'],
    injected: [],
    hostile: { head: '192.0.2.1 - - [24/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 1 "-" "', fragment: 'EvilCrawle' },
  },
  {
    filter: 'mysqld-auth',
    upstream: { filter: 'mysqld-auth' },
    match: [
      { line: "2026-11-24 10:00:01 42 [Warning] Access denied for user 'root'@'203.0.113.5' (using password: YES)", host: '203.0.113.5', user: 'root' },
      { line: "2026-11-24T10:00:01.123456Z 42 [Note] [MY-010926] [Server] Access denied for user 'admin'@'2001:db8::33' (using password: YES)", host: '2001:db8::33', user: 'admin' },
      { line: "261124 10:00:01 [Warning] Access denied for user 'root'@'203.0.113.6' (using password: NO)", host: '203.0.113.6', user: 'root' },
      { line: "Nov 24 10:00:01 db mariadbd[811]: 2026-11-24 10:00:01 42 [Warning] Access denied for user 'bob'@'203.0.113.7' (using password: NO)", host: '203.0.113.7', user: 'bob', upstream: false },
      { line: "Nov 24 10:00:01 db mysqld: 261124 10:00:01 [Warning] Access denied for user 'carol'@'client.example.net' (using password: YES)", host: 'client.example.net', user: 'carol' },
      // an account that logged in and asked for a database it may not use
      { line: "2026-11-24 10:00:01 42 [Warning] Access denied for user 'dave'@'203.0.113.9' to database 'payroll'", host: '203.0.113.9', user: 'dave' },
    ],
    miss: [
      "2026-11-24 10:00:01 42 [Warning] Aborted connection 42 to db: 'unconnected' user: 'unauthenticated' host: '203.0.113.5' (This connection closed normally without authentication)",
      '2026-11-24 10:00:01 0 [Note] /usr/sbin/mariadbd: ready for connections.',
      "2026-11-24T10:00:01.123456Z 8 [Warning] [MY-010055] [Server] IP address '203.0.113.5' could not be resolved: Name or service not known",
    ],
    injected: [
      { line: "Nov 24 10:00:01 db mariadbd[811]: 2026-11-24 10:00:01 42 [Warning] Access denied for user 'x'@'198.51.100.1' (using password: YES)'@'203.0.113.7' (using password: YES)", host: null },
      { line: "2026-11-24 10:00:01 42 [Warning] Access denied for user 'x 198.51.100.1'@'203.0.113.8' (using password: YES)", host: '203.0.113.8' },
      // a database name (the client's) holding "'@'" is refused as a user name holding it is
      { line: "2026-11-24 10:00:01 42 [Warning] Access denied for user 'x'@'203.0.113.9' to database 'y'@'198.51.100.1' to database 'z'", host: null },
      { line: "2026-11-24 10:00:01 42 [Warning] Access denied for user 'x'@'198.51.100.1' to database 'y'@'203.0.113.9' to database 'z'", host: null },
    ],
    hostile: { head: "2026-11-24 10:00:01 42 [Warning] Access denied for user '", fragment: "a'@'192.0.2.1' " },
  },
  {
    filter: 'node-red-admin',
    match: [
      // The line the documented httpAdminMiddleware writes (see filters/node-red-admin.conf).
      { line: '[audit] {"event":"auth.login.fail.http","ip":"203.0.113.5","username":"admin","status":403}', host: '203.0.113.5', user: 'admin' },
      { line: '[audit] {"event":"auth.login.fail.http","ip":"::ffff:203.0.113.6","username":"admin","status":403}', host: '203.0.113.6' },
      { line: 'Nov 24 10:00:01 pi Node-RED[811]: [audit] {"event":"auth.login.fail.http","ip":"2001:db8::1880","status":401,"username":"x y"}', host: '2001:db8::1880', user: 'x y' },
      // Node-RED's own audit shape, should it carry the address ("ip" as Node-RED's log.audit(msg, req) writes it).
      { line: '24 Nov 10:00:01 - [audit] {"event":"auth.login.fail.credentials","username":"admin","client":"node-red-editor","scope":["*"],"level":98,"ip":"203.0.113.7","timestamp":1795565599478}', host: '203.0.113.7' },
    ],
    miss: [
      // What Node-RED 4.1 writes by itself for a wrong password: no address (observed, see the e2e test).
      '24 Nov 10:00:01 - [audit] {"event":"auth.login.fail.credentials","username":"admin","client":"node-red-editor","scope":"","level":98,"timestamp":1795565599478}',
      '24 Nov 10:00:01 - [audit] {"event":"auth.login","user":{"username":"admin","permissions":"*"},"username":"admin","client":"node-red-editor","scope":"*","level":98,"timestamp":1795565600179}',
      '24 Nov 10:00:01 - [audit] {"event":"flows.set","type":"full","user":{"username":"admin","permissions":"*"},"path":"/flows","ip":"203.0.113.5","level":98,"timestamp":1795565600179}',
      '24 Nov 10:00:01 - [info] [debug:x] [audit] {"event":"auth.login.fail.http","ip":"198.51.100.1"}',
      '24 Nov 10:00:01 - [warn] [function:log] - [audit] {"event":"auth.login.fail.http","ip":"198.51.100.1"}',
    ],
    injected: [
      { line: 'Nov 24 10:00:01 pi Node-RED[811]: [audit] {"event":"auth.login.fail.http","username":"x\\",\\"ip\\":\\"198.51.100.1","ip":"203.0.113.7","status":403}', host: '203.0.113.7' },
      { line: '[audit] {"event":"auth.login.fail.credentials","username":"\\",\\"ip\\":\\"198.51.100.1\\"}","client":"node-red-editor","scope":"","level":98}', host: null },
    ],
    hostile: { head: '[audit] {"event":"auth.login.fail.http"', fragment: ',"a":["\\"",1' },
  },
  {
    filter: 'node-red-admin',
    options: { mode: 'proxy' },
    match: [
      { line: '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "POST /auth/token HTTP/1.1" 403 82 "https://nr.example.org/" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"', host: '203.0.113.5' },
      { line: 'nr.example.org:443 2001:db8::5 - - [24/Nov/2026:10:00:01 +0100] "POST /admin/auth/token HTTP/2.0" 401 60 "-" "node-red-admin/4.0.0"', host: '2001:db8::5' },
    ],
    miss: [
      '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "POST /auth/token HTTP/1.1" 200 240 "https://nr.example.org/" "Mozilla/5.0"',
      '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "GET /auth/login HTTP/1.1" 200 80 "https://nr.example.org/" "Mozilla/5.0"',
      '203.0.113.5 - - [24/Nov/2026:10:00:01 +0100] "POST /flows HTTP/1.1" 401 0 "https://nr.example.org/" "Mozilla/5.0"',
    ],
    injected: [
      { line: '203.0.113.5 - x\\" 198.51.100.1 \\"POST /auth/token HTTP/1.1\\" 403 [24/Nov/2026:10:00:01 +0100] "POST /auth/token HTTP/1.1" 403 82 "198.51.100.1 - - \\"POST /auth/token HTTP/1.1\\" 403 1" "198.51.100.1"', host: '203.0.113.5' },
    ],
    hostile: { head: '192.0.2.1 - ', fragment: 'a\\"b ' },
  },
];

/** The address framing lines try to get banned. */
export const INNOCENT = '10.0.0.1';

/**
 * Lines over the length limit made from sample failures, two for each: the failure as if of the innocent
 * address, filler past the limit, then the real line; and the real line with the filler before its
 * address. Cut at the limit, many of them read as failures of INNOCENT.
 */
export function framingLines(hits: Array<{ line: string; host: string }>): string[] {
  const out: string[] = [];
  for (const hit of hits) {
    const at = hit.line.indexOf(hit.host);
    if (at < 0) continue;
    const forged = hit.line.slice(0, at) + INNOCENT + hit.line.slice(at + hit.host.length);
    const piece = ` ${forged.slice(Math.max(0, at - 20))}`;
    const filler = piece.repeat(Math.ceil((MAX_LINE_LENGTH + 10) / piece.length));
    out.push(forged + filler + ' ' + hit.line, hit.line.slice(0, at) + filler + ' ' + hit.line.slice(at));
  }
  return out;
}
