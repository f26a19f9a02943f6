/**
 * The editor's "Import fail2ban jails..." (issue 15) in a real browser: from the main menu, the runtime's
 * fail2ban directory or a pasted jail.local is previewed with its report, then added and deployed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { unpackFail2ban } from '../support/fail2ban-corpus';
import { scratch, stageDebianConfig } from '../support/f2b-import';
import { deploy, needsChromium, openEditor, type Editor } from '../support/editor';

const skip = needsChromium || unpackFail2ban() || false;
let editor: Editor | null = null;
const work = scratch('f2b-editor-import-');
before(async () => {
  if (!skip) editor = await openEditor();
});
after(async () => {
  await editor?.close();
  work.remove();
});

test('main menu > Import fail2ban jails: preview of the directory, then of a pasted jail.local with a mistake and fixed; added as one tab and deployed', { skip, timeout: 90000 }, async () => {
  const { page } = editor!;
  const cfg = stageDebianConfig(work.dir, {});
  await page.click('#red-ui-header-button-sidemenu');
  await page.click('#menu-item-f2b-import');
  await page.waitForSelector('#f2b-import-dir', { state: 'visible' });
  assert.equal(await page.inputValue('#f2b-import-dir'), '/etc/fail2ban');
  assert.equal(await page.inputValue('#f2b-import-backend'), 'dry-run');
  assert.ok(await page.locator('#f2b-import-add').isDisabled(), 'nothing to add before a preview');

  // The runtime's directory: Debian's configuration enables sshd.
  await page.fill('#f2b-import-dir', cfg);
  await page.click('#f2b-import-preview');
  await page.waitForSelector('#f2b-import-report:has-text("[sshd] (jail.conf, jail.d/defaults-debian.conf)")', { timeout: 10000 });
  assert.match((await page.textContent('#f2b-import-report')) ?? '', /1 jail\(s\) imported \(sshd\)/);

  // A pasted jail.local with a mistake: the report says where; fixed, it adds recidive beside sshd.
  await page.fill('#f2b-import-jail-local', '[recidive]\nenabled = true\nbantime 1w\n');
  await page.click('#f2b-import-preview');
  await page.waitForSelector('#f2b-import-report:has-text("Cannot import")', { timeout: 10000 });
  assert.match((await page.textContent('#f2b-import-report')) ?? '', /jail\.local: line 3: cannot read "bantime 1w"/);
  assert.ok(await page.locator('#f2b-import-add').isDisabled());
  await page.fill('#f2b-import-jail-local', `[recidive]\nenabled = true\nlogpath = ${join(work.dir, 'fail2ban.log')}\nbantime = 2w\n`);
  await page.click('#f2b-import-preview');
  await page.waitForSelector('#f2b-import-report:has-text("2 jail(s) imported (sshd, recidive)")', { timeout: 10000 });
  assert.match((await page.textContent('#f2b-import-report')) ?? '', /bantime = 2w {2}-> {2}threshold-window bantime 2w/);

  await page.click('#f2b-import-add');
  await page.waitForSelector('#f2b-import-dir', { state: 'detached' });
  const added = await page.evaluate(() => {
    const RED = (window as any).RED;
    const out: Array<{ type: string; jail?: string; backend?: string; z?: string }> = [];
    RED.nodes.eachNode((n: any) => {
      if (n.type === 'threshold-window' || n.type === 'firewall-ban') out.push({ type: n.type, jail: n.jail, backend: n.backend, z: n.z });
    });
    const tabs: Array<{ id: string; label: string }> = [];
    RED.nodes.eachWorkspace((w: any) => tabs.push({ id: w.id, label: w.label }));
    return { out, tabs };
  });
  // Beside the example sshd jail npm start deploys, a tab of its own with the two jails.
  const tab = added.tabs.find((t) => t.label === 'fail2ban jails');
  assert.ok(tab, added.tabs.map((t) => t.label).join(', '));
  const imported = added.out.filter((n) => n.z === tab.id);
  assert.deepEqual(imported.filter((n) => n.type === 'threshold-window').map((n) => n.jail).sort(), ['recidive', 'sshd']);
  assert.deepEqual(imported.filter((n) => n.type === 'firewall-ban').map((n) => n.backend), ['dry-run', 'dry-run']);
  await deploy(page);
  assert.deepEqual(editor!.problems, []);
  assert.deepEqual(editor!.httpErrors.filter((e) => !e.includes('/f2b-import/preview')), []);
});
