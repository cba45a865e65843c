#!/usr/bin/env node
// The plan of `filer copy T --dest D` (no --apply) on a large tree, beside `filer find T --format
// ndjson` of the same tree: peak RSS and wall time of each, and the plan's time as a multiple of
// find's (issue 17's goal: ≤ 400 MB peak RSS whatever the file count, plan ≤ 5× find). With
// BENCH_BASE=DIR (another checkout, built) the same two commands of that build run in the same
// rounds, for an A/B in one run.
//
//   node bench/batch-plan.mjs                          1,000,000 files, default and deep trees
//   BENCH_PLAN_FILES=100k BENCH_BASE=/work/wt-base node bench/batch-plan.mjs
//   node bench/run.mjs batch-plan                      via the harness
//
// Env: BENCH_PLAN_FILES (default 1,000,000; the find benchmark's generator, bench/gen-tree.mjs, trees
//      cached under bench/.cache/), BENCH_PLAN_SHAPES (default default,deep), BENCH_PLAN_RUNS (timed
//      rounds, default 1; the order of the commands rotates every round), BENCH_BASE (a built
//      checkout to compare with).
// Method: the tree is read once (page cache warm); every command runs under GNU time with stdout
// to /dev/null, filer with --hidden --no-ignore and XDG_CACHE_HOME in a scratch directory (where
// the plan store goes); the destination does not exist (a plan, nothing is written there).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTree, parseCount } from './gen-tree.mjs';
import { formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { intEnv, environmentNote } from './lib/env.mjs';
import { warmPageCache } from './lib/page-cache.mjs';
import { fmtInt, fmtRatio } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const RESULTS = path.join(BENCH_DIR, 'results/batch-plan.md');
const RSS_GOAL_MB = 400;
const TIME_GOAL = 5; // plan / find

export const name = 'batch-plan';

function filerCase(label, repo, args, xdg) {
  const bin = path.join(repo, 'apps/cli/bin/filer.js');
  if (!fs.existsSync(path.join(repo, 'apps/cli/dist/main.js'))) throw new Error(`${repo} is not built (apps/cli/dist/main.js missing)`);
  return {
    label,
    cmd: { cmd: process.execPath, args: [bin, ...args, '--hidden', '--no-ignore'], env: { XDG_CACHE_HOME: xdg } },
    ms: [],
    rss: [],
  };
}

/** One tree: find and the copy plan of this build (and of BENCH_BASE's), `runs` rotated rounds. */
async function treePart(tree, { base, runs, log, scratch }) {
  const warm = warmPageCache(tree.root);
  log(`page cache warmed: ${fmtInt(warm.files)} files in ${formatMs(warm.ms)}`);
  const dest = path.join(scratch, 'dest-never-made');
  const builds = [['this build', REPO], ...(base ? [['base', base]] : [])];
  const cases = builds.flatMap(([who, repo]) => {
    const xdg = fs.mkdtempSync(path.join(scratch, 'xdg-'));
    return [
      { ...filerCase(`${who}: find --format ndjson`, repo, ['find', tree.root, '--format', 'ndjson'], xdg), who, kind: 'find' },
      { ...filerCase(`${who}: copy --dest D (plan)`, repo, ['copy', tree.root, '--dest', dest], xdg), who, kind: 'plan' },
    ];
  });
  for (let i = 0; i < runs; i++) {
    const order = [...cases.slice(i % cases.length), ...cases.slice(0, i % cases.length)];
    for (const c of order) {
      const r = await measure(c.cmd, 'null');
      if (r.code !== 0 || r.signal) throw new Error(`${c.label}: exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
      c.ms.push(r.ms);
      c.rss.push(r.rssKB);
      log(`  ${c.label}: ${formatMs(r.ms)}, peak RSS ${formatMB(r.rssKB)}`);
    }
  }
  return builds.map(([who]) => {
    const find = cases.find((c) => c.who === who && c.kind === 'find');
    const plan = cases.find((c) => c.who === who && c.kind === 'plan');
    return { who, find: { ms: median(find.ms), rss: Math.max(...find.rss) }, plan: { ms: median(plan.ms), rss: Math.max(...plan.rss) } };
  });
}

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const n = parseCount(process.env.BENCH_PLAN_FILES ?? '1m');
  const shapes = (process.env.BENCH_PLAN_SHAPES ?? 'default,deep').split(',').filter(Boolean);
  const runs = intEnv('BENCH_PLAN_RUNS', 1, 1);
  const base = process.env.BENCH_BASE || undefined;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-plan-'));
  const rows = [];
  let ok = true;
  try {
    for (const shape of shapes) {
      const tree = ensureTree(n, { log, shape });
      log(`\ncopy plan vs find: ${fmtInt(tree.files)}-file tree (${shape}) ${tree.root}`);
      for (const r of await treePart(tree, { base, runs, log, scratch })) {
        const ratio = r.plan.ms / r.find.ms;
        const met = r.plan.rss / 1024 <= RSS_GOAL_MB && ratio <= TIME_GOAL;
        if (r.who === 'this build') ok &&= met;
        rows.push([
          `${fmtInt(tree.files)} (${shape})`,
          r.who,
          formatMs(r.find.ms),
          formatMB(r.find.rss),
          formatMs(r.plan.ms),
          formatMB(r.plan.rss),
          fmtRatio(ratio),
          met ? 'yes' : '**NO**',
        ]);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const markdown = [
    '# Copy plan vs find (bench/batch-plan.mjs)',
    '',
    `Goal: the plan of \`filer copy T --dest D\` in ≤ ${RSS_GOAL_MB} MB peak RSS whatever the file count, in ≤ ${TIME_GOAL}× the time of \`filer find T --format ndjson\`. Median of ${runs} run(s).`,
    '',
    markdownTable(['tree (files)', 'build', 'find', 'find RSS', 'copy plan', 'plan RSS', 'plan / find', 'goal met'], rows),
    '',
    environmentNote(),
    '',
  ].join('\n');
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, markdown);
  return { ok, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { markdown } = await run();
  process.stdout.write(markdown);
}
