// Node-RED 5 needs Node.js 22.9 or later; machines with Node.js 20 (Debian's, this project's CI) are common.
// npm start and npm test then run themselves again under Node.js 22 from npm's `node` package, installed
// once into .cache/node22 (as .ci/run does), so that each stays one command on any machine.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const NODE_MAJOR = 22;

/** The Node-RED that will run: F2B_NODE_RED_DIR's (the CI matrix) or this checkout's devDependency. */
function nodeRedPackage() {
  const dir = process.env.F2B_NODE_RED_DIR ? path.resolve(process.env.F2B_NODE_RED_DIR) : root;
  try {
    return { dir, pkg: require(require.resolve('node-red/package.json', { paths: [dir] })) };
  } catch {
    console.error(`Node-RED is not installed under ${dir}: run "npm install"${process.env.F2B_NODE_RED_DIR ? ' there' : ' in this checkout (it is a devDependency)'}.`);
    process.exit(1);
  }
}

/** Whether this Node.js is at least the `major.minor` an engines range such as ">=22.9.0" names. */
function satisfies(range) {
  const need = /(\d+)\.(\d+)/.exec(range ?? '');
  if (!need) return true;
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > Number(need[1]) || (major === Number(need[1]) && minor >= Number(need[2]));
}

/**
 * The bin directory of Node.js `major` from npm's `node` package under .cache/node<major>, installed there
 * first when missing (npm's output goes to stderr); null when the install failed. .ci/run uses it too.
 */
function nodeBin(major) {
  const prefix = path.join(root, '.cache', `node${major}`);
  const bin = path.join(prefix, 'node_modules', 'node', 'bin');
  if (!fs.existsSync(path.join(bin, 'node'))) {
    spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', `node@${major}`], { stdio: ['ignore', 2, 2] });
  }
  return fs.existsSync(path.join(bin, 'node')) ? bin : null;
}

/**
 * Returns when this Node.js runs the Node-RED under use; otherwise runs this script again under Node.js
 * 22 (installing it into .cache/node22 first) with that Node first on PATH, and exits with its status.
 */
function runUnderSupportedNode(script) {
  const { pkg } = nodeRedPackage();
  if (satisfies(pkg.engines && pkg.engines.node)) return;
  if (!fs.existsSync(path.join(root, '.cache', `node${NODE_MAJOR}`, 'node_modules', 'node', 'bin', 'node'))) {
    console.error(`Node-RED ${pkg.version} needs Node.js ${pkg.engines.node}; this is ${process.version}. Installing Node.js ${NODE_MAJOR} from npm into .cache/node${NODE_MAJOR} (once)...`);
  }
  const bin = nodeBin(NODE_MAJOR);
  if (!bin) {
    console.error(`Could not install Node.js ${NODE_MAJOR}: put Node.js ${pkg.engines.node} on PATH, or use Node-RED 4.1 with F2B_NODE_RED_DIR.`);
    process.exit(1);
  }
  const node = path.join(bin, 'node');
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH || ''}` };
  const child = spawnSync(node, [script, ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(child.status === null ? 1 : child.status);
}

module.exports = { nodeBin, nodeRedPackage, runUnderSupportedNode };
