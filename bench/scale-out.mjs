#!/usr/bin/env node
// Scale-out of the cluster's S3 scan: one find job over a synthetic bucket whose every request
// takes 20 ms (bench/lib/listing-server.mjs, on loopback: latency-bound, as real S3 is), run with
// K = 1, 2, 4, 8 scanner workers, each limited to one shard and one listing in flight
// (FILER_WORKER_CONCURRENCY=1, FILER_S3_LISTINGS=1), so K is the number of listings in flight.
// Throughput should grow ≥ 0.8·K× that of K = 1. Then the shard dispatch rate: the same job with no
// delay, at the largest K: shards per second through BullMQ, and the time per shard outside listings.
//
//   node bench/scale-out.mjs           (also: node bench/run.mjs scale-out)
//
// Env: BENCH_SCALE_K (default 1,2,4,8), BENCH_SCALE_DELAY_MS (20), BENCH_SCALE_TREE (top,sub,files:
//      default 32,16,100 → 51,200 keys, 545 listings), BENCH_SCALE_BUDGET (FILER_SHARD_BUDGET, default
//      1000: about ten leaf listings per shard), BENCH_RUNS (timed runs per K, default 2; median),
//      BENCH_SCALE_NODE_OPTIONS (NODE_OPTIONS for the cluster's processes, e.g. '--require FILE' starting
//      node:inspector's Profiler, as in bench/cluster.mjs).
//
// One cluster (startCluster, libs/testing: redis-server, the API, max K scanners, 1 batch worker) is
// started once; between K values scanners are stopped (SIGTERM), largest K first. Wall time = POST
// /v1/jobs → GET /v1/jobs/:id (every 20 ms) sees `completed`; keys/s = keys / wall time. Shard time
// from the scanners' /metrics (filer_shard_duration_seconds, sum and count of scan shards).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startListingServer } from './lib/listing-server.mjs';
import { formatMs, markdownTable, median } from './lib/measure.mjs';
import { intEnv, environmentNote } from './lib/env.mjs';
import { fmtInt, fmtRatio, problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const TESTING = path.join(path.dirname(BENCH_DIR), 'libs/testing/dist/index.js');
const RESULTS = path.join(BENCH_DIR, 'results/scale-out.md');
/** Throughput at K scanners ≥ SCALE_TARGET · K × that of one (issue 17). */
const SCALE_TARGET = 0.8;
const POLL_MS = 20;

export const name = 'scale-out';
/** Its keys are the listing server's, not the synthetic tree's. */
export const usesTree = false;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Scan shards' count and summed seconds, over the given workers' /metrics. */
async function scanShardSeconds(workers, token) {
  const out = { sum: 0, count: 0 };
  for (const w of workers) {
    const text = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    for (const line of text.split('\n')) {
      const m = /^filer_shard_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line);
      if (m && /shard="scan"/.test(m[2])) out[m[1]] += Number(m[3]);
    }
  }
  return out;
}

