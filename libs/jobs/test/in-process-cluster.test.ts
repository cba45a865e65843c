import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { makeTree, startRedis, type RedisHandle } from '@filer/testing';
import {
  admitJob,
  openClusterContext,
  readClusterConfig,
  startWorker,
  submitJob,
  QUEUES,
  type ClusterContext,
  type JobRecord,
} from '@filer/jobs';

async function waitFor(ctx: ClusterContext, id: string, states: string[], timeoutMs = 30_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = await ctx.store.get(id);
    if (rec !== undefined && states.includes(rec.state)) return rec;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${rec?.state}, not ${states.join('|')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lines(ctx: ClusterContext, id: string, kind: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of ctx.results.lines(id, kind)) out.push(l);
  return out;
}

describe('jobs over BullMQ, workers in this process', () => {
  let redis: RedisHandle;
  let ctx: ClusterContext;
  let workers: Worker[];
  let root: string;
  let results: string;

  beforeAll(async () => {
    redis = await startRedis();
    results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-results-'));
    const tree: Record<string, string> = {};
    for (let d = 0; d < 30; d++) for (let f = 0; f < 20; f++) tree[`src/d${d}/sub/f${f}.txt`] = `content ${f % 7}`;
    root = makeTree(tree, { prefix: 'filer-jobs-' }).root;
    ctx = openClusterContext(
      readClusterConfig({
        FILER_REDIS_URL: redis.url,
        FILER_RESULTS_DIR: results,
        FILER_ALLOWED_ROOTS: root,
        FILER_SHARD_BUDGET: '100',
        FILER_BATCH_SHARD_SIZE: '50',
        FILER_WORKER_CONCURRENCY: '2',
      }),
    );
    workers = [startWorker(ctx, QUEUES.scan), startWorker(ctx, QUEUES.batch), startWorker(ctx, QUEUES.finalize)];
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await ctx.close();
    await redis.stop();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(results, { recursive: true, force: true });
  });

  it('a find job fans out into shards and finds every file exactly once', async () => {
    const spec = admitJob({ kind: 'find', roots: [root + '/src'], filter: { ext: 'txt' } }, ctx.allowedRoots);
    const job = await submitJob(ctx, spec);
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expect(done.counters.matched).toBe(600);
    expect(done.shards.total).toBeGreaterThan(3);
    const paths = (await lines(ctx, job.id, 'scan')).map((l) => (JSON.parse(l) as { path: string }).path).sort();
    expect(paths.length).toBe(600);
    expect(new Set(paths).size).toBe(600);
  });

  it('a dupes job groups identical files', async () => {
    const job = await submitJob(ctx, admitJob({ kind: 'dupes', roots: [root + '/src'] }, ctx.allowedRoots));
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    const groups = (await lines(ctx, job.id, 'results')).map((l) => JSON.parse(l) as { paths: string[] });
    expect(groups.length).toBe(7);
    expect(groups.reduce((n, g) => n + g.paths.length, 0)).toBe(600);
  });

  it('a move job plans, applies in shards and undoes', async () => {
    const dest = path.join(root, 'moved');
    const job = await submitJob(ctx, admitJob({ kind: 'move', roots: [root + '/src'], options: { dest }, apply: true }, ctx.allowedRoots));
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    expect(done.apply?.done).toBe(600);
    expect(fs.readFileSync(path.join(dest, 'd3/sub/f4.txt'), 'utf8')).toBe('content 4');
    expect(fs.existsSync(path.join(root, 'src/d3/sub/f4.txt'))).toBe(false);
    const { startUndo } = await import('@filer/jobs');
    expect(await startUndo(ctx, job.id)).toBe(true);
    const undone = await waitFor(ctx, job.id, ['undone', 'failed']);
    expect(undone.state).toBe('undone');
    expect(fs.readFileSync(path.join(root, 'src/d3/sub/f4.txt'), 'utf8')).toBe('content 4');
  });
});
