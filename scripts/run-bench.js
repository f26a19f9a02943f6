#!/usr/bin/env node
// npm run bench: runs every compiled benchmark under dist/bench (never part of npm test).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

// The benchmarks that run Node-RED need a Node.js it supports: as npm test, they run again under one that does.
require('./node-for-red').runUnderSupportedNode(__filename);

const dir = path.join(__dirname, '..', 'dist', 'bench');
for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.bench.js')).sort()) {
  console.log(`== ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
