#!/usr/bin/env node
// Listing an S3 prefix: `filer find s3://bench/P/ --hidden --format paths` against
// `rclone lsf -R --files-only remote:bench/P`, both on the same s3rver on loopback (as bench/s3.mjs),
// at 5,000 objects and at a large count, on two layouts: the default synthetic tree (the one the
// listing was tuned on) and the 'deep' one (up to 10 levels, 3–12 files a directory, longer names).
// At 5,000 also `--format ndjson` (vs `rclone lsjson -R --files-only --no-mimetype --use-server-modtime`: without it rclone HEADs every object for its own mtime metadata) and
// `--ext csv` (vs `rclone lsf -R --files-only --include '*.csv'`). And start-up: `filer --version`.
//
//   node bench/s3-list.mjs                 5,000 and 100,000 objects (BENCH_S3_LIST_COUNTS=5000,100000)
//   node bench/run.mjs s3-list             via the harness
//
// Env: BENCH_S3_LIST_COUNTS (comma list), BENCH_RUNS (timed runs per command, default 5 up to 20,000
//      objects, else 3), BENCH_WARMUP (warm-up runs, lines counted, default 1),
//      BENCH_FILER_BASELINE (another build's apps/cli/bin/filer.js, e.g. main's: timed in the same
//      runs as a third column, "filer before").
//
// The prefixes are written straight into s3rver's store (bench/lib/s3rver-seed.mjs: 100,000 objects
// through its HTTP API take 11+ minutes). 1,000,000 objects are not benchmarked: s3rver's listing
// cost grows with the store (it walks its directory tree per request), so a 1M prefix would take
// each tool tens of minutes a run on this 2-core machine. The machine is shared: the load average
// (1 min) is printed beside every case, at its start and its end.
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTree, parseCount } from './gen-tree.mjs';
import { seedS3rverStore } from './lib/s3rver-seed.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { environmentNote, intEnv } from './lib/env.mjs';
import { versionOf } from './lib/peers.mjs';
import { problemsSection, writeReport } from './lib/report.mjs';
import { filerEnv, rcloneCmd, startS3rver } from './s3.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const RESULTS = path.join(BENCH_DIR, 'results/s3-list.md');
const BUCKET = 'bench';

export const name = 's3-list';
export const usesTree = false;

const filerCmd = (bin, endpoint, args) => ({
  cmd: process.execPath,
  args: [bin, ...args],
  env: filerEnv(endpoint),
  display: `filer ${args.join(' ')}`,
});
const load1 = () => os.loadavg()[0].toFixed(1);

