#!/usr/bin/env node
// The plan of `filer copy T --dest D` (no --apply) and of `filer rename T --to '{counter}-{name}'`
// and `--to '{date:YYYY}/{name}{ext}'` on a large tree, and `filer copy T --dest D --apply --no-fsync` (the journal written, read back a
// page at a time and carried out), beside `filer find T --format ndjson` of the same tree: peak RSS
// and wall time of each, and each one's time as a multiple of find's (issue 17's goal: ≤ 400 MB
// peak RSS whatever the file count, plan ≤ 5× find). With BENCH_BASE=DIR (another checkout, built)
// the same commands of that build run in the same rounds, for an A/B in one run.
//
//   node bench/batch-plan.mjs                          1,000,000 files, default and deep trees
//   BENCH_PLAN_FILES=100k BENCH_BASE=/work/wt-base node bench/batch-plan.mjs
//   node bench/run.mjs batch-plan                      via the harness
//
// Env: BENCH_PLAN_FILES (default 1,000,000; the find benchmark's generator, bench/gen-tree.mjs, trees
//      cached under bench/.cache/), BENCH_PLAN_SHAPES (default default,deep), BENCH_PLAN_RUNS (timed
//      rounds, default 1; the order of the commands rotates every round), BENCH_BASE (a built
//      checkout to compare with), BENCH_PLAN_APPLY (0: leave out the copy --apply, which writes the
//      tree's bytes and inodes once per round into a scratch directory, removed after each),
//      BENCH_PLAN_KINDS (a comma list of plan, rename, rename-date, apply: only those beside find).
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
    cpu: [],
  };
}

/** The commands timed per build: find, the two plans, and (unless left out) a copy carried out. */
function buildCases(who, repo, root, dest, xdg, apply) {
  const kinds = [
    ['find', 'find --format ndjson', ['find', root, '--format', 'ndjson']],
    ['plan', 'copy --dest D (plan)', ['copy', root, '--dest', dest]],
    ['rename', "rename --to '{counter}-{name}' (plan)", ['rename', root, '--to', '{counter}-{name}']],
    // {date} opens each file that may hold EXIF (first two bytes), and sorts into folders below each file's own.
    ['rename-date', "rename --to '{date:YYYY}/{name}{ext}' (plan)", ['rename', root, '--to', '{date:YYYY}/{name}{ext}']],
    ...(apply ? [['apply', 'copy --dest D --apply --no-fsync', ['copy', root, '--dest', dest + '-applied', '--apply', '--no-fsync']]] : []),
  ];
  return kinds.map(([kind, what, args]) => ({ ...filerCase(`${who}: ${what}`, repo, args, xdg), who, kind, what }));
}

/** One tree: find and the copy plan of this build (and of BENCH_BASE's), `runs` rotated rounds. */
async function treePart(tree, { base, runs, log, scratch, apply, kinds }) {
  const warm = warmPageCache(tree.root);
  log(`page cache warmed: ${fmtInt(warm.files)} files in ${formatMs(warm.ms)}`);
  const dest = path.join(scratch, 'dest-never-made');
  const builds = [['this build', REPO], ...(base ? [['base', base]] : [])];
  // The tree's real path: bench/.cache may hold a link to a tree another checkout generated.
  const root = fs.realpathSync(tree.root);
  const cases = builds
    .flatMap(([who, repo]) => buildCases(who, repo, root, dest, fs.mkdtempSync(path.join(scratch, 'xdg-')), apply))
    .filter((c) => kinds === undefined || kinds.includes(c.kind));
  for (let i = 0; i < runs; i++) {
    const order = [...cases.slice(i % cases.length), ...cases.slice(0, i % cases.length)];
    for (const c of order) {
      const r = await measure(c.cmd, 'null');
      if (r.code !== 0 || r.signal) throw new Error(`${c.label}: exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
      c.ms.push(r.ms);
      c.rss.push(r.rssKB);
      c.cpu.push(r.cpuMs);
      log(`  ${c.label}: ${formatMs(r.ms)} (CPU ${formatMs(r.cpuMs)}), peak RSS ${formatMB(r.rssKB)}`);
      // The copy made (and its job's record) go before the next round: every apply starts empty.
      if (c.kind === 'apply') fs.rmSync(dest + '-applied', { recursive: true, force: true });
    }
  }
  const summary = (c) => ({ what: c.what, kind: c.kind, ms: median(c.ms), rss: Math.max(...c.rss), cpu: median(c.cpu) });
  return builds.map(([who]) => {
    const mine = cases.filter((c) => c.who === who);
    return { who, find: summary(mine.find((c) => c.kind === 'find')), others: mine.filter((c) => c.kind !== 'find').map(summary) };
  });
}

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const n = parseCount(process.env.BENCH_PLAN_FILES ?? '1m');
  const shapes = (process.env.BENCH_PLAN_SHAPES ?? 'default,deep').split(',').filter(Boolean);
  const runs = intEnv('BENCH_PLAN_RUNS', 1, 1);
  const base = process.env.BENCH_BASE || undefined;
  const apply = process.env.BENCH_PLAN_APPLY !== '0';
  // BENCH_PLAN_KINDS=rename,apply: only those commands (find is always needed for the ratios).
  const kinds = process.env.BENCH_PLAN_KINDS ? ['find', ...process.env.BENCH_PLAN_KINDS.split(',')] : undefined;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-plan-'));
  const rows = [];
  let ok = true;
  try {
    for (const shape of shapes) {
      const tree = ensureTree(n, { log, shape });
      log(`\ncopy plan vs find: ${fmtInt(tree.files)}-file tree (${shape}) ${tree.root}`);
      for (const r of await treePart(tree, { base, runs, log, scratch, apply, kinds })) {
        for (const o of r.others) {
          const ratio = o.ms / r.find.ms;
          // The time goal is the plans'; a copy carried out is held to the memory goal alone.
          const met = o.rss / 1024 <= RSS_GOAL_MB && (o.kind === 'apply' || ratio <= TIME_GOAL);
          if (r.who === 'this build') ok &&= met;
          rows.push([
            `${fmtInt(tree.files)} (${shape})`,
            r.who,
            formatMs(r.find.ms),
            formatMB(r.find.rss),
            o.what,
            formatMs(o.ms),
            formatMB(o.rss),
            fmtRatio(ratio),
            // CPU time (user + sys, every thread): the walk runs on several threads and the plan on one,
            // so on a loaded host the wall ratio also measures how the scheduler shares the cores.
            `${formatMs(o.cpu)} / ${formatMs(r.find.cpu)} = ${fmtRatio(o.cpu / r.find.cpu)}`,
            met ? 'yes' : '**NO**',
          ]);
        }
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const markdown = [
    '# Batch plans and a copy carried out vs find (bench/batch-plan.mjs)',
    '',
    `Goal: ≤ ${RSS_GOAL_MB} MB peak RSS whatever the file count; a plan (no --apply) in ≤ ${TIME_GOAL}× the time of \`filer find T --format ndjson\`. Median of ${runs} run(s); load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end.`,
    '',
    markdownTable(
      ['tree (files)', 'build', 'find', 'find RSS', 'command', 'time', 'peak RSS', '/ find', 'CPU / find CPU', 'goal met'],
      rows,
    ),
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
