#!/usr/bin/env node
// The build's copy step: editor HTML, locales and icons go beside the compiled nodes, where Node-RED looks.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const nodesDir = path.join(root, 'nodes');
const iconsDir = path.join(root, 'icons');

for (const name of fs.readdirSync(nodesDir)) {
  const src = path.join(nodesDir, name);
  if (!fs.statSync(src).isDirectory()) continue;
  const dest = path.join(root, 'dist', 'nodes', name);
  fs.mkdirSync(dest, { recursive: true });
  for (const entry of fs.readdirSync(src)) {
    if (entry.endsWith('.html')) fs.copyFileSync(path.join(src, entry), path.join(dest, entry));
  }
  if (fs.existsSync(path.join(src, 'locales'))) fs.cpSync(path.join(src, 'locales'), path.join(dest, 'locales'), { recursive: true });
  if (fs.existsSync(iconsDir)) fs.cpSync(iconsDir, path.join(dest, 'icons'), { recursive: true });
}
for (const bin of ['f2b-regex.js', 'f2b-client.js', 'f2b-import.js']) fs.chmodSync(path.join(root, 'dist', 'bin', bin), 0o755);
