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

// The Node-RED under test must run on this Node: say so once rather than fail every test that starts it.
const redDir = process.env.F2B_NODE_RED_DIR ? path.resolve(process.env.F2B_NODE_RED_DIR) : root;
let red;
try {
  red = require(require.resolve('node-red/package.json', { paths: [redDir] }));
} catch {
  console.error(`no node-red under ${redDir}: run npm install${process.env.F2B_NODE_RED_DIR ? ' there' : ''}`);
  process.exit(1);
}
const [major, minor] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = (/(\d+)\.(\d+)/.exec(red.engines?.node ?? '') ?? [0, 0, 0]).slice(1).map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  console.error(`Node-RED ${red.version} needs Node.js ${red.engines.node}; this is ${process.version}. Run the tests with a newer node on PATH, or against Node-RED 4.1 with F2B_NODE_RED_DIR (bash .ci/run sets up both).`);
  process.exit(1);
}

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
