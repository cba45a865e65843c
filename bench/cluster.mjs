#!/usr/bin/env node
// A find job through the local cluster (the API, 2 scanner workers, 1 batch worker, a real
// redis-server) against the in-process `filer find` on the synthetic tree; the cost of a shard;
// the API's submit throughput.
//
//   node bench/cluster.mjs [N]         N: tree size (default $BENCH_FILES, then 1,000,000); generated if missing
//   node bench/run.mjs cluster         via the harness
//
// Env: BENCH_RUNS (timed rounds, default 3), BENCH_WARMUP (warm-up rounds, default 1, at least 1),
//      BENCH_SUBMITS (jobs per submit-throughput run, default 200), BENCH_CLUSTER_BUDGETS (the small
//      FILER_SHARD_BUDGETs of the shard-overhead runs, comma-separated, default 10000,2000),
//      BENCH_CLUSTER_NODE_OPTIONS (NODE_OPTIONS for the cluster's processes, e.g. '--max-semi-space-size=64',
//      or '--require FILE' with FILE starting node:inspector's Profiler to profile them: Node 20 refuses
//      --cpu-prof in NODE_OPTIONS), BENCH_TIMEOUT_MS (per run, default 15 min), BENCH_CLUSTER_PARTS
//      (which parts run, comma-separated, default find,overhead,submits: see below).
//
// Needs `npm run build` (npm run bench does) and redis-server on the PATH. The cluster comes from
// startCluster (libs/testing): a redis-server on a free port and the built apps as processes, with
// the tree root as the only allowed root and the default FILER_SHARD_BUDGET (50,000 entries).
//
// Cases, for --format ndjson and --format paths, each timed in the same rounds, order rotated every round:
//   filer       `filer find T --hidden --no-ignore --format F` in-process, stdout → /dev/null;
//   cluster job POST /v1/jobs {kind: find, roots: [T], filter: {hidden, noIgnore}, options: {format: F}},
//               then GET /v1/jobs/:id every 20 ms: wall time from the POST to the first record in
//               `completed` (the results are written, not read);
//   filer --server  `filer --server URL --token T find T … --format F` (remote mode: submit, follow the
//               event stream, stream every result through the API to stdout → /dev/null; on loopback
//               the CLI asks for the plain bytes, see apps/cli/src/remote/api-client.ts);
//   GET results after each timed cluster job, untimed in its wall time: GET /v1/jobs/:id/results?format=F
//               read to the last byte by node:http (bench/lib/results-get.mjs), plain and with
//               Accept-Encoding: gzip (inflated by the reader); MB/s = body bytes (inflated) / time.
// The first warm-up counts lines: filer and filer --server must print as many lines as the
// generator made files, and the cluster job's counters.matched must be that number too.
// filer runs with --hidden --no-ignore (the tree lives under bench/.cache/, which the repo's
// .gitignore lists). Between runs (untimed) the results directory is emptied, so a million-line
// job's parts do not pile up on disk.
//
// Shard overhead: shards per job from the job records (shards.total) and the scanners' /metrics
// (filer_shard_duration_seconds sum/count by shard type, before and after the timed rounds); and
// measured directly: the same cluster job on clusters started with small budgets (more shards),
// in rounds alternating with the default cluster: Δ wall time / Δ shards (and Δ summed shard
// time / Δ shards, the workers' busy time per shard).
//
// Submit throughput: BENCH_SUBMITS submits of a tiny find job (one leaf directory of the tree),
// one after the other, then all at once; jobs/s, and p50/p99 latency of a submit (request → 202 and its body).
//
// Timeline of each cluster job, from the workers' logs ("shard started"/"shard finished", ISO
// times) and the record: queue wait (created → first scan shard), scan span, scan → finalize,
// finalize, finished → seen by the poller; how long the root shard ran alone, how long the scanner
// processes sat idle within the scan, the summed scan-shard time / scan span (how many shards ran at
// once on average). CPU time of every cluster process (/proc/PID/stat, redis-server included) before
// and after each run; filer's (and the remote client's) from one extra run under GNU time.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ensureTree, resolveFileCount } from './gen-tree.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { intEnv, environmentNote } from './lib/env.mjs';
import { versionOf } from './lib/peers.mjs';
import { getResults } from './lib/results-get.mjs';
import { fmtInt, fmtRatio, problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const FILER_MAIN = path.join(REPO, 'apps/cli/dist/main.js');
const TESTING = path.join(REPO, 'libs/testing/dist/index.js');
const RESULTS = path.join(BENCH_DIR, 'results/cluster.md');

/** cluster job / in-process filer, --format ndjson (the issue's target). */
const TARGET = 1.5;
/** GET /v1/jobs/:id/results, MB/s of body (issue 17). */
const GET_TARGET = { ndjson: 500, paths: 250 };
const DEFAULT_BUDGET = 50_000; // libs/jobs' FILER_SHARD_BUDGET default
const POLL_MS = 20;
const FINAL = ['completed', 'failed', 'cancelled'];

export const name = 'cluster';

// --- helpers ------------------------------------------------------------------------------------

function packageVersion(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmtS = (ms) => (ms === undefined || Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`);

/** Least-squares slope of ys over xs (NaN with fewer than two distinct xs). */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Nearest-rank percentile. */
function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, in ms; undefined when it is gone. */
function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime: fields 14 and 15
  } catch {
    return undefined;
  }
}

/** The cluster's processes by name, the redis-server included (found by its port). */
function clusterPids(cluster) {
  const out = [];
  if (cluster.api) out.push({ name: 'api', pid: cluster.api.pid });
  for (const w of cluster.workers) out.push({ name: w.name, pid: w.pid });
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]).startsWith('redis-server') && argv.includes(String(cluster.redis.port)))
        out.push({ name: 'redis', pid: Number(e) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU ms per process of the cluster since `before` (a snapshot from `cpuSnapshot`). */
function cpuSnapshot(cluster) {
  return Object.fromEntries(clusterPids(cluster).map(({ name, pid }) => [name, cpuMs(pid) ?? 0]));
}
function cpuSince(cluster, before) {
  const now = cpuSnapshot(cluster);
  const out = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  out.total = Object.values(out).reduce((a, b) => a + b, 0);
  return out;
}

/** user + system CPU of one command (stdout → /dev/null), by GNU time; undefined without it. */
function commandCpu(cmd) {
  if (!HAS_GNU_TIME) return undefined;
  const out = path.join(os.tmpdir(), `filer-bench-cpu-${process.pid}`);
  const devNull = fs.openSync('/dev/null', 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', out, cmd.cmd, ...cmd.args], { stdio: ['ignore', devNull, 'ignore'] });
    if (r.status !== 0) return undefined;
    const [wall, user, sys] = fs.readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    return { wall: wall * 1000, user: user * 1000, sys: sys * 1000, total: (user + sys) * 1000 };
  } finally {
    fs.closeSync(devNull);
    fs.rmSync(out, { force: true });
  }
}

/** A leaf directory of the tree with the fewest files: the root of the tiny jobs. */
function smallLeaf(root) {
  let best;
  let dir = root;
  for (let depth = 0; depth < 12; depth++) {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const subdirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
    if (subdirs.length === 0) {
      best = { dir, files: entries.length };
      break;
    }
    // The last subdirectory of each level: deterministic, and the generator's smaller ones come late.
    dir = subdirs.sort()[subdirs.length - 1];
  }
  return best ?? { dir: root, files: -1 };
}

/**
 * Time within [from, to] in which a scanner process ran no scan shard, summed over the scanners
 * (a shard runs from its finish time minus its duration to its finish time).
 */
function idleWithin(ev, from, to) {
  let idle = 0;
  for (const proc of new Set(ev.filter((e) => e.proc.startsWith('scanner')).map((e) => e.proc))) {
    const iv = ev
      .filter((e) => e.proc === proc && e.kind === 'finished' && e.shard === 'scan')
      .map((e) => [Math.max(from, e.at - e.seconds * 1000), Math.min(to, e.at)])
      .sort((a, b) => a[0] - b[0]);
    let busy = 0;
    let end = from;
    for (const [a, b] of iv) {
      if (b <= end) continue;
      busy += b - Math.max(a, end);
      end = b;
    }
    idle += to - from - busy;
  }
  return idle;
}

/** Shard start/finish events of every job, from the cluster's JSON log lines. */
class ShardLog {
  events = new Map(); // jobId → [{ kind: 'started' | 'finished', shard, at, seconds, proc }]

  onLine = (proc, line) => {
    if (!line.includes('"shard started"') && !line.includes('"shard finished"')) return;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof rec.jobId !== 'string') return;
    const list = this.events.get(rec.jobId) ?? [];
    list.push({
      kind: rec.msg === 'shard started' ? 'started' : 'finished',
      shard: rec.shard,
      at: Date.parse(rec.time),
      seconds: rec.seconds,
      proc,
    });
    this.events.set(rec.jobId, list);
  };

  /** Where a job's time went; times in ms. `seenAt`: when the poller saw it completed (epoch ms). */
  timeline(record, seenAt) {
    const ev = this.events.get(record.id) ?? [];
    const at = (kind, shard) => ev.filter((e) => e.kind === kind && e.shard === shard).map((e) => e.at);
    const scanStarts = at('started', 'scan');
    const scanEnds = at('finished', 'scan');
    const finStarts = at('started', 'finalize');
    const finEnds = at('finished', 'finalize');
    const created = Date.parse(record.createdAt);
    const finished = Date.parse(record.finishedAt);
    const firstScan = Math.min(...scanStarts);
    const lastScan = Math.max(...scanEnds);
    const finStart = Math.min(...finStarts);
    const finEnd = Math.max(...finEnds);
    const scanBusy = ev.filter((e) => e.kind === 'finished' && e.shard === 'scan').reduce((a, e) => a + e.seconds * 1000, 0);
    const span = lastScan - firstScan;
    return {
      queueWait: firstScan - created,
      scanSpan: span,
      scanToFinalize: finStart - lastScan,
      finalize: finEnd - finStart,
      finishedToSeen: seenAt - finished,
      serverTotal: finished - created,
      scanShards: scanEnds.length,
      scanBusy,
      parallelism: span > 0 ? scanBusy / span : undefined,
      rootAlone: scanStarts.length > 1 ? [...scanStarts].sort((a, b) => a - b)[1] - firstScan : span,
      scannerIdle: idleWithin(ev, firstScan, lastScan),
    };
  }
}

/** filer_shard_duration_seconds sum and count by shard type, summed over the workers. */
async function scrapeShardSeconds(cluster) {
  const out = {};
  for (const w of cluster.workers) {
    const res = await globalThis.fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${cluster.tokens.read}` } });
    const text = await res.text();
    for (const line of text.split('\n')) {
      const m = /^filer_shard_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line);
      if (!m) continue;
      const shard = /shard="([^"]*)"/.exec(m[2])?.[1] ?? '?';
      out[shard] ??= { sum: 0, count: 0 };
      out[shard][m[1]] += Number(m[3]);
    }
  }
  return out;
}

