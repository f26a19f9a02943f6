#!/usr/bin/env node
// npm start: Node-RED on 127.0.0.1:${PORT:-1880} with this package loaded, a user directory inside the
// checkout, and (on first start) the example sshd jail deployed with the dry-run backend, following a
// log file in that directory: append sshd failure lines to it and watch the ban in the debug sidebar.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const userDir = path.resolve(process.env.F2B_USER_DIR || path.join(root, '.userdir'));
const port = Number(process.env.PORT || 1880);
const logFile = path.join(userDir, 'logs', 'auth.log');

if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
  console.error('The package is not built: run "npm run build" first (npm start does).');
  process.exit(1);
}
// F2B_NODE_RED_DIR: another Node-RED (installed under that directory), as the CI matrix tests with.
const { nodeRedPackage, runUnderSupportedNode } = require('./node-for-red');
runUnderSupportedNode(__filename);
const redMain = require.resolve('node-red/red.js', { paths: [nodeRedPackage().dir] });

fs.mkdirSync(path.join(userDir, 'logs'), { recursive: true });
fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
if (!fs.existsSync(logFile)) fs.writeFileSync(logFile, '');

// Load this checkout as an installed module: a link in the user directory's node_modules.
const link = path.join(userDir, 'node_modules', 'node-red-contrib-fail2ban');
try {
  if (fs.readlinkSync(link) !== root) fs.unlinkSync(link);
} catch {
  /* not a link yet */
}
if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
const userPkg = path.join(userDir, 'package.json');
if (!fs.existsSync(userPkg)) {
  fs.writeFileSync(userPkg, JSON.stringify({ name: 'node-red-project', private: true, dependencies: { 'node-red-contrib-fail2ban': `file:${root}` } }, null, 2));
}

const settingsFile = path.join(userDir, 'settings.js');
if (!fs.existsSync(settingsFile)) {
  const secret = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(
    settingsFile,
    `// Written by npm start for node-red-contrib-fail2ban. Edit freely; it is not overwritten.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.PORT || 1880),
  flowFile: 'flows.json',
  credentialSecret: '${secret}',
  editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] } },
  // This machine may have no way out: no update checks, no prompt about them.
  telemetry: { enabled: false, updateNotification: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
`,
  );
}

// First start: the example sshd jail, following the log file above, on the dry-run backend.
const flowFile = path.join(userDir, 'flows.json');
if (!fs.existsSync(flowFile)) {
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'sshd-jail.json'), 'utf8'));
  const tab = { id: 'f2b.tab', type: 'tab', label: 'sshd jail', disabled: false, info: `Append sshd lines to ${logFile} to try it.` };
  for (const node of flow) {
    if (node.type === 'log-tail') node.paths = logFile;
    if (node.type === 'firewall-ban') node.backend = 'dry-run';
    if (node.x !== undefined) node.z = tab.id;
  }
  fs.writeFileSync(flowFile, JSON.stringify([tab, ...flow], null, 2));
}

console.log(`node-red-contrib-fail2ban: Node-RED on http://127.0.0.1:${port}/ (user directory ${userDir})`);
console.log(`Try it: append failed sshd logins to ${logFile}, e.g.`);
console.log(`  for i in 1 2 3; do echo "$(date '+%b %e %H:%M:%S') host sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2" >> ${logFile}; done`);

const child = spawn(process.execPath, [redMain, '--userDir', userDir, '--settings', settingsFile, '--port', String(port)], { stdio: 'inherit', env: { ...process.env, PORT: String(port) } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
