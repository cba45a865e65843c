import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitJob, openClusterContext, readClusterConfig, submitJob, type ClusterContext, type JobRecord } from '@filer/jobs';
import {
  appMain,
  makeTree,
  runProcess,
  startCluster,
  startRedis,
  type ClusterHandle,
  type RedisHandle,
  type TempTree,
} from '@filer/testing';

const DIRS = 10;
const SUBDIRS = 10;
const FILES = 50;
const TXT = DIRS * SUBDIRS * FILES;

async function waitForJob(ctx: ClusterContext, id: string, timeoutMs = 60_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = await ctx.store.get(id);
    if (rec !== undefined && ['completed', 'failed', 'cancelled'].includes(rec.state)) return rec;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${rec?.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The sum of a Prometheus counter's samples whose labels include every given one. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** The built scanner and batch workers as real processes, fed through Redis by this test (no API). */
describe('worker processes', () => {
  let tree: TempTree;
  let sut: ClusterHandle;
  let ctx: ClusterContext;
  let job: JobRecord;

  beforeAll(async () => {
    const spec: Record<string, string> = {};
    for (let d = 0; d < DIRS; d++)
      for (let s = 0; s < SUBDIRS; s++) {
        for (let f = 0; f < FILES; f++) spec[`d${d}/s${s}/f${f}.txt`] = `${d}/${s}/${f}`;
        spec[`d${d}/s${s}/skip.log`] = 'not a txt';
      }
    tree = makeTree(spec, { prefix: 'filer-workers-' });
    sut = await startCluster({ allowedRoots: [tree.root], api: false, env: { FILER_SHARD_BUDGET: '500', FILER_WORKER_CONCURRENCY: '1' } });
    ctx = openClusterContext(
      readClusterConfig({ FILER_REDIS_URL: sut.redis.url, FILER_RESULTS_DIR: sut.resultsDir, FILER_ALLOWED_ROOTS: tree.root }),
    );
  });

  afterAll(async () => {
    await ctx?.close();
    await sut?.stop();
    tree?.cleanup();
  });

  it('run a find job in many shards and find every file exactly once', async () => {
    const submitted = await submitJob(ctx, admitJob({ kind: 'find', roots: [tree.root], filter: { ext: 'txt' } }, ctx.allowedRoots));
    job = await waitForJob(ctx, submitted.id);
    expect(job.state, `${job.message}\n${sut.logs()}`).toBe('completed');
    expect(job.counters.matched).toBe(TXT);
    expect(job.shards.total).toBeGreaterThan(1);
    const paths: string[] = [];
    for await (const line of ctx.results.lines(job.id, 'scan')) paths.push((JSON.parse(line) as { path: string }).path);
    expect(paths.length).toBe(TXT);
    expect(new Set(paths).size).toBe(TXT);
    expect(paths.every((p) => p.startsWith(tree.root + '/') && p.endsWith('.txt'))).toBe(true);
    // Every shard logged its job and shard id: the scan shards and their finalizer, whose line
    // comes just after it marks the job completed.
    const finishedLines = (): string[] =>
      sut
        .logs()
        .split('\n')
        .filter((l) => l.includes('"shard finished"') && l.includes(`"jobId":"${job.id}"`));
    for (let i = 0; i < 50 && finishedLines().length < job.shards.total + 1; i++) await new Promise((r) => setTimeout(r, 100));
    const finished = finishedLines();
    expect(finished.length).toBe(job.shards.total + 1);
    expect(finished.every((l) => /"shardId":"[^"]+"/.test(l))).toBe(true);
  });

  it('answer /health, /health/ready and /metrics with the shards they processed', async () => {
    const scans = { shards: 0, matched: 0, files: 0 };
    for (const w of sut.workers) {
      const health = await fetch(`${w.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${w.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', checks: { redis: 'ok', results: 'ok' } });
      const metrics = await fetch(`${w.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await metrics.text();
      expect(text).toContain('# TYPE filer_shards_processed_total counter');
      expect(text).toContain('filer_shard_duration_seconds_bucket');
      if (w.name.startsWith('scanner')) {
        scans.shards += metricSum(text, 'filer_shards_processed_total', { shard: 'scan', outcome: 'completed' });
        scans.matched += metricSum(text, 'filer_files_matched_total');
        scans.files += metricSum(text, 'filer_files_scanned_total');
      } else {
        expect(metricSum(text, 'filer_shards_processed_total', { shard: 'finalize', outcome: 'completed' })).toBe(1);
      }
    }
    expect(scans.shards).toBe(job.shards.total);
    expect(scans.matched).toBe(TXT);
    expect(scans.files).toBe(job.counters.entries);
  });

  it('stop on SIGTERM when idle, with exit code 0, and start again', async () => {
    const worker = sut.workers[1];
    const t0 = Date.now();
    const status = await worker.kill('SIGTERM');
    expect(status).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(worker.logs()).toContain('"msg":"stopped"');
    await worker.restart();
    expect((await fetch(`${worker.url}/health/ready`)).status).toBe(200);
  });

  it.each(['scanner-worker', 'batch-worker'])('%s: a configuration error exits 2 naming the variable', async (app) => {
    const res = await runProcess(process.execPath, [appMain(app)], {
      env: { FILER_REDIS_URL: sut.redis.url, FILER_RESULTS_DIR: '', FILER_ALLOWED_ROOTS: tree.root, FILER_WORKER_PORT: 'x' },
      timeoutMs: 15_000,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('FILER_RESULTS_DIR');
    expect(res.stderr).toContain('FILER_WORKER_PORT=x');
    expect(res.stdout).toBe('');
  });
});

/** The whole cluster from the built apps, driven over HTTP. */
describe('startCluster with the API', () => {
  let tree: TempTree;
  let sut: ClusterHandle;

  beforeAll(async () => {
    tree = makeTree({ 'a/one.txt': '1', 'a/b/two.txt': '2', 'a/b/c/three.log': '3' }, { prefix: 'filer-cluster-' });
    sut = await startCluster({ allowedRoots: [tree.root] });
  });

  afterAll(async () => {
    await sut?.stop();
    tree?.cleanup();
  });

  it('runs a find job submitted over HTTP', async () => {
    const created = await sut.request('POST', '/v1/jobs', {
      token: sut.tokens.write,
      body: { kind: 'find', roots: [tree.root], filter: { ext: 'txt' } },
    });
    expect(created.status, sut.logs()).toBe(202);
    const { id } = (await created.json()) as { id: string };
    let rec: { state: string; counters: { matched: number } } | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const res = await sut.request('GET', `/v1/jobs/${id}`, { token: sut.tokens.read });
      expect(res.status).toBe(200);
      rec = (await res.json()) as typeof rec;
      if (['completed', 'failed', 'cancelled'].includes(rec!.state)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rec?.state, sut.logs()).toBe('completed');
    expect(rec?.counters.matched).toBe(2);
    expect((await sut.request('GET', `/v1/jobs/${id}`)).status).toBe(401);
  });

  it('is ready on the tests’ own Redis, which runs with noeviction', async () => {
    const ready = await sut.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { redisSettings: 'ok' }, redis: { maxmemoryPolicy: 'noeviction' } });
  });
});

/** Battery 18: a Redis that may evict keys (queued shards among them) is refused by every process. */
describe('a Redis with maxmemory-policy allkeys-lru', () => {
  let tree: TempTree;
  let redis: RedisHandle;
  let api: ClusterHandle;

  beforeAll(async () => {
    tree = makeTree({ 'a/one.txt': '1' }, { prefix: 'filer-evicting-' });
    redis = await startRedis({ maxmemoryPolicy: 'allkeys-lru' });
    api = await startCluster({ allowedRoots: [tree.root], redis, scanners: 0, batch: 0 });
  });

  afterAll(async () => {
    await api?.stop();
    await redis?.stop();
    tree?.cleanup();
  });

  it('the API is not ready (503), naming maxmemory-policy', async () => {
    const ready = await api.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as {
      status: string;
      checks: { redis: string; redisSettings: string };
      redis: { maxmemoryPolicy: string };
    };
    expect(body.status).toBe('error');
    expect(body.checks.redis).toBe('ok');
    expect(body.checks.redisSettings).toMatch(/^error: Redis maxmemory-policy is allkeys-lru: .*set maxmemory-policy noeviction$/);
    expect(body.redis.maxmemoryPolicy).toBe('allkeys-lru');
  });

  it.each(['scanner-worker', 'batch-worker'])('%s refuses to start: exit 2, naming maxmemory-policy, nothing consumed', async (app) => {
    const res = await runProcess(process.execPath, [appMain(app)], {
      env: { FILER_REDIS_URL: redis.url, FILER_RESULTS_DIR: api.resultsDir, FILER_ALLOWED_ROOTS: tree.root, FILER_WORKER_PORT: '0' },
      timeoutMs: 30_000,
    });
    expect(res.code, res.stdout + res.stderr).toBe(2);
    expect(res.stderr).toMatch(/refusing to start: Redis maxmemory-policy is allkeys-lru: .*set maxmemory-policy noeviction/);
    expect(res.stdout).toContain('"level":50');
    expect(res.stdout).not.toContain('"worker started"');
  });
});