function diffShardSeconds(after, before) {
  const out = {};
  for (const [shard, v] of Object.entries(after)) {
    const b = before[shard] ?? { sum: 0, count: 0 };
    out[shard] = { sum: v.sum - b.sum, count: v.count - b.count };
  }
  return out;
}

/** Removes the job directories of a cluster's results directory (untimed, between runs). */
function clearResults(cluster) {
  for (const e of fs.readdirSync(cluster.resultsDir, { withFileTypes: true }))
    if (e.isDirectory() && /^[0-9a-z]{10,40}$/.test(e.name))
      fs.rmSync(path.join(cluster.resultsDir, e.name), { recursive: true, force: true });
}

async function postJob(cluster, spec) {
  const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function getJob(cluster, id) {
  const res = await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function waitFinal(cluster, id, pollMs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = await getJob(cluster, id);
    if (FINAL.includes(rec.state)) return rec;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${rec.state} after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** One cluster job, timed from the POST to the poll that sees it completed. */
async function clusterJob(cluster, spec, timeoutMs) {
  const cpu0 = cpuSnapshot(cluster);
  const t0 = performance.now();
  const { id } = await postJob(cluster, spec);
  const record = await waitFinal(cluster, id, POLL_MS, timeoutMs);
  const ms = performance.now() - t0;
  const seenAt = Date.now();
  const cpu = cpuSince(cluster, cpu0);
  if (record.state !== 'completed') throw new Error(`job ${id} ${record.state}: ${record.message ?? ''}`);
  return { ms, id, record, seenAt, cpu };
}

// --- the benchmark ------------------------------------------------------------------------------

/**
 * Runs every part and writes bench/results/cluster.md.
 * @returns {Promise<{ok: boolean, markdown: string}>} ok = no failed run and every count agreed (targets don't count)
 */
export async function run({ manifest, log = (s) => process.stderr.write(s + '\n') }) {
  for (const f of [FILER_MAIN, TESTING, path.join(REPO, 'apps/api/dist/main.js')])
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run 'npm run build' first (npm run bench does)`);
  const { startCluster } = await import(TESTING);
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const warmups = intEnv('BENCH_WARMUP', 1, 1);
  const submits = intEnv('BENCH_SUBMITS', 200, 1);
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS) || 15 * 60_000;
  const parts = new Set((process.env.BENCH_CLUSTER_PARTS ?? 'find,overhead,submits').split(',').map((s) => s.trim()));
  const budgets = (process.env.BENCH_CLUSTER_BUDGETS ?? '10000,2000')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (!/^\d+$/.test(s) || Number(s) < 100) throw new Error(`BENCH_CLUSTER_BUDGETS: '${s}' is not a whole number >= 100`);
      return Number(s);
    });
  const root = manifest.root;
  const expected = manifest.files;
  const clusterEnv = process.env.BENCH_CLUSTER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CLUSTER_NODE_OPTIONS } : {};
  const failures = [];
  const mismatches = [];
  const shardLog = new ShardLog();
  const clusters = [];

  const start = async (label, env = {}) => {
    const t0 = performance.now();
    const c = await startCluster({
      allowedRoots: [root],
      scanners: 2,
      batch: 1,
      env: { ...clusterEnv, ...env },
      onLine: shardLog.onLine,
      onUnexpectedExit: (proc, status) => {
        failures.push(`${label}: ${proc} exited unexpectedly (code ${status.code}, signal ${status.signal})`);
        log(`  !!! ${label}: ${proc} exited unexpectedly (code ${status.code}, signal ${status.signal})`);
      },
    });
    clusters.push(c);
    log(
      `cluster ${label}: API ${c.url}, ${c.workers.map((w) => `${w.name} ${w.url}`).join(', ')} (started in ${formatMs(performance.now() - t0)})`,
    );
    return c;
  };

  const report = { loadBefore: os.loadavg() };
  try {
    const main = await start('default budget');
    const spec = (format) => ({ kind: 'find', roots: [root], filter: { hidden: true, noIgnore: true }, options: { format } });
    const local = (format) => ({
      cmd: process.execPath,
      args: [FILER_BIN, 'find', root, '--hidden', '--no-ignore', '--format', format],
      display: `filer find T --hidden --no-ignore --format ${format}`,
    });
    const remote = (format) => ({
      cmd: process.execPath,
      args: [FILER_BIN, '--server', main.url, '--token', main.tokens.write, 'find', root, '--hidden', '--no-ignore', '--format', format],
      display: `filer --server URL --token T find T --hidden --no-ignore --format ${format}`,
    });

    // --- (1) in-process vs cluster job vs remote CLI -----------------------------------------
    if (parts.has('find')) {
      const formats = ['ndjson', 'paths'];
      const cases = formats.map((format) => ({
        format,
        local: local(format),
        remote: remote(format),
        spec: spec(format),
        res: {
          local: [],
          job: [],
          remote: [],
          serverTotal: [],
          rss: { local: [], remote: [] },
          shards: [],
          timelines: [],
          cpuJob: [],
          cpuRemote: [],
          get: [],
          getGzip: [],
        },
        counts: {},
      }));
      const runCmd = async (label, cmd, mode) => {
        const r = await measure(cmd, mode);
        if (r.code !== 0 || r.signal) {
          failures.push(`${label}: exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(0, 5).join(' / ')}`);
          log(`  !!! ${label} FAILED (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
        } else if (r.stderr.trim() !== '') log(`  (${label} wrote to stderr: ${r.stderr.trim().split('\n')[0]})`);
        return r;
      };
      const step = async (c, which, counted, timed) => {
        if (which === 'local') {
          const r = await runCmd(`filer (${c.format})`, c.local, counted ? 'count' : 'null');
          if (counted) c.counts.local = r.lines;
          if (r.rssKB !== undefined) c.res.rss.local.push(r.rssKB);
          if (timed) c.res.local.push(r.ms);
        } else if (which === 'remote') {
          const cpu0 = cpuSnapshot(main);
          const r = await runCmd(`filer --server (${c.format})`, c.remote, counted ? 'count' : 'null');
          if (timed) c.res.cpuRemote.push(cpuSince(main, cpu0));
          if (counted) c.counts.remote = r.lines;
          if (r.rssKB !== undefined) c.res.rss.remote.push(r.rssKB);
          if (timed) c.res.remote.push(r.ms);
        } else {
          const j = await clusterJob(main, c.spec, timeoutMs);
          if (counted) c.counts.job = j.record.counters.matched;
          if (timed) {
            c.res.job.push(j.ms);
            c.res.serverTotal.push(Date.parse(j.record.finishedAt) - Date.parse(j.record.createdAt));
            c.res.shards.push(j.record.shards.total);
            c.res.timelines.push(shardLog.timeline(j.record, j.seenAt));
            c.res.cpuJob.push(j.cpu);
            c.res.get.push(await getResults(main, j.id, `format=${c.format}`));
            c.res.getGzip.push(await getResults(main, j.id, `format=${c.format}`, { gzip: true }));
          }
        }
        clearResults(main);
      };
      const order = ['local', 'job', 'remote'];
      for (const c of cases) {
        log(`case: find --format ${c.format} — ${warmups} warm-up + ${runs} timed rounds`);
        for (let w = 0; w < warmups; w++) for (const which of order) await step(c, which, w === 0, false);
        c.cpuLocal = commandCpu(c.local);
        c.cpuClient = commandCpu(c.remote); // the client's own CPU in remote mode (an untimed run)
        clearResults(main);
        const counts = [c.counts.local, c.counts.job, c.counts.remote, expected];
        c.countOk = counts.every((n) => n === expected);
        log(
          `  lines: filer ${c.counts.local}, cluster job matched ${c.counts.job}, filer --server ${c.counts.remote}, expected ${expected}`,
        );
        if (!c.countOk)
          mismatches.push(
            `--format ${c.format}: filer ${c.counts.local}, job ${c.counts.job}, filer --server ${c.counts.remote}, expected ${expected}`,
          );
      }
      const before = await scrapeShardSeconds(main);
      let clusterJobs = 0;
      for (let i = 0; i < runs; i++) {
        for (const c of cases) {
          // Rotate the order every round, so drift (page cache, Redis memory, JIT) hits every case.
          const rot = [...order.slice(i % 3), ...order.slice(0, i % 3)];
          for (const which of rot) {
            await step(c, which, false, true);
            if (which !== 'local') clusterJobs++;
          }
        }
      }
      const shardSeconds = diffShardSeconds(await scrapeShardSeconds(main), before);
      for (const c of cases) {
        c.med = {
          local: median(c.res.local),
          job: median(c.res.job),
          remote: median(c.res.remote),
          serverTotal: median(c.res.serverTotal),
        };
        log(
          `  --format ${c.format}: filer ${formatMs(c.med.local)} [${c.res.local.map(formatMs).join(', ')}], ` +
            `cluster job ${formatMs(c.med.job)} [${c.res.job.map(formatMs).join(', ')}] (${fmtRatio(c.med.job / c.med.local)}×), ` +
            `filer --server ${formatMs(c.med.remote)} [${c.res.remote.map(formatMs).join(', ')}] (${fmtRatio(c.med.remote / c.med.local)}×); shards ${c.res.shards.join(', ')}; ` +
            `GET results ${formatMs(median(c.res.get.map((g) => g.ms)))} for ${((c.res.get[0]?.plain ?? 0) / 1e6).toFixed(1)} MB, gzipped ${formatMs(median(c.res.getGzip.map((g) => g.ms)))}`,
        );
      }
      report.cases = cases;
      report.shardSeconds = shardSeconds;
      report.clusterJobs = clusterJobs;
    }

    // --- (2) shard overhead: the same job with smaller budgets ------------------------------
    if (parts.has('overhead')) {
      const small = [];
      for (const b of budgets) small.push({ budget: b, cluster: await start(`budget ${b}`, { FILER_SHARD_BUDGET: String(b) }) });
      const variants = [{ budget: DEFAULT_BUDGET, cluster: main }, ...small].map((v) => ({
        ...v,
        ms: [],
        shards: [],
        busy: [],
        cpu: [],
        timelines: [],
      }));
      const ovSpec = spec('ndjson');
      log(`shard overhead: budgets ${variants.map((v) => v.budget).join(', ')}, --format ndjson, 1 warm-up + ${runs} rounds`);
      for (const v of variants.slice(1)) {
        await clusterJob(v.cluster, ovSpec, timeoutMs); // warm-up of a fresh cluster
        clearResults(v.cluster);
      }
      for (let i = 0; i < runs; i++) {
        const rot = [...variants.slice(i % variants.length), ...variants.slice(0, i % variants.length)];
        for (const v of rot) {
          const j = await clusterJob(v.cluster, ovSpec, timeoutMs);
          if (j.record.counters.matched !== expected)
            mismatches.push(`budget ${v.budget}: matched ${j.record.counters.matched}, expected ${expected}`);
          const tl = shardLog.timeline(j.record, j.seenAt);
          v.ms.push(j.ms);
          v.shards.push(j.record.shards.total);
          v.busy.push(tl.scanBusy);
          v.cpu.push(j.cpu.total);
          v.timelines.push(tl);
          clearResults(v.cluster);
        }
      }
      for (const v of variants) {
        v.med = { ms: median(v.ms), shards: median(v.shards), busy: median(v.busy), cpu: median(v.cpu) };
        log(
          `  budget ${fmtInt(v.budget)}: ${formatMs(v.med.ms)} [${v.ms.map(formatMs).join(', ')}], ${fmtInt(v.med.shards)} shards, ` +
            `summed scan-shard time ${fmtS(v.med.busy)}, cluster CPU ${fmtS(v.med.cpu)}`,
        );
      }
      for (const s of small) await s.cluster.stop();
      report.variants = variants;
    }

    // --- (3) API submit throughput -----------------------------------------------------------
    if (parts.has('submits')) {
      const leaf = smallLeaf(root);
      const tiny = { kind: 'find', roots: [leaf.dir], filter: { hidden: true, noIgnore: true }, options: { format: 'ndjson' } };
      log(
        `submit throughput: ${submits} tiny find jobs (${path.relative(root, leaf.dir)}, ${leaf.files} entries) sequential, then concurrent`,
      );
      const timedSubmit = async () => {
        const t0 = performance.now();
        const { id } = await postJob(main, tiny);
        return { id, ms: performance.now() - t0 };
      };
      const settle = async (ids) => {
        const t0 = performance.now();
        for (const id of ids) {
          const rec = await waitFinal(main, id, 50, timeoutMs);
          if (rec.state !== 'completed') failures.push(`tiny job ${id}: ${rec.state} ${rec.message ?? ''}`);
        }
        return performance.now() - t0;
      };
      const throughput = {};
      {
        const t0 = performance.now();
        const out = [];
        for (let i = 0; i < submits; i++) out.push(await timedSubmit());
        const wall = performance.now() - t0;
        const tail = await settle(out.map((o) => o.id));
        throughput.sequential = { wall, lat: out.map((o) => o.ms), allDone: wall + tail };
      }
      clearResults(main);
      {
        const t0 = performance.now();
        const out = await Promise.all(Array.from({ length: submits }, () => timedSubmit()));
        const wall = performance.now() - t0;
        const tail = await settle(out.map((o) => o.id));
        throughput.concurrent = { wall, lat: out.map((o) => o.ms), allDone: wall + tail };
      }
      clearResults(main);
      for (const [mode, t] of Object.entries(throughput))
        log(
          `  ${mode}: ${(submits / (t.wall / 1000)).toFixed(0)} submits/s (${formatMs(t.wall)}), latency p50 ${t.lat.length ? percentile(t.lat, 50).toFixed(1) : '—'} ms, ` +
            `p99 ${percentile(t.lat, 99).toFixed(1)} ms; all ${submits} completed after ${formatMs(t.allDone)}`,
        );
      report.throughput = throughput;
      report.leaf = leaf;
    }
  } catch (e) {
    failures.push(`aborted: ${e.stack ?? e}`);
    log(`  !!! cluster bench aborted: ${e.stack ?? e}`);
    for (const c of clusters) log(c.logs().split('\n').slice(-40).join('\n'));
  } finally {
    for (const c of clusters.reverse()) await c.stop().catch((e) => log(`  (stopping a cluster: ${e.message})`));
  }

  report.loadAfter = os.loadavg();
  // --- report -------------------------------------------------------------------------------
  const md = [
    '# filer cluster benchmark',
    '',
    `- date: ${new Date().toISOString()}`,
    `- tree: \`${path.relative(REPO, root)}\` — ${manifest.files.toLocaleString('en-US')} files, ${manifest.dirs.toLocaleString('en-US')} dirs, generator v${manifest.generatorVersion}`,
    `- machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}${environmentNote()}`,
    `- load average (1, 5, 15 min) at the start ${report.loadBefore.map((x) => x.toFixed(2)).join(', ')}, at the end ${report.loadAfter.map((x) => x.toFixed(2)).join(', ')}`,
    `- node ${process.version}; ${versionOf('redis-server')}; bullmq ${packageVersion('bullmq')}; ioredis ${packageVersion('ioredis')}; ` +
      `@nestjs/core ${packageVersion('@nestjs/core')}; fastify ${packageVersion('fastify')}`,
    `- cluster: startCluster (libs/testing) on this machine: redis-server (no AOF), the API, 2 scanner workers, 1 batch worker (FILER_WORKER_CONCURRENCY default: ${os.availableParallelism()} per worker), ` +
      `FILER_SHARD_BUDGET ${DEFAULT_BUDGET.toLocaleString('en-US')} (the default) unless a row says otherwise${process.env.BENCH_CLUSTER_NODE_OPTIONS ? `; NODE_OPTIONS='${process.env.BENCH_CLUSTER_NODE_OPTIONS}' (times may be inflated)` : ''}`,
    `- method: ${warmups} warm-up round (filer's and filer --server's lines counted, the job's counters.matched read) + ${runs} timed rounds, order rotated every round; ` +
      `time = median wall time; cluster job = POST /v1/jobs → GET /v1/jobs/:id (every ${POLL_MS} ms) sees \`completed\`; filer --server = the CLI in remote mode, results streamed to /dev/null; ` +
      `filer runs with --hidden --no-ignore (the job: filter {hidden, noIgnore}); peak RSS ${HAS_GNU_TIME ? 'by GNU time %M' : 'from /proc VmHWM'}; page cache warm`,
    '',
  ];
  if (report.cases) {
    const rows = [];
    for (const c of report.cases) {
      const ratioJob = c.med.job / c.med.local;
      rows.push([
        `find --format ${c.format}: cluster job (POST → completed)`,
        formatMs(c.med.local),
        formatMs(c.med.job),
        `**${fmtRatio(ratioJob)}**`,
        c.format === 'ndjson' ? `≤ ${TARGET}` : '—',
        c.format === 'ndjson' ? (ratioJob <= TARGET ? 'yes' : '**NO**') : '—',
      ]);
      rows.push([
        `find --format ${c.format}: \`filer --server\` (end to end, results streamed)`,
        formatMs(c.med.local),
        formatMs(c.med.remote),
        `**${fmtRatio(c.med.remote / c.med.local)}**`,
        `≤ ${TARGET}`,
        c.med.remote / c.med.local <= TARGET ? 'yes' : '**NO**',
      ]);
    }
    md.push('## Wall time', '', markdownTable(['case', 'filer in-process', 'cluster', 'ratio', 'target', 'met?'], rows));
    const mbps = (bytes, ms) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
    md.push(
      '## Results through the API',
      '',
      'GET /v1/jobs/:id/results of each timed cluster job, in the job’s format, read to the last byte with node:http on the same host ' +
        '(bench/lib/results-get.mjs); MB/s = body bytes / median time (for gzip: the inflated body, the reader inflating as it reads).',
      '',
      markdownTable(
        ['format', 'body', 'GET (plain)', 'MB/s', 'target', 'met?', 'gzip on the wire', 'GET (gzip)', 'MB/s (gzip)'],
        report.cases.map((c) => {
          const plain = c.res.get[0]?.plain ?? 0;
          const ms = median(c.res.get.map((g) => g.ms));
          const gz = median(c.res.getGzip.map((g) => g.ms));
          const rate = plain / 1e6 / (ms / 1000);
          return [
            c.format,
            `${(plain / 1e6).toFixed(1)} MB`,
            `${formatMs(ms)} [${c.res.get.map((g) => formatMs(g.ms)).join(', ')}]`,
            `**${mbps(plain, ms)}**`,
            `≥ ${GET_TARGET[c.format]}`,
            rate >= GET_TARGET[c.format] ? 'yes' : '**NO**',
            `${((c.res.getGzip[0]?.wire ?? 0) / 1e6).toFixed(1)} MB (${c.res.getGzip[0]?.encoding})`,
            `${formatMs(gz)} [${c.res.getGzip.map((g) => formatMs(g.ms)).join(', ')}]`,
            mbps(c.res.getGzip[0]?.plain ?? 0, gz),
          ];
        }),
      ),
    );
    md.push(
      '## Where a cluster job’s time goes (median of the timed runs)',
      '',
      'From the job record (createdAt, finishedAt) and the workers’ `shard started`/`shard finished` log lines. ' +
        'Root shard alone = until the second shard starts (the root walks its whole budget before it hands out work); ' +
        'scanner idle = time in the scan span in which a scanner process ran no shard, summed over both; ' +
        'parallelism = summed scan-shard time / scan span (4 shard slots: 2 scanners × concurrency 2, on 2 cores); ' +
        'cores used = the cluster’s CPU time for the job / server total.',
      '',
      markdownTable(
        [
          'case',
          'server total',
          'queue wait',
          'scan span',
          'scan → finalize',
          'finalize',
          'finished → seen',
          'scan shards',
          'root shard alone',
          'scanner idle',
          'summed shard time',
          'parallelism',
          'cores used',
        ],
        report.cases.map((c) => {
          const m = (k) => median(c.res.timelines.map((t) => t[k]).filter((x) => x !== undefined && Number.isFinite(x)));
          return [
            `--format ${c.format} (the cluster job runs)`,
            formatMs(m('serverTotal')),
            formatMs(m('queueWait')),
            formatMs(m('scanSpan')),
            formatMs(m('scanToFinalize')),
            formatMs(m('finalize')),
            formatMs(m('finishedToSeen')),
            fmtInt(m('scanShards')),
            formatMs(m('rootAlone')),
            formatMs(m('scannerIdle')),
            formatMs(m('scanBusy')),
            fmtRatio(m('parallelism')),
            fmtRatio(median(c.res.cpuJob.map((x) => x.total)) / median(c.res.serverTotal)),
          ];
        }),
      ),
    );
    const procs = ['api', 'scanner-1', 'scanner-2', 'batch-1', 'redis'];
    const med = (list, key) => median(list.map((x) => x[key] ?? 0));
    md.push(
      '## CPU time per run (median; user + system)',
      '',
      'filer in-process and the `filer --server` client: one extra untimed run each under GNU time. The cluster’s processes: /proc/PID/stat before and after each timed run. ' +
        'The cluster job’s client is this benchmark’s poller (not counted).',
      '',
      markdownTable(
        ['case', 'filer process', ...procs, 'total', 'vs in-process'],
        report.cases.flatMap((c) => {
          const local = c.cpuLocal?.total;
          const client = c.cpuClient?.total;
          const jobTotal = med(c.res.cpuJob, 'total');
          const remTotal = med(c.res.cpuRemote, 'total') + (client ?? 0);
          return [
            [`--format ${c.format}: filer in-process`, fmtS(local), '', '', '', '', '', fmtS(local), '1.00'],
            [
              `--format ${c.format}: cluster job`,
              '—',
              ...procs.map((p) => fmtS(med(c.res.cpuJob, p))),
              fmtS(jobTotal),
              local ? fmtRatio(jobTotal / local) : '—',
            ],
            [
              `--format ${c.format}: filer --server`,
              fmtS(client),
              ...procs.map((p) => fmtS(med(c.res.cpuRemote, p))),
              fmtS(remTotal),
              local ? fmtRatio(remTotal / local) : '—',
            ],
          ];
        }),
      ),
    );
    md.push(
      '## Peak RSS',
      '',
      markdownTable(
        ['case', 'filer in-process', 'filer --server (the client only)'],
        report.cases.map((c) => [
          `--format ${c.format}`,
          formatMB(c.res.rss.local.length ? Math.max(...c.res.rss.local) : undefined),
          formatMB(c.res.rss.remote.length ? Math.max(...c.res.rss.remote) : undefined),
        ]),
      ),
    );
    md.push(
      '## Output lines (sanity check)',
      '',
      markdownTable(
        ['case', 'filer', 'cluster job counters.matched', 'filer --server', 'expected (generator)', 'check'],
        report.cases.map((c) => [
          `--format ${c.format}`,
          fmtInt(c.counts.local),
          fmtInt(c.counts.job),
          fmtInt(c.counts.remote),
          fmtInt(expected),
          c.countOk ? 'ok' : '**MISMATCH**',
        ]),
      ),
    );
    md.push(
      '## All timed runs',
      '',
      markdownTable(
        ['case', 'filer runs', 'cluster job runs', 'server total (record)', 'filer --server runs', 'shards.total'],
        report.cases.map((c) => [
          `--format ${c.format}`,
          c.res.local.map(formatMs).join(', '),
          c.res.job.map(formatMs).join(', '),
          c.res.serverTotal.map(formatMs).join(', '),
          c.res.remote.map(formatMs).join(', '),
          c.res.shards.join(', '),
        ]),
      ),
    );
  }
  if (report.shardSeconds && report.variants) {
    const s = report.shardSeconds;
    const base = report.variants[0];
    const rows = Object.entries(s)
      .filter(([, v]) => v.count > 0)
      .map(([shard, v]) => [
        shard,
        fmtInt(v.count),
        fmtRatio(v.count / report.clusterJobs),
        `${((v.sum / v.count) * 1000).toFixed(1)} ms`,
        fmtS(v.sum * 1000),
      ]);
    md.push(
      '## Shards',
      '',
      `Scraped from the workers’ /metrics (\`filer_shard_duration_seconds\` sum and count, summed over the workers) before and after the ${report.clusterJobs} cluster jobs of the timed rounds above ` +
        `(cluster jobs and filer --server runs, both formats; FILER_SHARD_BUDGET ${DEFAULT_BUDGET.toLocaleString('en-US')}).`,
      '',
      markdownTable(['shard type', 'shards', 'per job', 'mean duration', 'summed'], rows),
      'Overhead per shard, measured: the same cluster job (`--format ndjson`) on clusters started with smaller budgets, rounds alternating with the default cluster. ' +
        'Δ = against the default budget; per shard = Δ / Δ shards; the last row is the least-squares slope over every budget. ' +
        'Cluster CPU = user + system time of the API, the workers and redis-server during the job (/proc/PID/stat), which does not depend on how well the shards spread over the two cores; ' +
        'summed shard time (from the workers’ logs) counts a shard’s time waiting for a core too.',
      '',
      markdownTable(
        ['FILER_SHARD_BUDGET', 'shards.total', 'wall time', 'runs', 'Δ wall / shard', 'cluster CPU', 'Δ CPU / shard', 'summed shard time'],
        [
          ...report.variants.map((v) => {
            const dn = v.med.shards - base.med.shards;
            return [
              fmtInt(v.budget) + (v === base ? ' (default)' : ''),
              fmtInt(v.med.shards),
              formatMs(v.med.ms),
              v.ms.map(formatMs).join(', '),
              v === base || dn === 0 ? '—' : `${((v.med.ms - base.med.ms) / dn).toFixed(1)} ms`,
              fmtS(v.med.cpu),
              v === base || dn === 0 ? '—' : `${((v.med.cpu - base.med.cpu) / dn).toFixed(1)} ms`,
              fmtS(v.med.busy),
            ];
          }),
          [
            'slope over all budgets',
            '',
            '',
            '',
            `${slope(
              report.variants.map((v) => v.med.shards),
              report.variants.map((v) => v.med.ms),
            ).toFixed(1)} ms`,
            '',
            `${slope(
              report.variants.map((v) => v.med.shards),
              report.variants.map((v) => v.med.cpu),
            ).toFixed(1)} ms`,
            '',
          ],
        ],
      ),
    );
  }
  if (report.throughput) {
    const t = report.throughput;
    md.push(
      '## API submit throughput',
      '',
      `${submits} submits of a tiny find job (\`${path.relative(root, report.leaf.dir)}\`, ${report.leaf.files} entries) with a write token, ` +
        'one after the other and then all at once; latency = request → 202 with its body read; jobs/s = submits / wall time of the submits; ' +
        '“all completed” = from the first submit until every job was seen completed (the workers run them meanwhile).',
      '',
      markdownTable(
        ['mode', 'submits/s', 'wall time', 'latency p50', 'latency p99', 'max', 'all completed after', 'jobs completed/s'],
        Object.entries(t).map(([mode, v]) => [
          mode,
          (submits / (v.wall / 1000)).toFixed(0),
          formatMs(v.wall),
          `${percentile(v.lat, 50).toFixed(1)} ms`,
          `${percentile(v.lat, 99).toFixed(1)} ms`,
          `${Math.max(...v.lat).toFixed(1)} ms`,
          formatMs(v.allDone),
          (submits / (v.allDone / 1000)).toFixed(0),
        ]),
      ),
    );
  }
  const problemList = [
    { label: 'COUNT MISMATCH', items: mismatches },
    { label: 'FAILED', items: failures },
  ];
  md.push(...problemsSection(problemList));
  const markdown = md.join('\n');
  writeReport('cluster', RESULTS, markdown, problemList, log);
  return { ok: mismatches.length === 0 && failures.length === 0, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const manifest = ensureTree(resolveFileCount(process.argv[2]));
  const { ok } = await run({ manifest });
  process.exitCode = ok ? 0 : 1;
}
