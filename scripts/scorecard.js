#!/usr/bin/env node
// npm run scorecard: Node-RED's scorecard (node-red-dev validate, the checks the flow library shows) on this
// checkout, with the flow library's catalogue unreachable, and an honest report: every check passed, failed,
// or skipped and why. node-red-dev is installed on first use into .cache/node-red-dev (a tool, not a
// dependency of the package). Exit 1 when a check fails.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const Module = require('module');
const path = require('path');

const root = path.resolve(__dirname, '..');
const VERSION = '0.1.6';
const prefix = path.join(root, '.cache', 'node-red-dev');
const tool = path.join(prefix, 'node_modules', 'node-red-dev');
const CATALOGUE = 'catalogue.nodered.org';

// What each check is, and what it needs besides this checkout (node-red-dev 0.1.6's own list).
const CHECKS = {
  P01: ['a licence', null],
  P02: ['the repository holds this package', 'off'],
  P03: ['a repository or bugs link', null],
  P04: ['a scoped name, or a valid node-red-contrib- one', null],
  P05: ['"node-red" among the keywords', null],
  P06: ['node-red.version admits a current Node-RED (its dist-tags)', 'registry'],
  P07: ['engines.node admits the Node the latest Node-RED needs', 'registry'],
  P08: ['no similarly named package in the catalogue', 'catalogue'],
  N01: ['node type names used by no other package in the catalogue', 'catalogue'],
  N02: ['an example for every node', null],
  D01: ['at most 6 dependencies', null],
  D02: ['no known incompatible package in the dependency tree', 'registry'],
  D03: ['dependencies at their latest versions', 'registry'],
};

function installTool() {
  let have = null;
  try {
    have = JSON.parse(fs.readFileSync(path.join(tool, 'package.json'), 'utf8')).version;
  } catch {
    /* not installed */
  }
  if (have === VERSION) return;
  fs.mkdirSync(prefix, { recursive: true });
  if (!fs.existsSync(path.join(prefix, 'package.json'))) fs.writeFileSync(path.join(prefix, 'package.json'), '{"name": "node-red-dev-tool", "private": true}\n');
  console.log(`installing node-red-dev@${VERSION} into ${path.relative(root, prefix)}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `node-red-dev@${VERSION}`], { cwd: prefix, stdio: 'inherit' });
}

/**
 * node-red-dev asks the catalogue through axios, and a failed request ends its package checks there (P05 to
 * P07 would never run). Its axios is given a catalogue that cannot be reached: the request is answered with
 * an empty catalogue, so the checks after it run, and the checks that read it (P08, N01) are reported as
 * skipped, never as passed. Registry requests go out; when they fail, their checks are skipped too.
 */
const failures = { catalogue: 0, registry: [] };
function hookAxios() {
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const loaded = load.call(this, request, parent, isMain);
    if (request !== 'axios' || !parent || !parent.filename.startsWith(tool)) return loaded;
    return {
      ...loaded,
      get(url, ...rest) {
        if (new URL(url).hostname === CATALOGUE) {
          failures.catalogue++;
          return Promise.resolve({ data: { modules: [] } });
        }
        return loaded.get(url, ...rest).catch((err) => {
          failures.registry.push(`${url}: ${err.code || err.message}`);
          throw err;
        });
      },
    };
  };
}

async function main() {
  installTool();
  hookAxios();
  const said = [];
  const errors = [];
  const cli = {
    log: (m) => said.push(`  ${m}`),
    warn: (m) => said.push(`  warning: ${m}`),
    error: (e) => errors.push(String(e && e.message ? e.message : e)),
  };
  const checkpackage = require(path.join(tool, 'src', 'libs', 'checkpackage'));
  const checknodes = require(path.join(tool, 'src', 'libs', 'checknodes'));
  const checkdeps = require(path.join(tool, 'src', 'libs', 'checkdeps'));
  const scorecard = {};
  // As node-red-dev validate runs them, with a cli that records instead of exiting on the first error.
  await checkpackage(root, cli, scorecard, false);
  await checknodes(root, cli, scorecard, false);
  await checkdeps(root, cli, scorecard, false);
  await new Promise((r) => setTimeout(r, 200)); // N02 runs in a promise node-red-dev does not wait for

  console.log(`node-red-dev ${VERSION} validate on ${scorecard.package ? `${scorecard.package.name}@${scorecard.package.version}` : root}, catalogue (${CATALOGUE}) unreachable:`);
  // Its verdicts on the catalogue were drawn from the empty answer: not told as if checked.
  const fromCatalogue = /No similar named packages found|Nodes all have unique names/;
  for (const line of said) console.log(fromCatalogue.test(line) ? '  (not checked: the catalogue is unreachable)' : line);
  console.log('');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const [id, [what, needs]] of Object.entries(CHECKS)) {
    const result = scorecard[id];
    let status = 'skipped';
    let why = '';
    if (needs === 'off') why = `disabled in node-red-dev ${VERSION}'s source`;
    else if (needs === 'catalogue') why = `needs the catalogue, unreachable (${failures.catalogue} requests refused)`;
    else if (!result) why = needs === 'registry' && failures.registry.length ? `npm registry unreachable: ${failures.registry[0]}` : `did not run${errors.length ? `: ${errors[0]}` : ''}`;
    else if (result.test) status = 'passed';
    else [status, why] = ['FAILED', JSON.stringify(result)];
    if (status === 'passed') passed++;
    else if (status === 'FAILED') failed++;
    else skipped++;
    console.log(`${id}  ${status.padEnd(7)}  ${what}${why ? ` -- ${why}` : ''}`);
  }
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (errors.length) console.log(`node-red-dev stopped a stage with: ${errors.join('; ')}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