/** One find job over the bucket: wall time, its record, and the scanners' shard time during it. */
async function runJob(cluster, server, scanners) {
  const before = await scanShardSeconds(scanners, cluster.tokens.read);
  const requests0 = server.requests();
  const t0 = performance.now();
  const res = await cluster.request('POST', '/v1/jobs', {
    token: cluster.tokens.write,
    body: { kind: 'find', roots: [`s3://${server.bucket}/`], options: { format: 'ndjson' } },
  });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  const { id } = await res.json();
  let job;
  for (;;) {
    job = await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json();
    if (['completed', 'failed', 'cancelled'].includes(job.state)) break;
    await sleep(POLL_MS);
  }
  const ms = performance.now() - t0;
  const after = await scanShardSeconds(scanners, cluster.tokens.read);
  await cluster.request('DELETE', `/v1/jobs/${id}?force=true`, { token: cluster.tokens.admin });
  if (job.state !== 'completed') throw new Error(`job ${id} ${job.state}: ${job.message ?? ''}`);
  return {
    ms,
    matched: job.counters.matched,
    shards: job.shards.total,
    requests: server.requests() - requests0,
    busyMs: (after.sum - before.sum) * 1000,
    shardCount: after.count - before.count,
  };
}

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const ks = (process.env.BENCH_SCALE_K ?? '1,2,4,8')
    .split(',')
    .map(Number)
    .filter((k) => k >= 1)
    .sort((a, b) => b - a);
  const delayMs = intEnv('BENCH_SCALE_DELAY_MS', 20, 0);
  const [top, sub, files] = (process.env.BENCH_SCALE_TREE ?? '32,16,100').split(',').map(Number);
  const budget = intEnv('BENCH_SCALE_BUDGET', 1000, 100);
  const runs = intEnv('BENCH_RUNS', 2, 1);
  const { startCluster } = await import(TESTING);
  const server = await startListingServer({ top, sub, files, delayMs });
  const allowed = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-scale-'));
  const failures = [];
  const mismatches = [];
  const rows = {};
  let dispatch;
  log(`scale-out: ${fmtInt(server.keys)} keys, ${server.listings} listings, ${delayMs} ms per request, K = ${ks.join(', ')}`);
  const cluster = await startCluster({
    allowedRoots: [allowed],
    scanners: ks[0],
    batch: 1,
    startTimeoutMs: 90_000, // eight NestJS workers starting at once on two cores
    env: {
      ...server.env(),
      FILER_ALLOWED_S3: server.bucket,
      FILER_WORKER_CONCURRENCY: '1',
      FILER_S3_LISTINGS: '1',
      FILER_SHARD_BUDGET: String(budget),
      ...(process.env.BENCH_SCALE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SCALE_NODE_OPTIONS } : {}),
    },
  });
  try {
    const scanners = cluster.workers.filter((w) => w.name.startsWith('scanner-'));
    await runJob(cluster, server, scanners); // warm-up: connections, the SDK loaded in each scanner
    for (const k of ks) {
      while (scanners.length > k) await scanners.pop().kill('SIGTERM');
      rows[k] = [];
      for (let i = 0; i < runs; i++) {
        try {
          const r = await runJob(cluster, server, scanners);
          if (r.matched !== server.keys) mismatches.push(`K=${k}: matched ${r.matched}, the bucket holds ${server.keys}`);
          rows[k].push(r);
          log(`  K=${k}: ${formatMs(r.ms)}, ${r.shards} shards, ${r.requests} requests`);
        } catch (e) {
          failures.push(`K=${k}: ${e.message}`);
        }
      }
    }
    // Dispatch: no delay, on the scanners left (the smallest K's), so slots hand shards over one after another.
    server.setDelay(0);
    const d = [];
    for (let i = 0; i < runs; i++)
      d.push(await runJob(cluster, server, scanners).catch((e) => void failures.push(`dispatch: ${e.message}`)));
    dispatch = { k: scanners.length, runs: d.filter(Boolean) };
  } finally {
    await cluster.stop();
    await server.stop();
    fs.rmSync(allowed, { recursive: true, force: true });
  }

  const med = (list, f) => median(list.map(f));
  const base = rows[1]?.length ? server.keys / (med(rows[1], (r) => r.ms) / 1000) : undefined;
  const md = [
    '# Scale-out: an S3 find job over K scanner workers',
    '',
    `- run: ${new Date().toISOString()}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end${environmentNote()}`,
    `- bucket: bench/lib/listing-server.mjs on loopback, synthetic (a generated key list, not s3rver): ${fmtInt(server.keys)} keys in ${top} × ${sub} prefixes of ${files}, ` +
      `${server.listings} ListObjectsV2 calls for a full walk; every request answered after ${delayMs} ms`,
    `- cluster: startCluster (libs/testing), redis-server, the API, K scanner workers with FILER_WORKER_CONCURRENCY=1 and FILER_S3_LISTINGS=1 (one shard, one listing in flight each), ` +
      `1 batch worker; FILER_SHARD_BUDGET ${fmtInt(budget)}; wall time = POST → completed seen (20 ms polls), median of ${runs}`,
    `- ideal at K: ${server.listings} listings × ${delayMs} ms / K; scale = keys/s at K ÷ keys/s at K = 1 (target ≥ ${SCALE_TARGET}·K)`,
    '',
    markdownTable(
      ['K', 'wall time', 'runs', 'ideal', 'keys/s', 'scale', 'target', 'met?', 'shards', 'requests', 'slot time in shards'],
      ks
        .slice()
        .reverse()
        .filter((k) => rows[k]?.length)
        .map((k) => {
          const ms = med(rows[k], (r) => r.ms);
          const rate = server.keys / (ms / 1000);
          const scale = base === undefined ? undefined : rate / base;
          return [
            k,
            formatMs(ms),
            rows[k].map((r) => formatMs(r.ms)).join(', '),
            formatMs((server.listings * delayMs) / k),
            fmtInt(rate),
            fmtRatio(scale),
            `≥ ${(SCALE_TARGET * k).toFixed(1)}`,
            scale === undefined ? '—' : scale >= SCALE_TARGET * k ? 'yes' : '**NO**',
            fmtInt(med(rows[k], (r) => r.shards)),
            fmtInt(med(rows[k], (r) => r.requests)),
            `${Math.round((100 * med(rows[k], (r) => r.busyMs)) / (k * ms))} %`,
          ];
        }),
    ),
    'slot time in shards = summed scan-shard time (the scanners’ /metrics) ÷ (K × wall time): the rest is queue hand-offs, the root shard listing alone before it splits, and the tail.',
    '',
  ];
  if (dispatch?.runs.length) {
    const r = dispatch.runs;
    const ms = med(r, (x) => x.ms);
    const shards = med(r, (x) => x.shards);
    const busy = med(r, (x) => x.busyMs);
    md.push(
      '## Shard dispatch (no delay)',
      '',
      `The same job with requests answered at once, on ${dispatch.k} scanner(s) (one shard each at a time): shards/s = shards ÷ wall time; ` +
        'per shard: the scanners’ time inside scan shards ÷ shards (listing ~10 pages, parsing them, writing and renaming the part, adding children), ' +
        'and the slot time between shards ÷ shards (BullMQ: moving the finished shard, fetching and locking the next).',
      '',
      markdownTable(
        ['scanners', 'wall time', 'shards', 'shards/s', 'time in a shard', 'slot time between shards, per shard'],
        [
          [
            dispatch.k,
            `${formatMs(ms)} [${r.map((x) => formatMs(x.ms)).join(', ')}]`,
            fmtInt(shards),
            (shards / (ms / 1000)).toFixed(0),
            `${(busy / shards).toFixed(1)} ms`,
            `${((dispatch.k * ms - busy) / shards).toFixed(1)} ms`,
          ],
        ],
      ),
    );
  }
  const problemList = [
    { label: 'COUNT MISMATCH', items: mismatches },
    { label: 'FAILED', items: failures },
  ];
  md.push(...problemsSection(problemList));
  writeReport('scale-out', RESULTS, md.join('\n'), problemList, log);
  return { ok: mismatches.length === 0 && failures.length === 0 };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ok } = await run();
  process.exitCode = ok ? 0 : 1;
}
