#!/usr/bin/env node
// A cluster dupes job run again on an unchanged tree: the shared hash index (PostgreSQL,
// FILER_VOLUMES) against the first run that fills it, beside the CLI's own SQLite cache.
//
//   node bench/cluster-dupes-rerun.mjs [N]     the generated tree of N files (default $BENCH_FILES, then 1m)
//   node bench/run.mjs cluster-dupes-rerun     via the harness
//
// Env: BENCH_RUNS (rounds, default 3), BENCH_TIMEOUT_MS.
//
// startCluster (libs/testing) with its own PostgreSQL (startPostgres: temp dir, fsync off as in the
// tests), FILER_DATABASE_URL and FILER_VOLUMES=<tree>=bench-volume, 2 scanners and 1 batch worker.
// Each round, cases in this order:
//   cluster first   file_hashes emptied (TRUNCATE), then the dupes job: it hashes every candidate and
//                   saves the hashes; wall time from POST /v1/jobs to the poll that sees it completed;
//   cluster rerun   the same job again: every candidate's hashes come from the index;
//   filer rerun     `filer dupes T --hidden --no-ignore --cache DB` in-process, DB filled by an untimed
//                   run before the rounds (the CLI's warm cache: the peer figure);
//   cluster find    a find job (--format paths) on the same tree: the scan phase's floor under any rerun.
// Every job's record gives bytesHashed (bytes the hashers read: the figure "reads 0 bytes" is about),
// filesHashed and cacheHits; a rerun that reads a byte, or finds other groups, is a PROBLEM.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pgClient from 'pg';
import { ensureTree, resolveFileCount } from './gen-tree.mjs';
import { intEnv } from './lib/env.mjs';
import { formatMs, markdownTable, median } from './lib/measure.mjs';
import { fmtInt, fmtRatio, writeReport } from './lib/report.mjs';

export const name = 'cluster-dupes-rerun';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const POLL_MS = 20;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function clusterJob(cluster, root, timeoutMs, kind = 'dupes') {
  const t0 = performance.now();
  const res = await cluster.request('POST', '/v1/jobs', {
    token: cluster.tokens.write,
    body: { kind, roots: [root], filter: { hidden: true, noIgnore: true }, ...(kind === 'find' ? { options: { format: 'paths' } } : {}) },
  });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  const { id } = await res.json();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json();
    if (['completed', 'failed', 'cancelled'].includes(rec.state)) {
      const ms = performance.now() - t0;
      if (rec.state !== 'completed') throw new Error(`job ${id} ${rec.state}: ${rec.message ?? ''}`);
      const groups = await (await cluster.request('GET', `/v1/jobs/${id}/results`, { token: cluster.tokens.read })).text();
      return { ms, dupes: rec.dupes, groups };
    }
    if (Date.now() > deadline) throw new Error(`job ${id} still ${rec.state} after ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

function filerDupes(root, db) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [FILER_BIN, 'dupes', root, '--hidden', '--no-ignore', '--cache', db, '--format', 'ndjson'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`filer dupes: exit ${r.status}: ${r.stderr}`);
  return { ms, groups: r.stdout };
}

export async function run({ manifest, log = (s) => process.stderr.write(s + '\n') }) {
  const { startPostgres, startCluster } = await import(path.join(REPO, 'libs/testing/dist/index.js'));
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS) || 15 * 60_000;
  const root = fs.realpathSync(manifest.root);
  const problems = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-dupes-rerun-'));
  const pg = await startPostgres();
  let cluster;
  let db;
  try {
    cluster = await startCluster({
      allowedRoots: [root],
      env: { FILER_DATABASE_URL: pg.url, FILER_VOLUMES: `${root}=bench-volume` },
    });
    db = new pgClient.Pool({ connectionString: pg.url, max: 1 });
    const cache = path.join(tmp, 'cli-cache.db');
    filerDupes(root, cache); // fills the CLI's cache, untimed
    const rows = { first: [], rerun: [], cli: [], find: [] };
    let last;
    for (let r = 0; r < runs; r++) {
      await db.query('TRUNCATE file_hashes, object_hashes');
      const first = await clusterJob(cluster, root, timeoutMs);
      const rerun = await clusterJob(cluster, root, timeoutMs);
      const cli = filerDupes(root, cache);
      const find = await clusterJob(cluster, root, timeoutMs, 'find');
      if (rerun.dupes.bytesHashed !== 0) problems.push(`round ${r}: the rerun read ${fmtInt(rerun.dupes.bytesHashed)} bytes`);
      if (rerun.groups !== first.groups) problems.push(`round ${r}: the rerun's groups differ from the first run's`);
      if (cli.groups !== first.groups) problems.push(`round ${r}: filer dupes' groups differ from the cluster's`);
      rows.first.push(first.ms);
      rows.rerun.push(rerun.ms);
      rows.cli.push(cli.ms);
      rows.find.push(find.ms);
      last = { first, rerun };
      log(
        `${name}: round ${r + 1}/${runs}: first ${formatMs(first.ms)}, rerun ${formatMs(rerun.ms)}, filer rerun ${formatMs(cli.ms)}, cluster find ${formatMs(find.ms)}`,
      );
    }
    const groups = last.first.groups.split('\n').filter(Boolean).length;
    const line = (label, ms, d) => [
      label,
      formatMs(median(ms)),
      fmtRatio(median(ms) / median(rows.first)),
      d ? fmtInt(d.filesHashed) : '—',
      d ? fmtInt(d.bytesHashed) : '—',
      d ? fmtInt(d.cacheHits) : '—',
    ];
    const markdown = [
      `# Cluster dupes rerun: the shared hash index`,
      '',
      `Tree: ${root} (${fmtInt(manifest.files)} files, ${fmtInt(manifest.bytes)} bytes); ${groups} groups; median of ${runs} rounds; ` +
        `${os.availableParallelism()} cores; PostgreSQL with fsync off (the test harness's).`,
      '',
      markdownTable(
        ['case', 'wall time', 'vs first', 'files hashed', 'bytes read', 'cache hits'],
        [
          line('cluster first (index empty)', rows.first, last.first.dupes),
          line('cluster rerun (index warm)', rows.rerun, last.rerun.dupes),
          line('filer dupes rerun (SQLite cache warm)', rows.cli, undefined),
          line('cluster find of the same tree (the scan alone)', rows.find, undefined),
        ],
      ),
      '',
    ].join('\n');
    writeReport(
      name,
      path.join(REPO, 'bench/results', `${name}-${manifest.files}.md`),
      markdown,
      [{ label: 'PROBLEM', items: problems }],
      log,
    );
    return { ok: problems.length === 0, markdown };
  } finally {
    await db?.end();
    await cluster?.stop();
    await pg.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const manifest = ensureTree(resolveFileCount(process.argv[2]));
  const result = await run({ manifest });
  process.exitCode = result.ok ? 0 : 1;
}
