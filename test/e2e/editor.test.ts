/**
 * The editor in a real browser (Debian's chromium, driven by playwright-core): the palette, every
 * dialog of the example jail, and the Bans sidebar tab, with no script error on the page.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { freePort, stopAndWait, syslogDate, waitForHttp } from '../support/process';

const CHROMIUM = '/usr/bin/chromium';
const root = join(__dirname, '..', '..', '..');
let red: ChildProcess | null = null;
let browser: Browser | null = null;
let userDir: string | null = null;
after(async () => {
  await browser?.close();
  if (red) await stopAndWait(red);
  if (userDir) rmSync(userDir, { recursive: true, force: true });
});

test('the editor shows the palette, opens every dialog of the example jail, and lists bans in the Bans tab', { skip: existsSync(CHROMIUM) ? false : 'needs Debian chromium (.ci/run installs it)', timeout: 90000 }, async () => {
  userDir = mkdtempSync(join(tmpdir(), 'f2b-editor-'));
  const port = await freePort();
  let output = '';
  red = spawn(process.execPath, [join(root, 'scripts', 'start.js')], { env: { ...process.env, PORT: String(port), F2B_USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  red.stdout!.on('data', (d) => (output += d));
  red.stderr!.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/flows`, red, () => output);
  await new Promise((r) => setTimeout(r, 800));
  appendFileSync(join(userDir, 'logs', 'auth.log'), `${syslogDate()} host sshd[9]: Failed password for root from 198.51.100.61 port 22 ssh2\n`.repeat(3));

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !/ERR_NAME_NOT_RESOLVED|ERR_CONNECTION_REFUSED|JQMIGRATE/.test(m.text())) problems.push(m.text());
  });
  await page.goto(base, { waitUntil: 'networkidle' });
  await page.waitForSelector('#red-ui-palette-container-fail2ban .red-ui-palette-node', { timeout: 30000 });
  const palette = await page.$$eval('#red-ui-palette-container-fail2ban .red-ui-palette-node', (els) => els.map((e) => e.getAttribute('data-palette-type')));
  assert.deepEqual(palette, ['log-tail', 'failregex-match', 'threshold-window', 'firewall-ban', 'mail-notify']);

  // Every dialog opens with its SPEC fields, and saves unchanged values as valid.
  const fields: Record<string, string[]> = {
    'f2bex.tail': ['paths', 'start', 'resume', 'source', 'journalMatch', 'encoding'],
    'f2bex.match': ['filterSource', 'filterName', 'filterFile', 'filterOptions', 'failregex', 'ignoreregex', 'prefregex', 'datepattern', 'maxlines'],
    'f2bex.window': ['maxretry', 'findtime', 'bantime', 'increment', 'factor', 'multipliers', 'maxtime', 'rndtime', 'ignoreip', 'ignoreself', 'keyProperty', 'jail', 'subnetV4', 'subnetV6', 'subnetThreshold', 'maxEntries'],
    'f2bex.ban': ['backend', 'setName', 'table', 'ports', 'protocol', 'bantime', 'reconcile', 'persist', 'unbanOnStop', 'killConnections', 'actionFile', 'actionOptions', 'banCommand', 'unbanCommand', 'checkCommand', 'hostsFile'],
    'f2bex.mail': ['server', 'to', 'from', 'subject', 'body', 'whois', 'whoisServer', 'whoisTimeout', 'digest', 'maxPerHour', 'skipRestored'],
  };
  for (const [id, props] of Object.entries(fields)) {
    await page.evaluate((nodeId) => (window as any).RED.editor.edit((window as any).RED.nodes.node(nodeId)), id);
    await page.waitForSelector('#node-input-' + props[0], { state: 'attached' });
    for (const p of props) assert.equal(await page.locator(`#node-input-${p}`).count(), 1, `${id}: field node-input-${p}`);
    await page.click('#node-dialog-ok');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate((nodeId) => (window as any).RED.nodes.node(nodeId).valid, id), true, `${id} is valid`);
  }
  // The failregex-match dialog offers every built-in filter and says what the chosen one reads.
  await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('f2bex.match')));
  await page.waitForFunction(() => document.querySelectorAll('#failregex-match-builtin-filters option').length >= 16, undefined, { timeout: 10000 });
  assert.match((await page.textContent('#failregex-match-filter-info')) ?? '', /^OpenSSH sshd\. Options: mode=normal\|ddos\|aggressive/);
  await page.click('#node-dialog-cancel');
  await page.waitForTimeout(300);
  // A malformed duration is flagged in the dialog.
  await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('f2bex.window')));
  await page.fill('#node-input-findtime', '10 parsecs');
  await page.locator('#node-input-findtime').dispatchEvent('change');
  await page.waitForTimeout(200);
  assert.ok(await page.locator('#node-input-findtime.input-error').count(), 'findtime "10 parsecs" is marked as an error');
  await page.click('#node-dialog-cancel');

  // The Bans tab lists the ban, and its button lifts it.
  await page.evaluate(() => (window as any).RED.sidebar.show('firewall-ban-bans'));
  const row = page.locator('.firewall-ban-sidebar tr', { hasText: '198.51.100.61' });
  await row.waitFor({ timeout: 10000 });
  await row.locator('button').click();
  await row.waitFor({ state: 'detached', timeout: 10000 });
  const bans = (await (await fetch(`${base}/firewall-ban/f2bex.ban/bans`)).json()) as unknown[];
  assert.deepEqual(bans, []);
  assert.deepEqual(problems, [], 'no script error or warning on the page');
});
