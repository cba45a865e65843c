// The cluster's plan phase (planBatch) alone, in a process of its own, on a generated scan of
// COUNT files: what plan-bounded-memory.test.ts measures, and what its figures were measured with.
//
//   node plan-batch-child.mjs JOBS_DIST REDIS_URL RESULTS_DIR ROOT COUNT KIND
//
// JOBS_DIST: a built libs/jobs/dist (this checkout's, or another's for a before/after figure);
// ROOT: the allowed root, with the files' directories made below ROOT/src (the files need not
// exist: a plan reads the destination, not the sources); KIND: copy, or rename ('{counter}-{name}').
// Prints one JSON line: the job's id and plan summary, the peak RSS (KB), and the event loop's
// longest and 99th-percentile delay (ms) while planBatch ran.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [dist, redisUrl, results, root, countArg, kind] = process.argv.slice(2);
const count = Number(countArg);
const PER_DIR = 250;
const jobs = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const { planBatch } = await import(pathToFileURL(path.join(dist, 'plan-batch.js')).href);

const ctx = jobs.openClusterContext(
  jobs.readClusterConfig({ FILER_REDIS_URL: redisUrl, FILER_RESULTS_DIR: results, FILER_ALLOWED_ROOTS: root }),
);
const src = path.join(root, 'src');
for (let d = 0; d * PER_DIR < count; d++) fs.mkdirSync(path.join(src, `d${String(d).padStart(4, '0')}`), { recursive: true });
const raw =
  kind === 'rename'
    ? { kind: 'rename', roots: [src], options: { to: '{counter}-{name}' } }
    : { kind: 'copy', roots: [src], options: { dest: path.join(root, `dest-${count}`) } };
const spec = jobs.admitJob(raw, ctx.allowedRoots);
const id = jobs.newJobId();
await ctx.store.create({ id, kind: spec.kind, spec, state: 'running', createdAt: new Date().toISOString() });

// The scan's part, as scan shards write it: one entry per line, with the identity a plan journals.
const part = await ctx.results.openPart(id, 'scan', '00000');
for (let i = 0; i < count; i++) {
  const dir = `d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`;
  const entry = { path: `${src}/${dir}/f${i}.txt`, kind: 'file', size: i % 1000, mtimeMs: 1.7e12 + i, dev: 2049, ino: 1_000_000 + i };
  part.write(JSON.stringify({ ...entry, mtimeSec: 1.7e9 + i, mtimeNsec: i % 1e9 }) + '\n');
}
await part.commit();

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
await planBatch(ctx, await ctx.store.get(id));
loop.disable();
const rec = await ctx.store.get(id);
console.log(
  JSON.stringify({
    id,
    state: rec.state,
    plan: rec.plan,
    results: rec.results,
    maxRssKb: process.resourceUsage().maxRSS,
    loopMaxMs: Math.round(loop.max / 1e6),
    loopP99Ms: Math.round(loop.percentile(99) / 1e6),
  }),
);
await ctx.close();
