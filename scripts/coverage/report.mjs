#!/usr/bin/env node
// Line coverage of the TypeScript sources by the whole test run, in-process and in the processes
// the tests started, checked against coverage-floor.json. Run by scripts/test.sh after vitest:
//   node scripts/coverage/report.mjs IN_PROCESS_JSON CHILDREN_V8_DIR FLOOR_JSON
// IN_PROCESS_JSON: vitest's istanbul map (coverage/in-process/coverage-final.json: what the test
// files ran in their own processes). CHILDREN_V8_DIR: the raw V8 coverage (NODE_V8_COVERAGE) of the
// CLI, API and worker processes, which ran the built JavaScript (apps/*/dist, libs/*/dist):
// c8 maps it back to the TypeScript through the build's source maps. A line counts as covered
// when either ran it (the lines that count are vitest's: see below). Prints the coverage per package and the ten least-covered modules, and
// exits 1 when a package (or the total) is more than the floor file's slack below its floor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import process from 'node:process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const libCoverage = require('istanbul-lib-coverage');
const { Report } = require('c8');

const [inProcessJson, childrenDir, floorFile] = process.argv.slice(2);
if (floorFile === undefined) {
  console.error('usage: report.mjs IN_PROCESS_JSON CHILDREN_V8_DIR FLOOR_JSON');
  process.exit(2);
}
const root = process.cwd();
const started = Date.now();

/** Sources that count: the apps' and libs' TypeScript, not the tests nor the test helpers (libs/testing). */
const SOURCE = /^(apps|libs)\/[^/]+\/src\/.+\.ts$/;
const counted = (rel) => SOURCE.test(rel) && !/\.(spec|spec-helper|d)\.ts$/.test(rel) && !rel.startsWith('libs/testing/');

const inProcess = libCoverage.createCoverageMap(JSON.parse(fs.readFileSync(inProcessJson, 'utf8')));

// The children's coverage: only the built files of this repository are read (node_modules and Node's
// own modules are dropped before merging, which keeps thousands of process dumps cheap).
const dumps = fs.existsSync(childrenDir) ? fs.readdirSync(childrenDir).filter((f) => f.endsWith('.json')).length : 0;
let children = libCoverage.createCoverageMap({});
if (dumps > 0) {
  const report = new Report({
    tempDirectory: childrenDir,
    include: ['apps/*/dist/**/*.js', 'libs/*/dist/**/*.js'],
    exclude: ['**/node_modules/**'],
    excludeNodeModules: true,
    reporter: [],
    mergeAsync: true,
  });
  children = await report.getCoverageMapFromAllCoverageFiles();
}
const childFiles = new Set(children.files());

// Which lines count is vitest's say (the lines of its statements, from the TypeScript's syntax tree;
// its map has every source file, run or not); c8's line-by-line view of the children only marks
// such a line covered. Mixing the two views' line sets would count comments and blank lines of
// the files the children loaded, and not of the others.
const files = [];
for (const file of inProcess.files()) {
  const rel = path.relative(root, file);
  if (!counted(rel)) continue;
  const here = inProcess.fileCoverageFor(file).getLineCoverage();
  const there = childFiles.has(file) ? children.fileCoverageFor(file).getLineCoverage() : {};
  const lines = Object.keys(here);
  const covered = lines.filter((l) => here[l] > 0 || there[l] > 0).length;
  files.push({ rel, pkg: rel.split('/').slice(0, 2).join('/'), total: lines.length, covered });
}
const pct = (covered, total) => (total === 0 ? 100 : (100 * covered) / total);
const byPkg = new Map();
for (const f of files) {
  const p = byPkg.get(f.pkg) ?? { covered: 0, total: 0, files: 0 };
  p.covered += f.covered;
  p.total += f.total;
  p.files += 1;
  byPkg.set(f.pkg, p);
}
const all = files.reduce((a, f) => ({ covered: a.covered + f.covered, total: a.total + f.total }), { covered: 0, total: 0 });

const floors = JSON.parse(fs.readFileSync(floorFile, 'utf8'));
const slack = floors.slack ?? 1;
const failures = [];
const check = (name, value) => {
  const floor = floors.lines?.[name];
  if (floor === undefined) return '';
  if (value < floor - slack) {
    failures.push(`${name}: ${value.toFixed(1)} % of lines, below its floor of ${floor} % (slack ${slack})`);
    return `  FLOOR ${floor}`;
  }
  return `  floor ${floor}`;
};

const row = (name, covered, total, extra = '') =>
  `${name.padEnd(52)} ${pct(covered, total).toFixed(1).padStart(6)} %  ${String(covered).padStart(6)} / ${String(total).padEnd(6)}${extra}`;
console.log(`\nLine coverage of the TypeScript (in-process and in ${dumps} process dumps of the CLI, API and workers):`);
for (const [name, p] of [...byPkg].sort(([a], [b]) => (a < b ? -1 : 1))) console.log(row(name, p.covered, p.total, check(name, pct(p.covered, p.total))));
console.log(row('total', all.covered, all.total, check('total', pct(all.covered, all.total))));

// The least covered, among modules of some size (a 3-line file at 0 % says little).
const least = files
  .filter((f) => f.total >= 20)
  .sort((a, b) => pct(a.covered, a.total) - pct(b.covered, b.total) || b.total - b.covered - (a.total - a.covered))
  .slice(0, 10);
console.log('\nThe ten least-covered modules (of 20 lines or more):');
for (const f of least) console.log(row(f.rel, f.covered, f.total));

for (const pkg of Object.keys(floors.lines ?? {}))
  if (pkg !== 'total' && !byPkg.has(pkg)) failures.push(`${pkg}: has a floor but no coverage at all`);
console.log(`\ncoverage: merged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (failures.length > 0) {
  console.error(`coverage: below the floor (${floorFile}):\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
