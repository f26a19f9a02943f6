/**
 * The editor in a real browser for the e2e tests: `npm start`'s Node-RED (the example sshd jail on
 * dry-run, in a temporary user directory, on loopback) and Debian's chromium driven by playwright-core,
 * with no network: every script error or warning on the page is collected in `problems`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, stopAndWait, waitForHttp } from './process';

export const CHROMIUM = '/usr/bin/chromium';
/** A test's skip option: the browser tests need Debian's chromium (.ci/run installs it). */
export const needsChromium = existsSync(CHROMIUM) ? false : 'needs Debian chromium (.ci/run installs it)';
/** The checkout (this file runs from dist/test/support). */
export const root = join(__dirname, '..', '..', '..');

export interface Editor {
  base: string;
  userDir: string;
  page: Page;
  /** Script errors and warnings on the page (the browser's own "Failed to load resource" lines are in httpErrors). */
  problems: string[];
  /** "404 GET http://.../path" for each answer of 400 or more the page received. */
  httpErrors: string[];
  output(): string;
  close(): Promise<void>;
}

/** Starts Node-RED and the browser, and opens the editor with the fail2ban palette loaded. */
export async function openEditor(): Promise<Editor> {
  const userDir = mkdtempSync(join(tmpdir(), 'f2b-editor-'));
  let red: ChildProcess | null = null;
  let browser: Browser | null = null;
  let out = '';
  const close = async () => {
    await browser?.close().catch(() => undefined);
    if (red) await stopAndWait(red);
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    red = spawn(process.execPath, [join(root, 'scripts', 'start.js')], { env: { ...process.env, PORT: String(port), F2B_USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    red.stdout!.on('data', (d) => (out += d));
    red.stderr!.on('data', (d) => (out += d));
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/flows`, red, () => out);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Loopback only: Chromium must not ask the DNS for its own services (autofill, accounts, updates)
        // nor reach them. No name resolves but localhost, and whatever is not loopback goes to a closed
        // local port instead of a proxy.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
        '--proxy-server=http://127.0.0.1:9',
        '--dns-prefetch-disable',
        '--no-pings',
        '--disable-domain-reliability',
        '--disable-client-side-phishing-detection',
        '--disable-features=AutofillServerCommunication,DnsOverHttps,NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    const httpErrors: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && !/ERR_NAME_NOT_RESOLVED|ERR_CONNECTION_REFUSED|JQMIGRATE|Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${r.url().replace(base, '')}`);
    });
    await page.goto(base, { waitUntil: 'networkidle' });
    await page.waitForSelector('#red-ui-palette-container-fail2ban .red-ui-palette-node', { timeout: 30000 });
    return { base, userDir, page, problems, httpErrors, output: () => out, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Opens a node's edit dialog and waits for its first field. */
export async function editNode(page: Page, id: string, firstField: string): Promise<void> {
  await page.evaluate((nodeId) => (window as any).RED.editor.edit((window as any).RED.nodes.node(nodeId)), id);
  await page.waitForSelector('#node-input-' + firstField, { state: 'visible' });
}

/** Deploys from the editor's Deploy button and waits for Node-RED's "Successfully deployed". */
export async function deploy(page: Page): Promise<void> {
  await page.click('#red-ui-header-button-deploy');
  await page.waitForSelector('.red-ui-notification:has-text("Successfully deployed")', { timeout: 15000 });
  // Closed the editor's way: a notification only taken out of the page stays in the editor's list, and
  // once more than four are listed it closes the oldest, whose parent is gone (a TypeError on the page).
  await page.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((n) => ((n as HTMLElement & { close?: () => void }).close ?? (() => n.remove()))()));
  await page.waitForFunction(() => !document.querySelector('.red-ui-notification'), undefined, { timeout: 5000 });
}
