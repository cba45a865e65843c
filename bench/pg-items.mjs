#!/usr/bin/env node
// "Which job touched this path?" on N per-item outcomes in the cluster's job database (PostgreSQL):
// the write path (apply shards' batched inserts), then lookups by path through the store and
// through the API's GET /v1/items, beside the peers an operator has without the database.
//
//   node bench/pg-items.mjs [N]        N outcomes (default $BENCH_PG_ITEMS, then 1,000,000)
//   node bench/run.mjs pg-items        via the harness
//
// Env: BENCH_PG_LOOKUPS (lookups per case, default 2000), BENCH_PG_SHARD (rows per recorded shard,
// default 2000 = FILER_BATCH_SHARD_SIZE's default).
//
// Needs `npm run build` and PostgreSQL 15's binaries (startPostgres, libs/testing: its own server in a
// temporary directory, fsync off as in the tests — so insert figures are the database's CPU cost, not
// a disk's). Outcomes are those of N/20,000 move jobs of 20,000 files each, recorded shard by shard
// with PgItemOutcomes.record, exactly as apply shards do. Cases (each lookup a random path that some
// job moved, half by source and half by target, plus paths no job touched):
//   store       PgItemOutcomes.findPath (the query GET /v1/items runs), one at a time, pool of 4;
//   API         GET /v1/items?path=… through the API (startCluster, no workers) on loopback, one at a time,
//               beside GET /v1/jobs?limit=1 (no database) for the API's own cost;
//   seq scan    the same query with index scans turned off: what the two indexes buy;
//   grep        `grep -F` of the quoted path over the same outcomes as NDJSON (one file, as the
//               apply reports on the results volume hold them): the way to ask without a database.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { intEnv } from './lib/env.mjs';
import { formatMs, markdownTable, median } from './lib/measure.mjs';
import { fmtInt, writeReport } from './lib/report.mjs';

export const name = 'pg-items';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JOB_FILES = 20_000;

const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const summary = (label, ms) => [
  label,
  fmtInt(ms.length),
  ...[50, 95, 99].map((p) => `${(p === 50 ? median(ms) : pct(ms, p)).toFixed(2)} ms`),
];

/** The i-th file of the generated jobs: where it was and where it went. */
const src = (i) => `/data/in/a${Math.floor(i / 100_000)}/b${Math.floor(i / 1000) % 100}/c${Math.floor(i / 10) % 100}/IMG_${i}.jpg`;
const dst = (i) => `/data/out/2026/${String((i % 12) + 1).padStart(2, '0')}/IMG_${i}.jpg`;

