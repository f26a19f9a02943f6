/**
 * Lines per second through each built-in filter: a failure line of its daemon, a line of the same
 * daemon that is no failure, and a 16 KiB hostile line (the matcher cuts lines at 64 KiB by default).
 */
import { loadBuiltinFilter, Matcher } from '../lib/filter';

const now = new Date(2026, 10, 24, 12, 0, 0).getTime();

function perSecond(n: number, fn: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

// [filter, a failure line, an unrelated line of the same log]; ADDR is replaced by a changing address.
const samples: Array<[string, string, string]> = [
  ['postfix', 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[ADDR]: 554 5.7.1 <info@example.org>: Relay access denied; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>', 'Nov 24 10:00:01 mx postfix/smtpd[2211]: connect from unknown[ADDR]'],
  ['postfix-greylist', 'Nov 24 10:00:01 mx postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[ADDR]: 450 4.2.0 <info@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/; from=<x@example.net> to=<info@example.org> proto=ESMTP helo=<x>', 'Nov 24 10:00:01 mx postfix/smtpd[2211]: disconnect from unknown[ADDR] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5'],
  ['named', "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 ADDR#53411 (example.org): query (cache) 'example.org/ANY/IN' denied", "Nov 24 10:00:01 ns1 named[811]: client @0x7f3a2c0a8b68 ADDR#53411 (example.org): query: example.org IN A +E(0)K (192.0.2.53)"],
  ['dovecot', 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=ADDR, lip=192.0.2.1, TLS, session=<8r1hBxmW0K3L>', 'Nov 24 10:00:01 mail dovecot[811]: imap-login: Login: user=<alice>, method=PLAIN, rip=ADDR, lip=192.0.2.1, mpid=4242, TLS, session=<8r1hBxmW0K3L>'],
  ['vsftpd', 'Tue Nov 24 10:00:01 2026 [pid 4242] [alice] FAIL LOGIN: Client "ADDR"', 'Tue Nov 24 10:00:01 2026 [pid 4242] [alice] OK LOGIN: Client "ADDR"'],
  ['proftpd', 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[ADDR]) - USER alice (Login failed): Incorrect password', 'Nov 24 10:00:01 ftp proftpd[4242]: ftp.example.org (client.example.net[ADDR]) - FTP session opened.'],
  ['pure-ftpd', 'Nov 24 10:00:01 ftp pure-ftpd: (?@ADDR) [WARNING] Authentication failed for user [alice]', 'Nov 24 10:00:01 ftp pure-ftpd: (?@ADDR) [INFO] New connection from ADDR'],
  ['exim', '2026-11-24 10:00:01 dovecot_plain authenticator failed for (WIN-ABC) [ADDR]:50412 I=[192.0.2.1]:587: 535 Incorrect authentication data (set_id=alice)', '2026-11-24 10:00:01 1tGxyz-0001aB-Cd <= a@example.net H=mail.example.net [ADDR]:25 P=esmtps S=1234'],
  ['courier', 'Nov 24 10:00:01 mail imapd-ssl: LOGIN FAILED, user=alice@example.org, ip=[::ffff:ADDR]', 'Nov 24 10:00:01 mail imapd: LOGIN, user=alice, ip=[::ffff:ADDR], port=[4711], protocol=IMAP'],
  ['nginx-http-auth', '2026/11/24 10:00:01 [error] 811#811: *5 user "alice": password mismatch, client: ADDR, server: example.org, request: "GET /admin/ HTTP/1.1", host: "example.org"', '2026/11/24 10:00:01 [error] 811#811: *7 open() "/var/www/html/favicon.ico" failed (2: No such file or directory), client: ADDR, server: example.org'],
  ['nginx-limit-req', '2026/11/24 10:00:01 [error] 811#811: *77 limiting requests, excess: 10.520 by zone "login", client: ADDR, server: example.org, request: "POST /login HTTP/1.1", host: "example.org"', '2026/11/24 10:00:01 [warn] 811#811: *77 delaying request, excess: 0.520, by zone "login", client: ADDR, server: example.org'],
  ['apache-auth', '[Tue Nov 24 10:00:01.123456 2026] [auth_basic:error] [pid 811:tid 812] [client ADDR:51234] AH01617: user alice: authentication failure for "/admin": Password Mismatch', '[Tue Nov 24 10:00:01.123456 2026] [core:error] [pid 811:tid 812] [client ADDR:51234] AH00126: Invalid URI in request GET /../.. HTTP/1.1'],
  ['apache-badbots', 'ADDR - - [24/Nov/2026:10:00:01 +0100] "GET /wp-login.php HTTP/1.1" 404 196 "-" "Mozilla/5.0 zgrab/0.x"', 'ADDR - - [24/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"'],
  ['mysqld-auth', "2026-11-24 10:00:01 42 [Warning] Access denied for user 'root'@'ADDR' (using password: YES)", '2026-11-24 10:00:01 0 [Note] /usr/sbin/mariadbd: ready for connections.'],
  ['node-red-admin', '[audit] {"event":"auth.login.fail.http","ip":"ADDR","username":"admin","status":403}', '24 Nov 10:00:01 - [audit] {"event":"auth.login.fail.credentials","username":"admin","client":"node-red-editor","scope":"","level":98,"timestamp":1795565599478}'],
];

const addr = (i: number) => `203.0.${(i >> 8) & 255}.${i & 255}`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
console.log('filter              failures/s   others/s   16 KiB hostile lines/s');
for (const [name, fail, other] of samples) {
  const m = new Matcher(loadBuiltinFilter(name));
  if (m.match(fail.replace(/ADDR/g, addr(1)), undefined, now).failures.length !== 1) throw new Error(`${name}: the sample failure does not match`);
  const f = perSecond(50_000, (i) => m.match(fail.replace(/ADDR/g, addr(i)), undefined, now));
  const o = perSecond(50_000, (i) => m.match(other.replace(/ADDR/g, addr(i)), undefined, now));
  // the failure line with its middle repeated to 16 KiB: the worst place for a pattern to backtrack
  const mid = Math.floor(fail.length / 2);
  const hostile = fail.slice(0, mid) + fail.slice(mid - 8, mid).repeat(2048) + fail.slice(mid);
  const h = perSecond(200, () => m.match(hostile, undefined, now));
  console.log(`${name.padEnd(18)} ${fmt(f)}  ${fmt(o)}  ${fmt(h)}`);
}
