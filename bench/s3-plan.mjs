#!/usr/bin/env node
// Peak RSS and wall time of S3 copy plans as the object count grows (issue 17's goal: ≤ 400 MB at
// 1,000,000 objects), each beside the same command of BENCH_BASE's build when given:
//   - upload plan: `filer copy T --dest s3://bench/up/` (no --apply) of a generated tree (bench/gen-tree.mjs),
//     against s3rver on loopback (the destination prefix is empty);
//   - S3 → S3 plan: `filer copy s3://src/ --dest s3://dst/copy/` where the source holds N objects and
//     the destination prefix N others (a listing of N keys read into the plan). s3rver stores about
//     150 objects a second, so these objects live in the test harness's stub S3 (libs/testing's
//     startStubS3: in memory, paged ListObjectsV2 on loopback) — a synthetic listing server;
//   - upload --apply: the same upload carried out on s3rver, at BENCH_S3_APPLY_FILES only (it runs at
//     s3rver's pace: 20,000 objects take minutes).
//
//   node bench/s3-plan.mjs
//   BENCH_S3_PLAN_COUNTS=20k,100k BENCH_BASE=/work/main node bench/s3-plan.mjs
//   node bench/run.mjs s3-plan
//
// Env: BENCH_S3_PLAN_COUNTS (default 20k,100k,1m), BENCH_S3_PLAN_CASES (default upload,s3-to-s3,apply),
//      BENCH_S3_APPLY_FILES (default 20k), BENCH_BASE (a built checkout to compare with), BENCH_BASE_MAX
//      (default 200k: the largest count the base runs at — a plan held in memory takes GBs at 1M), BENCH_TIMEOUT_MS.
// Method: one run per command under GNU time, stdout to /dev/null, XDG_CACHE_HOME in a scratch
// directory (where the plan store and the journal go); filer with --hidden --no-ignore for trees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTree, parseCount } from './gen-tree.mjs';
import { formatMB, formatMs, markdownTable, measure } from './lib/measure.mjs';
import { environmentNote } from './lib/env.mjs';
import { fmtInt } from './lib/report.mjs';
import { filerEnv, startS3rver } from './s3.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const RESULTS = path.join(BENCH_DIR, 'results/s3-plan.md');
const RSS_GOAL_MB = 400;

export const name = 's3-plan';

/** N objects in directories of 1,000 (the generated trees' fan-out is similar), keys of about 30 bytes. */
function syntheticKeys(n, prefix) {
  const m = new Map();
  const empty = Buffer.alloc(0);
  for (let i = 0; i < n; i++) m.set(`${prefix}d${String(Math.floor(i / 1000)).padStart(4, '0')}/f${i}.dat`, empty);
  return m;
}

function filerRun(repo, args, env, scratch) {
  const bin = path.join(repo, 'apps/cli/bin/filer.js');
  if (!fs.existsSync(path.join(repo, 'apps/cli/dist/main.js'))) throw new Error(`${repo} is not built (apps/cli/dist/main.js missing)`);
  const xdg = fs.mkdtempSync(path.join(scratch, 'xdg-'));
  return { cmd: process.execPath, args: [bin, ...args], env: { ...env, XDG_CACHE_HOME: xdg } };
}

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const counts = (process.env.BENCH_S3_PLAN_COUNTS ?? '20k,100k,1m').split(',').filter(Boolean).map(parseCount);
  const cases = new Set((process.env.BENCH_S3_PLAN_CASES ?? 'upload,s3-to-s3,apply').split(','));
  const applyFiles = parseCount(process.env.BENCH_S3_APPLY_FILES ?? '20k');
  const base = process.env.BENCH_BASE || undefined;
  const baseMax = parseCount(process.env.BENCH_BASE_MAX ?? '200k');
  const allBuilds = [['this build', REPO], ...(base ? [['base', base]] : [])];
  const buildsAt = (n) => allBuilds.filter(([who]) => who === 'this build' || n <= baseMax);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-s3-plan-'));
  const rows = [];
  let ok = true;
  const record = async (what, n, who, cmd, expectCode = 0) => {
    const r = await measure(cmd, 'count');
    const failed = r.code !== expectCode || r.signal;
    log(
      `  ${what}, ${fmtInt(n)}, ${who}: ${formatMs(r.ms)}, peak RSS ${formatMB(r.rssKB)}, ${fmtInt(r.lines)} lines${failed ? `, exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').at(-1)}` : ''}`,
    );
    if (who === 'this build') ok &&= !failed && r.rssKB / 1024 <= RSS_GOAL_MB;
    rows.push([what, fmtInt(n), who, failed ? `failed (exit ${r.code ?? r.signal})` : formatMs(r.ms), formatMB(r.rssKB), fmtInt(r.lines)]);
  };
  const s3rver = await startS3rver(log);
  const { startStubS3 } = await import(path.join(REPO, 'libs/testing/dist/index.js'));
  const stub = await startStubS3({});
  try {
    const s3env = filerEnv(s3rver.endpoint);
    for (const n of counts) {
      if (cases.has('upload')) {
        const tree = ensureTree(n, { log });
        for (const [who, repo] of buildsAt(n))
          await record(
            'upload plan',
            tree.files,
            who,
            filerRun(repo, ['copy', tree.root, '--dest', 's3://bench/up/', '--hidden', '--no-ignore'], s3env, scratch),
          );
      }
      if (cases.has('s3-to-s3')) {
        stub.objects.set('src', syntheticKeys(n, ''));
        stub.objects.set('dst', syntheticKeys(n, 'copy/old/'));
        for (const [who, repo] of buildsAt(n))
          await record(
            'S3 → S3 plan (N listed at --dest)',
            n,
            who,
            filerRun(repo, ['copy', 's3://src/', '--dest', 's3://dst/copy/'], stub.env(), scratch),
          );
        stub.objects.set('src', new Map());
        stub.objects.set('dst', new Map());
      }
    }
    if (cases.has('apply')) {
      const tree = ensureTree(applyFiles, { log });
      for (const [who, repo] of buildsAt(applyFiles))
        await record(
          'upload --apply (s3rver)',
          tree.files,
          who,
          filerRun(
            repo,
            ['copy', tree.root, '--dest', `s3://bench/apply-${who.replace(/\W/g, '')}/`, '--hidden', '--no-ignore', '--apply'],
            s3env,
            scratch,
          ),
        );
    }
  } finally {
    await stub.stop();
    await s3rver.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const markdown = [
    '# S3 copy plans in bounded memory (bench/s3-plan.mjs)',
    '',
    `Goal: ≤ ${RSS_GOAL_MB} MB peak RSS at 1,000,000 objects. One run each; lines = the plan's stdout lines (one per action, plus the totals and the no-clobber note).`,
    '',
    markdownTable(['case', 'objects', 'build', 'wall', 'peak RSS', 'lines'], rows),
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