export async function run({ log, total = intEnv('BENCH_PG_ITEMS', 1_000_000, JOB_FILES) } = { log: console.error }) {
  const lookups = intEnv('BENCH_PG_LOOKUPS', 2000, 10);
  const shardSize = intEnv('BENCH_PG_SHARD', 2000, 1);
  const { startPostgres, startCluster } = await import(path.join(repo, 'libs/testing/dist/index.js'));
  const { openJobDatabase, PgItemOutcomes } = await import(path.join(repo, 'libs/jobs/dist/index.js'));
  const problems = [];
  const pg = await startPostgres();
  const db = openJobDatabase(pg.url);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-pg-'));
  let cluster;
  try {
    const items = new PgItemOutcomes(db);
    await db.ready();
    const jobs = Math.ceil(total / JOB_FILES);
    log(`pg-items: recording ${fmtInt(total)} outcomes (${jobs} jobs, shards of ${shardSize})`);
    const ndjson = fs.openSync(path.join(tmp, 'report.ndjson'), 'w');
    const t0 = performance.now();
    const shardMs = [];
    for (let j = 0; j < jobs; j++) {
      const jobId = `20261207t${String(100000 + j).padStart(9, '0')}bench`;
      for (let first = j * JOB_FILES; first < Math.min(total, (j + 1) * JOB_FILES); first += shardSize) {
        const actions = [];
        for (let i = first; i < Math.min(total, first + shardSize, (j + 1) * JOB_FILES); i++)
          actions.push({ seq: i - first, source: src(i), target: dst(i), size: 1000 + (i % 5000), overwrite: false, state: 'done' });
        const s = performance.now();
        await items.record({ jobId, phase: 'apply', action: 'move', shard: String(first).padStart(8, '0'), actions });
        shardMs.push(performance.now() - s);
        fs.writeSync(
          ndjson,
          actions.map((a) => JSON.stringify({ jobId, source: a.source, target: a.target, size: a.size, state: a.state }) + '\n').join(''),
        );
      }
    }
    fs.closeSync(ndjson);
    const loadMs = performance.now() - t0;
    await db.query('ANALYZE job_items');
    const size = (await db.query("SELECT pg_total_relation_size('job_items') AS b")).rows[0].b;
    log(`pg-items: loaded in ${formatMs(loadMs)}; ${(size / 1e6).toFixed(0)} MB with indexes`);

    const picks = Array.from({ length: lookups }, (_, k) => {
      const i = Math.floor(Math.random() * total);
      return k % 10 === 9 ? `/data/nowhere/${i}` : k % 2 === 0 ? src(i) : dst(i);
    });
    const expectHit = (p, found) => {
      if (!p.startsWith('/data/nowhere') && found !== 1) problems.push(`${p}: ${found} outcomes, expected 1`);
      if (p.startsWith('/data/nowhere') && found !== 0) problems.push(`${p}: ${found} outcomes, expected none`);
    };
    const storeMs = [];
    for (const p of picks) {
      const s = performance.now();
      const found = await items.findPath(p, 100);
      storeMs.push(performance.now() - s);
      expectHit(p, found.length);
    }
    const plan = (await db.query(`EXPLAIN SELECT * FROM job_items WHERE source = $1`, [src(1)])).rows.map((r) => r['QUERY PLAN']).join(' ');
    if (!/Index/.test(plan)) problems.push(`the lookup does not use an index: ${plan}`);

    cluster = await startCluster({ allowedRoots: [tmp], scanners: 0, batch: 0, env: { FILER_DATABASE_URL: pg.url } });
    const apiMs = [];
    for (const p of picks) {
      const s = performance.now();
      const res = await cluster.request('GET', `/v1/items?path=${encodeURIComponent(p)}`, { token: cluster.tokens.read });
      const body = await res.json();
      apiMs.push(performance.now() - s);
      expectHit(p, body.items?.length);
    }

    // The API's own cost on the same stack: a read that touches no database (one Redis read).
    const baseMs = [];
    for (let k = 0; k < picks.length; k++) {
      const s = performance.now();
      await (await cluster.request('GET', '/v1/jobs?limit=1', { token: cluster.tokens.read })).json();
      baseMs.push(performance.now() - s);
    }

    // Without the indexes: a handful of lookups is enough to see a full scan's cost.
    const few = picks.slice(0, 5);
    const seqMs = [];
    const client = new (await import('pg')).default.Client(pg.url);
    await client.connect();
    await client.query('SET enable_indexscan = off; SET enable_bitmapscan = off; SET max_parallel_workers_per_gather = 0');
    for (const p of few) {
      const s = performance.now();
      await client.query('SELECT * FROM job_items WHERE source = $1 UNION ALL SELECT * FROM job_items WHERE target = $1 AND source <> $1', [
        p,
      ]);
      seqMs.push(performance.now() - s);
    }
    await client.end();
    const grepMs = [];
    for (const p of few) {
      const s = performance.now();
      spawnSync('grep', ['-F', '-c', JSON.stringify(p), path.join(tmp, 'report.ndjson')], { stdio: 'ignore' });
      grepMs.push(performance.now() - s);
    }

    const md = [
      `# Per-item outcomes in PostgreSQL: ${fmtInt(total)} outcomes`,
      '',
      `\`node bench/pg-items.mjs ${total}\`, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end; PostgreSQL 15 (startPostgres: fsync off).`,
      '',
      `Recorded as apply shards do (PgItemOutcomes.record, ${fmtInt(shardSize)} rows a shard): ${formatMs(loadMs)} for ${fmtInt(total)} rows ` +
        `(${fmtInt(total / (loadMs / 1000))} rows/s; a shard's write: median ${formatMs(median(shardMs))}), ` +
        `${(size / 1e6).toFixed(0)} MB with its indexes.`,
      '',
      markdownTable(
        ['lookup of one path', 'lookups', 'median', 'p95', 'p99'],
        [
          summary('store (findPath: two index scans)', storeMs),
          summary('API (GET /v1/items on loopback)', apiMs),
          summary('API baseline: GET /v1/jobs?limit=1 (Redis only)', baseMs),
          summary('peer: same query, index scans off', seqMs),
          summary('peer: grep -F over the outcomes as NDJSON', grepMs),
        ],
      ),
      `One lookup in ten is of a path no job touched. Median store lookup ${(median(seqMs) / median(storeMs)).toFixed(0)}× faster than the scan, ` +
        `${(median(grepMs) / median(storeMs)).toFixed(0)}× faster than grep.`,
      '',
    ].join('\n');
    writeReport(name, path.join(repo, 'bench/results/pg-items.md'), md, [{ label: 'pg-items problems', items: problems }], log);
    return { ok: problems.length === 0 };
  } finally {
    await cluster?.stop();
    await db.close();
    await pg.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const { ok } = await run({ log: (s) => process.stderr.write(s + '\n'), ...(n !== undefined ? { total: n } : {}) });
  process.exitCode = ok ? 0 : 1;
}
