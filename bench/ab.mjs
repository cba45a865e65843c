#!/usr/bin/env node
// A/B: this checkout's filer against another checkout's (a baseline build), the same commands on the
// same cached data sets, to show a change does not slow find, dupes or copy down.
//
//   BENCH_AB_BASE=/path/to/other/checkout node bench/ab.mjs          (both checkouts built)
//   BENCH_AB_BASE=… BENCH_RUNS=5 BENCH_FILES=1000000 BENCH_COPY_FILES=100000 BENCH_LARGE_MB=1000 node bench/ab.mjs
//
// Method: per case, 1 warm-up of each build, then BENCH_RUNS (default 5) rounds; each round runs
// both builds, the order swapped every round, so a load that comes and goes hits both alike.
// time = median wall time; ratio = this build / baseline. Copies go into a fresh destination on the
// source's file system with a fresh state database (XDG_CACHE_HOME) each run, after a `sync`, and
// their own `sync` is not timed (both builds fsync before linking, so little is left for it).
// Writes bench/results/ab.md. The data sets are those of the other benchmarks (bench/.cache/).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureTree, resolveFileCount } from './gen-tree.mjs';
import { ensureDupesCorpus, resolveDupesConfig, corpusPaths } from './gen-dupes-corpus.mjs';
import { ensureLargeFiles, resolveLargeMB } from './gen-large-files.mjs';
import { formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { intEnv, environmentNote, cleanRunEnvironment } from './lib/env.mjs';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const BASE = process.env.BENCH_AB_BASE;
if (!BASE || !fs.existsSync(path.join(BASE, 'apps/cli/bin/filer.js'))) {
  process.stderr.write('bench/ab.mjs: set BENCH_AB_BASE to a built checkout of the baseline (apps/cli/bin/filer.js missing)\n');
  process.exit(2);
}
const log = (s) => process.stderr.write(s + '\n');
cleanRunEnvironment();
const RUNS = intEnv('BENCH_RUNS', 5, 1);
const builds = [
  { key: 'this', bin: path.join(REPO, 'apps/cli/bin/filer.js'), rev: rev(REPO) },
  { key: 'base', bin: path.join(BASE, 'apps/cli/bin/filer.js'), rev: rev(BASE) },
];

function rev(dir) {
  return spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
}

const tree = ensureTree(resolveFileCount());
const copyTree = ensureTree(intEnv('BENCH_COPY_FILES', 100_000, 1));
const dupesConfig = resolveDupesConfig();
ensureDupesCorpus(dupesConfig);
const dupesRoot = corpusPaths(dupesConfig.files, dupesConfig.bytes).root;
const large = ensureLargeFiles(resolveLargeMB());
const scratch = fs.mkdtempSync(path.join(path.dirname(copyTree.root), 'ab-scratch-'));

const flags = ['--hidden', '--no-ignore'];
/** A case: its label and, per build, the command plus what to do before (untimed). */
const cases = [
  { label: 'find T (names)', data: tree, args: (r) => ['find', r, ...flags] },
  { label: 'find T --format ndjson', data: tree, args: (r) => ['find', r, ...flags, '--format', 'ndjson'] },
  { label: 'find T --ext csv --min-size 2k', data: tree, args: (r) => ['find', r, ...flags, '--ext', 'csv', '--min-size', '2k'] },
  { label: 'dupes C --no-cache', data: { root: dupesRoot }, args: (r) => ['dupes', r, ...flags, '--no-cache'] },
  { label: 'copy S --dest D (plan only)', data: copyTree, copy: true, args: (r, d) => ['copy', r, '--dest', d, ...flags] },
  {
    label: 'copy S --dest D --apply (small files)',
    data: copyTree,
    copy: true,
    args: (r, d) => ['copy', r, '--dest', d, '--apply', ...flags],
  },
  {
    label: 'copy L --dest D --apply (large files)',
    data: large,
    copy: true,
    args: (r, d) => ['copy', r, '--dest', d, '--apply', ...flags],
  },
];

async function runOnce(c, build) {
  const dest = path.join(scratch, 'dest');
  const state = path.join(scratch, 'state');
  fs.rmSync(dest, { recursive: true, force: true });
  fs.rmSync(state, { recursive: true, force: true });
  fs.mkdirSync(state);
  if (c.copy) spawnSync('sync');
  const r = await measure({
    cmd: process.execPath,
    args: [build.bin, ...c.args(c.data.root, dest)],
    env: { ...process.env, XDG_CACHE_HOME: state },
  });
  if (r.code !== 0) throw new Error(`${build.key}: ${c.label} exited ${r.code ?? r.signal}: ${r.stderr.slice(0, 500)}`);
  return r;
}

const rows = [];
const all = [];
for (const c of cases) {
  log(`ab: ${c.label}`);
  for (const b of builds) await runOnce(c, b); // warm-up
  const times = { this: [], base: [] };
  const rss = { this: 0, base: 0 };
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? builds : [...builds].reverse();
    for (const b of order) {
      const r = await runOnce(c, b);
      times[b.key].push(r.ms);
      rss[b.key] = Math.max(rss[b.key], r.rssKB ?? 0);
    }
  }
  const t = median(times.this);
  const base = median(times.base);
  rows.push([c.label, formatMs(t), formatMs(base), (t / base).toFixed(3), formatMB(rss.this), formatMB(rss.base)]);
  all.push([c.label, times.this.map(formatMs).join(', '), times.base.map(formatMs).join(', ')]);
  log(`   this ${formatMs(t)}  base ${formatMs(base)}  ratio ${(t / base).toFixed(3)}`);
}
fs.rmSync(scratch, { recursive: true, force: true });

const md = [
  '# filer A/B benchmark: this build against a baseline build',
  '',
  `- date: ${new Date().toISOString()}`,
  `- this: ${builds[0].rev}; base: ${builds[1].rev}`,
  `- data: find on ${tree.root} (${tree.files} files); dupes on ${dupesRoot}; copy of ${copyTree.root} and of ${large.root}`,
  `- ${os.cpus().length} cores, node ${process.version}${environmentNote()}`,
  `- method: 1 warm-up per build, then ${RUNS} rounds alternating the order; time = median wall time; ratio = this / base; peak RSS = max over runs`,
  '',
  markdownTable(['case', 'this', 'base', 'ratio', 'this max RSS', 'base max RSS'], rows),
  '',
  '## All timed runs',
  '',
  markdownTable(['case', 'this', 'base'], all),
  '',
].join('\n');
fs.writeFileSync(path.join(REPO, 'bench/results/ab.md'), md);
process.stdout.write(md);
