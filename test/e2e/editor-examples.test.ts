/**
 * The editor in a real browser, part two: the live regex tester in failregex-match's dialog, every
 * example imported (as Import > Examples does) and deployed, and the README's screenshots (docs/*.png).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { syslogDate } from '../support/process';
import { deploy, editNode, needsChromium, openEditor, root, type Editor } from '../support/editor';

const skip = needsChromium;
// The README's screenshots go to docs/ with F2B_SCREENSHOTS=1 (npm test leaves the checkout clean otherwise).
let docs = join(root, 'docs');
let editor: Editor | null = null;
before(async () => {
  if (!skip) editor = await openEditor();
  if (editor && !process.env.F2B_SCREENSHOTS) docs = join(editor.userDir, 'screenshots');
});
after(async () => {
  await editor?.close();
});

const failed = (ip: string) => `${syslogDate()} host sshd[4242]: Failed password for invalid user admin from ${ip} port 50022 ssh2`;
const accepted = `${syslogDate()} host sshd[4243]: Accepted publickey for alice from 192.0.2.10 port 50100 ssh2: ED25519 SHA256:x`;

test('the live tester shows the match, address, user and time of a pasted sshd failure and no match for an accepted login', { skip, timeout: 60000 }, async () => {
  const { page, base } = editor!;
  await editNode(page, 'f2bex.match', 'filterSource');
  await page.fill('#failregex-match-test-input', [failed('198.51.100.7'), accepted, `${syslogDate()} host sshd[4244]: Invalid user oracle from 2001:db8::dead port 4711`].join('\n'));
  await page.waitForSelector('#failregex-match-test-results tr.failregex-match-test-miss', { timeout: 10000 });
  const match = page.locator('#failregex-match-test-results tr.failregex-match-test-match');
  assert.equal(await match.count(), 2);
  const first = (await match.nth(0).locator('td').allTextContents()).map((s) => s.trim());
  assert.equal(first[0], 'match');
  assert.equal(first[1], '198.51.100.7');
  assert.equal(first[2], 'admin');
  assert.match(first[3], /\d/, 'the time found in the line');
  assert.match(first[4], /^failregex \d+$/);
  assert.equal((await match.nth(1).locator('.failregex-match-test-host').textContent())?.trim(), '2001:db8::dead');
  const miss = page.locator('#failregex-match-test-results tr.failregex-match-test-miss');
  assert.equal(await miss.count(), 1);
  assert.equal((await miss.locator('td').first().textContent())?.trim(), 'no match');
  assert.equal((await miss.locator('.failregex-match-test-host').textContent())?.trim(), '');
  assert.match((await page.textContent('#failregex-match-test-summary')) ?? '', /^3 lines: 2 matched, 0 ignored, 1 missed/);
  // A line of the tester's own shows, above its result, the line itself.
  assert.match((await page.locator('#failregex-match-test-results tr.failregex-match-test-line').first().textContent()) ?? '', /from 198\.51\.100\.7/);

  // An ignoreregex typed into the dialog: the tester says which one fired, as the filter changes.
  await page.fill('#node-input-ignoreregex', 'for invalid user admin ');
  await page.locator('#node-input-ignoreregex').dispatchEvent('change');
  await page.waitForSelector('#failregex-match-test-results tr.failregex-match-test-ignored', { timeout: 10000 });
  assert.match((await page.locator('#failregex-match-test-results tr.failregex-match-test-ignored').textContent()) ?? '', /ignoreregex \d+/);
  await page.fill('#node-input-ignoreregex', '');
  await page.locator('#node-input-ignoreregex').dispatchEvent('change');
  await page.waitForSelector('#failregex-match-test-results tr.failregex-match-test-ignored', { state: 'detached', timeout: 10000 });
  await page.waitForFunction(() => document.querySelectorAll('#failregex-match-test-results tr.failregex-match-test-match').length === 2);
  mkdirSync(docs, { recursive: true });
  const handle = (await page.locator('.red-ui-tray-resize-handle').boundingBox())!;
  await page.mouse.move(handle.x + handle.width / 2, handle.y + 200);
  await page.mouse.down();
  await page.mouse.move(handle.x - 300, handle.y + 200, { steps: 8 });
  await page.mouse.up();
  await page.locator('#failregex-match-test-results').scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await page.locator('.red-ui-tray').screenshot({ path: join(docs, 'live-tester.png') });

  // A pattern that does not compile is explained, not thrown.
  await page.selectOption('#node-input-filterSource', 'inline');
  await page.fill('#node-input-failregex', 'Failed password from (<HOST>');
  await page.locator('#node-input-failregex').dispatchEvent('change');
  await page.waitForSelector('#failregex-match-test-summary.failregex-match-test-error', { timeout: 10000 });
  assert.match((await page.textContent('#failregex-match-test-summary')) ?? '', /^The filter cannot be tried: .+/);
  await page.click('#node-dialog-cancel');
  await page.waitForSelector('.red-ui-tray', { state: 'detached' });
  // Opened again, the dialog keeps the sample lines and tries them on the saved filter.
  await editNode(page, 'f2bex.match', 'filterSource');
  assert.match(await page.inputValue('#failregex-match-test-input'), /from 198\.51\.100\.7/);
  await page.waitForFunction(() => /^3 lines: 2 matched/.test(document.querySelector('#failregex-match-test-summary')?.textContent ?? ''), undefined, { timeout: 10000 });
  await page.click('#node-dialog-cancel');
  await page.waitForSelector('.red-ui-tray', { state: 'detached' });

  // The endpoint stops a backtracking pattern after its time limit and says why.
  const started = Date.now();
  const res = await fetch(`${base}/failregex-match/test`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ settings: { filterSource: 'inline', failregex: '^(a|aa)+b <HOST>' }, lines: [`${'a'.repeat(80)}c b x`] }),
  });
  assert.equal(res.status, 422);
  assert.match(((await res.json()) as { error: string }).error, /stopped after 2 s/);
  assert.ok(Date.now() - started < 8000, 'answered soon after the limit');
  // Node-RED still answers: the pattern ran in a thread of its own.
  assert.equal((await fetch(`${base}/firewall-ban/f2bex.ban/bans`)).status, 200);
});

test('every example imports with no missing types and deploys; screenshots of the jails for the README', { skip, timeout: 120000 }, async () => {
  const { page, base, userDir } = editor!;
  // The README's picture: the example sshd jail after a ban, with each node's status and the Bans tab.
  await page.evaluate(() => (window as any).RED.workspaces.show('f2b.tab'));
  appendFileSync(join(userDir, 'logs', 'auth.log'), [failed('203.0.113.5'), failed('203.0.113.5'), accepted, failed('203.0.113.5'), failed('198.51.100.23')].map((l) => l + '\n').join(''));
  await page.evaluate(() => (window as any).RED.sidebar.show('firewall-ban-bans'));
  await page.locator('.firewall-ban-sidebar-node[data-node="f2bex.ban"] .firewall-ban-sidebar-ban', { hasText: '203.0.113.5' }).waitFor({ timeout: 15000 });
  await page.waitForFunction(() => /1 banned/.test(document.querySelector('[id="f2bex.ban"] .red-ui-flow-node-status-label')?.textContent ?? ''), undefined, { timeout: 10000 });
  await page.waitForTimeout(1500);
  await page.evaluate(() => (window as any).RED.view.select(''));
  // The whole jail, statuses included, on the canvas as it opens beside the sidebar: nothing to scroll to.
  const outside = await page.evaluate(() => {
    const chart = document.getElementById('red-ui-workspace-chart')!;
    const view = chart.getBoundingClientRect();
    // Node-RED 5's sidebar lies over the workspace; Node-RED 4's stands beside it.
    const sidebar = document.getElementById('red-ui-sidebar')?.getBoundingClientRect();
    const right = Math.min(view.left + chart.clientWidth, sidebar && sidebar.width > 0 ? sidebar.left : Infinity);
    const bottom = view.top + chart.clientHeight;
    return (window as any).RED.nodes.filterNodes({ z: 'f2b.tab' }).flatMap((n: any) => {
      const r = document.getElementById(n.id)?.getBoundingClientRect();
      return !r || r.left < view.left || r.top < view.top || r.right > right || r.bottom > bottom ? [`${n.name || n.type} (${r ? Math.round(r.right) : '?'} > ${Math.round(right)})`] : [];
    });
  });
  assert.deepEqual(outside, [], 'the example jail fits the canvas beside the sidebar');
  mkdirSync(docs, { recursive: true });
  await page.screenshot({ path: join(docs, 'sshd-jail.png') });
  await page.evaluate(() => (window as any).RED.sidebar.show('info'));
  const names = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(names, ['crowdsec-bouncer', 'crowdsec-watcher', 'docker-host', 'fleet', 'mail-digest', 'recidive', 'shorewall-three-jails', 'sshd-jail', 'sshd-jail-nftables']);
  const listing = await (await fetch(`${base}/library/examples/flows/`)).text();
  assert.match(listing, /node-red-contrib-fail2ban/, 'the examples are listed under the package');
  const log = join(userDir, 'logs', 'examples.log');
  appendFileSync(log, '');
  for (const name of names) {
    // What Import > Examples does: the flow from the library, onto a new tab, with new ids.
    const result = await page.evaluate(async (example) => {
      const RED = (window as any).RED;
      const res = await fetch('library/examples/flows/node-red-contrib-fail2ban/' + example);
      let flow = await res.json();
      if (typeof flow === 'string') flow = JSON.parse(flow);
      const types = [...new Set((flow as Array<{ type: string }>).map((n) => n.type))];
      const missing = types.filter((t) => !RED.nodes.getType(t));
      RED.view.importNodes(flow, { addFlow: true, generateIds: true, touchImport: true, notify: false });
      const tab = RED.workspaces.active();
      const nodes = RED.nodes.filterNodes({ z: tab });
      return { tab, count: flow.length, types, missing, comments: nodes.filter((n: any) => n.type === 'comment').length, onTab: nodes.length, invalid: nodes.filter((n: any) => n.valid === false).map((n: any) => n.type + ' ' + (n.name || n.id)) };
    }, name);
    assert.deepEqual(result.missing, [], `${name}: every type is known`);
    assert.deepEqual(result.invalid, [], `${name}: every node is valid as imported`);
    assert.ok(result.comments >= 1, `${name}: a comment node explains it`);
    // A jail, or (the CrowdSec bouncer) CrowdSec's decisions into firewall-ban.
    assert.ok(result.types.includes('firewall-ban') && result.types.includes(name === 'crowdsec-bouncer' ? 'crowdsec-decisions' : 'threshold-window'), `${name} is a jail`);
    if (name === 'shorewall-three-jails') {
      await page.evaluate(() => (window as any).RED.view.select(''));
      await page.evaluate(() => (window as any).RED.actions.invoke('core:toggle-sidebar', false));
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(docs, 'shorewall-jails.png'), clip: { x: 0, y: 0, width: 1400, height: 420 } });
      await page.evaluate(() => (window as any).RED.actions.invoke('core:toggle-sidebar', true));
    }
    // Deployed here on dry-run, following a test file: a test must not touch the host's firewall or logs.
    await page.evaluate(([tab, file]) => {
      const RED = (window as any).RED;
      for (const n of RED.nodes.filterNodes({ z: tab })) {
        if (n.type === 'firewall-ban') n.backend = 'dry-run';
        if (n.type === 'log-tail') n.paths = file;
        n.changed = true;
      }
      RED.nodes.dirty(true);
    }, [result.tab, log] as const);
    await deploy(page);
    const flows = (await (await fetch(`${base}/flows`)).json()) as Array<{ z?: string; type: string }>;
    assert.equal(flows.filter((n) => n.z === result.tab).length, result.onTab, `${name}: deployed`);
  }
  assert.doesNotMatch(editor!.output(), /Unknown type|TypeError|ReferenceError|Waiting for missing types/);

  for (const png of ['live-tester.png', 'sshd-jail.png', 'shorewall-jails.png']) assert.ok(statSync(join(docs, png)).size > 10000, `${png} taken`);
  assert.deepEqual(editor!.problems, [], 'no script error or warning on the page');
  // The only error answer: the tester's for the broken pattern above.
  assert.deepEqual(editor!.httpErrors, ['400 POST /failregex-match/test']);
});

test('Import > Examples > node-red-contrib-fail2ban lists the examples and imports one onto a new flow', { skip, timeout: 60000 }, async () => {
  const { page } = editor!;
  await page.evaluate(() => (window as any).RED.actions.invoke('core:show-examples-import-dialog'));
  await page.locator('.red-ui-treeList-label:visible', { hasText: /^node-red-contrib-fail2ban$/ }).first().click({ timeout: 10000 });
  for (const name of ['mail-digest', 'recidive', 'shorewall-three-jails', 'sshd-jail', 'sshd-jail-nftables']) {
    await page.locator('.red-ui-treeList-label:visible', { hasText: new RegExp(`^${name}$`) }).first().waitFor({ timeout: 10000 });
  }
  await page.locator('.red-ui-treeList-label:visible', { hasText: /^sshd-jail-nftables$/ }).first().click();
  await page.click('#red-ui-clipboard-dialog-import-opt-new');
  const before = await page.evaluate(() => (window as any).RED.nodes.filterNodes({ type: 'firewall-ban' }).length);
  await page.click('#red-ui-clipboard-dialog-ok');
  await page.waitForFunction((n) => (window as any).RED.nodes.filterNodes({ type: 'firewall-ban' }).length === n + 1, before, { timeout: 10000 });
  // Placed on the new flow (not deployed: it would ban in this machine's nftables).
  const imported = await page.evaluate(() => {
    const RED = (window as any).RED;
    return RED.nodes.filterNodes({ z: RED.workspaces.active() }).map((n: any) => [n.type, n.valid !== false, n.type === 'firewall-ban' ? n.backend : '']);
  });
  assert.equal(imported.length, 8, "the eight flow nodes (the mail-server is a config node)");
  assert.ok(imported.every((n: [string, boolean, string]) => n[1]), 'every node valid');
  assert.deepEqual(imported.filter((n: [string, boolean, string]) => n[0] === 'firewall-ban').map((n: [string, boolean, string]) => n[2]), ['nftables']);
  await page.mouse.click(700, 600); // drops the imported nodes where they are
  assert.deepEqual(editor!.problems, []);
});
