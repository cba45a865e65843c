#!/usr/bin/env node
// Entry point of `npm run bench` (which builds first): ensures the synthetic tree, then runs each benchmark module.
//
//   npm run bench                         1,000,000-file tree, every benchmark
//   BENCH_FILES=50000 npm run bench       quick run on a 50k-file tree
//   node bench/run.mjs find               only the named benchmark(s) (also: BENCH_ONLY=find,dupes)
//   BENCH_S3_FILES=20000 node bench/run.mjs s3   filer vs rclone over s3rver (its own tree: BENCH_S3_FILES, default 100,000)
//   node bench/run.mjs dupes-plan         the dedupe plan of a cached tree beside jdupes -r (54,000-file corpus)
//   node bench/run.mjs s3-list            S3 listing, filer find vs rclone lsf, 5k and 100k objects, two layouts (BENCH_S3_LIST_COUNTS)
//   node bench/run.mjs pg-items            path lookups on 1,000,000 per-item outcomes in PostgreSQL (BENCH_PG_ITEMS)
//   node bench/run.mjs s3-plan            S3 copy plans' peak RSS at 20k, 100k, 1M objects (BENCH_S3_PLAN_COUNTS)
//   node bench/run.mjs scale-out          K = 1, 2, 4, 8 scanners over a 20 ms-per-request listing server (its own keys; ~2–3 min)
//   node bench/run.mjs cluster-dupes-rerun a cluster dupes job and its rerun through the shared hash index
//   node bench/run.mjs dedupe-apply       filer dupes --action hardlink --apply vs jdupes -r -L, fresh cp -a per tool per round, two trees
//
// A benchmark module exports `name` (and `usesTree = false` when it needs no synthetic tree) and
// `run({ manifest, log })` returning `{ ok }` (ok = nothing
// failed and the sanity checks passed; missed performance targets don't make it false). To add one
// (dupes, copy, ...), write bench/<name>.mjs and list it in BENCHMARKS below.
import { ensureTree, resolveFileCount } from './gen-tree.mjs';
import { cleanRunEnvironment } from './lib/env.mjs';

const BENCHMARKS = [
  () => import('./find.mjs'),
  () => import('./dupes.mjs'),
  () => import('./dupes-plan.mjs'),
  () => import('./dedupe-apply.mjs'),
  () => import('./batch.mjs'),
  () => import('./batch-plan.mjs'),
  () => import('./cluster.mjs'),
  () => import('./scale-out.mjs'),
  () => import('./s3.mjs'),
  () => import('./s3-list.mjs'),
  () => import('./pg-items.mjs'),
  () => import('./s3-plan.mjs'),
  () => import('./cluster-dupes-rerun.mjs'),
];

const log = (s) => process.stderr.write(s + '\n');

const unset = cleanRunEnvironment();
if (unset.length > 0) log(`bench: runs without ${unset.join(', ')} (see bench/lib/env.mjs)`);

const only = [...process.argv.slice(2), ...(process.env.BENCH_ONLY ?? '').split(',')].map((s) => s.trim()).filter(Boolean);
const modules = await Promise.all(BENCHMARKS.map((load) => load()));
const unknown = only.filter((n) => !modules.some((m) => m.name === n));
if (unknown.length > 0) {
  log(`unknown benchmark(s): ${unknown.join(', ')} (have: ${modules.map((m) => m.name).join(', ')})`);
  process.exit(2);
}

const selected = modules.filter((m) => only.length === 0 || only.includes(m.name));
// A module that brings its own data (`usesTree = false`) does not need the synthetic tree generated.
const manifest = selected.some((m) => m.usesTree !== false) ? ensureTree(resolveFileCount()) : undefined;
let ok = true;
for (const mod of modules) {
  if (only.length > 0 && !only.includes(mod.name)) continue;
  log(`\n=== bench: ${mod.name} ===`);
  const result = await mod.run({ manifest, log });
  ok &&= result.ok;
}
if (!ok) log('\nbench: some runs failed or outputs disagreed (see above)');
process.exitCode = ok ? 0 : 1;