/** The invocations compared on prefix P: [label, filer args, rclone args]. */
function invocations(p, all) {
  const list = [
    ['paths', ['find', `s3://${BUCKET}/${p}/`, '--hidden', '--format', 'paths'], ['lsf', '-R', '--files-only', `remote:${BUCKET}/${p}`]],
  ];
  if (!all) return list;
  list.push(
    [
      'ndjson',
      ['find', `s3://${BUCKET}/${p}/`, '--hidden', '--format', 'ndjson'],
      ['lsjson', '-R', '--files-only', '--no-mimetype', '--use-server-modtime', `remote:${BUCKET}/${p}`],
    ],
    [
      '--ext csv',
      ['find', `s3://${BUCKET}/${p}/`, '--hidden', '--ext', 'csv'],
      ['lsf', '-R', '--files-only', '--include', '*.csv', `remote:${BUCKET}/${p}`],
    ],
  );
  return list;
}

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const counts = (process.env.BENCH_S3_LIST_COUNTS ?? '5000,100000').split(',').map((c) => parseCount(c));
  const warmups = intEnv('BENCH_WARMUP', 1, 1);
  const baseline = process.env.BENCH_FILER_BASELINE;
  const tools = [['filer', FILER_BIN], ...(baseline ? [['filer before', baseline]] : [])];
  const problems = { mismatch: [], failed: [] };
  const server = await startS3rver(log);
  const rows = [];
  const rss = [];
  const runs = [];
  let startup;
  try {
    // Start-up alone: what every run pays before its first request.
    const vs = [];
    for (let i = 0; i < 5; i++) vs.push((await measure(filerCmd(FILER_BIN, server.endpoint, ['--version']))).ms);
    startup = median(vs);
    for (const shape of ['default', 'deep'])
      for (const n of counts) {
        const manifest = ensureTree(n, { log, shape });
        const prefix = `${shape}-${n}`;
        const seeded = seedS3rverStore(server.dir, BUCKET, prefix, manifest.root);
        const nRuns = intEnv('BENCH_RUNS', n <= 20_000 ? 5 : 3, 1);
        for (const [label, fArgs, rArgs] of invocations(prefix, n <= 20_000)) {
          const cmds = [
            ...tools.map(([t, bin]) => [t, filerCmd(bin, server.endpoint, fArgs)]),
            ['rclone', rcloneCmd(server.endpoint, rArgs)],
          ];
          const loadAt = load1();
          log(`s3-list: ${shape} ${n} (${seeded} objects) ${label}: ${warmups} warm-up + ${nRuns} runs per tool, load ${loadAt}`);
          const res = Object.fromEntries(cmds.map(([t]) => [t, { ms: [], rss: [], lines: undefined }]));
          for (let w = 0; w < warmups; w++)
            for (const [t, cmd] of cmds) {
              const r = await measure(cmd, 'count');
              if (r.code !== 0) problems.failed.push(`${cmd.display}: exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
              res[t].lines ??= r.lines;
            }
          // rclone lsjson prints a JSON array: one line per object between '[' and ']'.
          const want = (t) => (label === '--ext csv' ? res.rclone.lines : seeded) + (t === 'rclone' && label === 'ndjson' ? 2 : 0);
          for (const [t] of cmds)
            if (res[t].lines !== want(t)) problems.mismatch.push(`${prefix} ${label}: ${t} printed ${res[t].lines} lines, want ${want(t)}`);
          for (let i = 0; i < nRuns; i++) {
            const order = i % 2 === 0 ? cmds : [...cmds].reverse();
            for (const [t, cmd] of order) {
              const r = await measure(cmd, 'null');
              if (r.code !== 0) problems.failed.push(`${cmd.display}: exit ${r.code}`);
              res[t].ms.push(r.ms);
              if (r.rssKB !== undefined) res[t].rss.push(r.rssKB);
            }
          }
          const med = (t) => median(res[t].ms);
          const ratio = (t) => (med(t) / med('rclone')).toFixed(2);
          rows.push([
            `${shape} ${n.toLocaleString('en-US')}`,
            label,
            ...tools.flatMap(([t]) => [formatMs(med(t)), ratio(t)]),
            formatMs(med('rclone')),
            `${loadAt} → ${load1()}`,
          ]);
          rss.push([`${shape} ${n.toLocaleString('en-US')}`, label, ...cmds.map(([t]) => formatMB(Math.max(...res[t].rss)))]);
          runs.push([`${shape} ${n.toLocaleString('en-US')} ${label}`, ...cmds.map(([t]) => res[t].ms.map(formatMs).join(', '))]);
          log(`  ${cmds.map(([t]) => `${t} ${formatMs(med(t))}`).join(', ')}; filer/rclone ${ratio('filer')}`);
        }
      }
  } finally {
    await server.stop();
  }
  const cpus = os.cpus();
  const md = [
    '# S3 listing: filer find vs rclone lsf (s3rver on loopback)',
    '',
    `- date: ${new Date().toISOString()}; machine: ${cpus.length} cores (${cpus[0]?.model ?? '?'}), node ${process.version}, ${versionOf('rclone')}${environmentNote()}`,
    `- server: s3rver (patched, one Node process on 127.0.0.1), prefixes written straight into its store (bench/lib/s3rver-seed.mjs); layouts: the default synthetic tree and the 'deep' one (bench/gen-tree.mjs)`,
    `- method: ${warmups} warm-up run per command (lines counted and checked), then 5 timed runs (3 above 20,000 objects), tools alternating; median wall time, stdout → /dev/null; ratio = filer / rclone (below 1: filer faster); peak RSS ${HAS_GNU_TIME ? 'GNU time %M' : '/proc VmHWM'}, max over runs. Load = 1-minute load average at the case's start → end (2 cores, shared).`,
    `- start-up: \`filer --version\` median ${formatMs(startup)}`,
    baseline ? `- "filer before": ${baseline}, timed in the same runs` : '',
    '',
    '## Wall time',
    '',
    markdownTable(['objects', 'invocation', ...tools.flatMap(([t]) => [t, `${t} / rclone`]), 'rclone', 'load'], rows),
    '## Peak RSS',
    '',
    markdownTable(['objects', 'invocation', ...tools.map(([t]) => t), 'rclone'], rss),
    '## All timed runs',
    '',
    markdownTable(['case', ...tools.map(([t]) => t), 'rclone'], runs),
  ];
  const problemList = [
    { label: 'MISMATCH', items: problems.mismatch },
    { label: 'FAILED RUN', items: problems.failed },
  ];
  md.push(...problemsSection(problemList));
  const markdown = md.join('\n');
  writeReport('s3-list', RESULTS, markdown, problemList, log);
  return { ok: problems.mismatch.length === 0 && problems.failed.length === 0, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ok } = await run();
  process.exitCode = ok ? 0 : 1;
}
