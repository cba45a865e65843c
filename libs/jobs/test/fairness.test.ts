import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitJob, QUEUES, redisKeys, submitJob, type ClusterContext } from '@filer/jobs';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';

/**
 * Fairness between jobs (shardPriority): a tiny job submitted while a big one has a backlog of
 * queued shards runs next, not after that backlog. One scanner slot and the smallest shard budget
 * make the backlog long and the order plain: first come, first served would run every shard queued
 * before the tiny job's (at least BACKLOG) ahead of it.
 */
describe('fairness between jobs', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;
  const BACKLOG = 20;

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let a = 0; a < 8; a++) for (let b = 0; b < 25; b++) for (let f = 0; f < 40; f++) tree[`big/a${a}/b${b}/f${f}.txt`] = '';
    for (let f = 0; f < 5; f++) tree[`tiny/f${f}.txt`] = 'x';
    cluster = await startInProcessCluster({
      prefix: 'filer-fairness-',
      tree,
      env: { FILER_SHARD_BUDGET: '100', FILER_WORKER_CONCURRENCY: '1' },
      queues: [QUEUES.scan, QUEUES.finalize],
    });
    ({ ctx, root } = cluster);
  }, 120_000);

  afterAll(() => cluster.stop());

  it('run a tiny find job submitted behind a big job’s backlog of shards next', async () => {
    const big = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/big'] }, ctx.allowedRoots));
    const progress = async (): Promise<{ total: number; done: number }> => {
      const p = await ctx.redis.hgetall(redisKeys.progress(big.id));
      return { total: Number(p.shardsTotal ?? 0), done: Number(p.shardsDone ?? 0) };
    };
    // Wait until the big job has a backlog of shards queued.
    const deadline = Date.now() + 60_000;
    for (let p = await progress(); p.total - p.done < BACKLOG; p = await progress()) {
      if (Date.now() > deadline) throw new Error(`no backlog of ${BACKLOG} shards: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const before = await progress();
    const t0 = Date.now();
    const tiny = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/tiny'] }, ctx.allowedRoots));
    const done = await waitFor(ctx, tiny.id, ['completed', 'failed'], 30_000);
    const ms = Date.now() - t0;
    expect(done.state, done.message).toBe('completed');
    expect(done.counters.matched).toBe(5);
    // The order the scanner took shards in, from BullMQ's own timestamps (finished shards are kept a
    // day): the big job's shards it started after the tiny job was submitted and before the tiny
    // job's shard. At most the one taken in the instant between; first come, first served would have
    // run its whole backlog (at least BACKLOG) first. Counted by order, not by time, so a slow machine
    // cannot make it fail.
    const scans = await ctx.queues[QUEUES.scan].getJobs(['completed'], 0, -1);
    const tinyShard = scans.find((j) => (j.data as { jobId: string }).jobId === tiny.id);
    expect(tinyShard?.processedOn).toBeDefined();
    const overtook = scans.filter(
      (j) => (j.data as { jobId: string }).jobId === big.id && j.processedOn! >= t0 && j.processedOn! < tinyShard!.processedOn!,
    );
    expect(overtook.length, JSON.stringify({ before, overtook: overtook.length })).toBeLessThanOrEqual(1);
    expect(before.total - before.done).toBeGreaterThanOrEqual(BACKLOG);
    expect(ms).toBeLessThan(15_000);
    expect((await ctx.store.get(big.id))?.state).toBe('running');
    const bigDone = await waitFor(ctx, big.id, ['completed', 'failed'], 120_000);
    expect(bigDone.counters.matched).toBe(8 * 25 * 40);
  }, 180_000);
});
