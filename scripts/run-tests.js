#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's test runner and the quiet reporter.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const testDir = path.join(root, 'dist', 'test');
const only = process.argv.slice(2);

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.test.js') ? [p] : [];
  });
}

// The Node-RED under test must run on this Node: if it cannot, the tests run again under one that can.
require('./node-for-red').runUnderSupportedNode(__filename);

const files = walk(testDir)
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/test: run npm run build first');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', `--test-reporter=${path.join(__dirname, 'test-reporter.mjs')}`, '--test-reporter-destination=stdout', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status === null ? 1 : result.status);
