import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addJob,
  admitJob,
  contractJob,
  finalizeJobOptions,
  JobName,
  newJobId,
  QUEUE_STATE_LOST,
  QUEUES,
  Reconciler,
  RecordMirror,
  startApply,
  submitJob,
  type ClusterContext,
} from '@filer/jobs';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';

/** Job records mirrored to the results volume, and the reconciler that ends jobs whose queued work Redis lost. */
describe('job records and the reconciler', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;
  let results: string;
  const mirror = (): RecordMirror => new RecordMirror(results);

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let f = 0; f < 40; f++) tree[`src/d${f % 4}/f${f}.txt`] = `content ${f}`;
    cluster = await startInProcessCluster({
      prefix: 'filer-records-',
      tree,
      env: {
        FILER_BATCH_SHARD_SIZE: '10',
        FILER_SHARD_ATTEMPTS: '2',
        FILER_WORKER_CONCURRENCY: '2',
      },
      // Scans and finalizers only: a test that wants apply shards to run starts a batch worker itself.
      queues: [QUEUES.scan, QUEUES.finalize],
    });
    ({ ctx, root, results } = cluster);
  });

  afterAll(() => cluster.stop());

  it('mirror every transition to <results>/<job>/record.json, written whole', async () => {
    const job = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/src'] }, ctx.allowedRoots));
    expect(await mirror().read(job.id)).toMatchObject({ id: job.id, state: 'queued', rev: 0 });
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    const copy = (await mirror().read(job.id))!;
    expect(copy).toEqual(done);
    expect(copy.rev).toBeGreaterThan(1);
    // No temporary file is left beside it.
    expect(fs.readdirSync(path.join(results, job.id)).filter((n) => n.startsWith('record'))).toEqual(['record.json']);
  });

  it('never let an older revision replace a newer copy', async () => {
    const rec = (await mirror().read((await mirror().ids())[0]!))!;
    await mirror().write({ ...rec, rev: (rec.rev ?? 0) - 1, state: 'running' });
    expect(await mirror().read(rec.id)).toEqual(rec);
  });

  it('after FLUSHALL: read records back from the mirror, put them back, and fail the job whose shards are gone', async () => {
    const done = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/src'] }, ctx.allowedRoots));
    await waitFor(ctx, done.id, ['completed']);
    const dest = path.join(root, 'moved');
    const move = await submitJob(ctx, admitJob({ kind: 'move', roots: [root + '/src'], options: { dest } }, ctx.allowedRoots));
    await waitFor(ctx, move.id, ['planned']);
    // No batch worker runs: the apply shards stay queued, then Redis forgets them.
    expect(await startApply(ctx, move.id)).toBe(true);
    await ctx.redis.flushall();

    expect(await ctx.store.get(move.id)).toMatchObject({ id: move.id, state: 'applying' });
    const listed = await ctx.store.list({ limit: 50 });
    expect(listed.jobs.map((j) => j.id)).toEqual(expect.arrayContaining([done.id, move.id]));
    expect((await ctx.store.list({ limit: 50, state: 'completed' })).jobs.map((j) => j.id)).toContain(done.id);

    const report = await new Reconciler(ctx).reconcileOnce();
    expect(report.restored).toEqual(expect.arrayContaining([done.id, move.id]));
    // Put back from the mirror, so its queued work predates the loss: failed at once.
    expect(report.failed).toEqual([{ id: move.id, code: QUEUE_STATE_LOST }]);
    const failed = (await ctx.store.get(move.id))!;
    expect(failed).toMatchObject({ state: 'failed', code: QUEUE_STATE_LOST });
    expect(failed.message).toMatch(/^queue-state-lost: /);
    expect(await mirror().read(move.id)).toEqual(failed);
    // Redis holds the records again: listed from there, the finished job unchanged.
    expect(await ctx.redis.exists(`filer:job:${done.id}`)).toBe(1);
    expect((await ctx.store.get(done.id))?.state).toBe('completed');
    expect(await ctx.store.unfinished()).not.toContain(move.id);
    // A second pass finds nothing more to do.
    expect(await new Reconciler(ctx).reconcileOnce()).toEqual({ restored: [], failed: [] });
  });

  it('fail a job whose finalizer is gone only after it was seen so, unchanged, for the grace period — once, with two reconcilers', async () => {
    // A record whose work was never queued (as if its queue state had been lost without a restart).
    const id = newJobId();
    await ctx.store.create({
      id,
      kind: 'find',
      spec: admitJob({ kind: 'find', roots: [root + '/src'] }, ctx.allowedRoots),
      state: 'queued',
      createdAt: new Date().toISOString(),
    });
    const a = new Reconciler(ctx, { lostAfterMs: 10_000 });
    const b = new Reconciler(ctx, { lostAfterMs: 10_000 });
    const t0 = Date.now();
    expect((await a.reconcileOnce(t0)).failed).toEqual([]);
    expect((await b.reconcileOnce(t0)).failed).toEqual([]);
    expect((await a.reconcileOnce(t0 + 5_000)).failed).toEqual([]);
    const rev = (await ctx.store.get(id))!.rev;
    const [ra, rb] = await Promise.all([a.reconcileOnce(t0 + 10_000), b.reconcileOnce(t0 + 10_000)]);
    expect([...ra.failed, ...rb.failed]).toEqual([{ id, code: QUEUE_STATE_LOST }]);
    const rec = (await ctx.store.get(id))!;
    expect(rec.state).toBe('failed');
    expect(rec.rev).toBe(rev! + 1);
  });

  it('leave a job alone while its record keeps changing or its finalizer is pending', async () => {
    const job = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/src'] }, ctx.allowedRoots));
    const r = new Reconciler(ctx, { lostAfterMs: 0 });
    // With no grace at all, a pending finalizer is what keeps it alive.
    await r.reconcileOnce();
    expect((await waitFor(ctx, job.id, ['completed', 'failed'])).state).toBe('completed');
  });

  it('fail a job whose finalizer failed for good with that finalizer’s code', async () => {
    const id = newJobId();
    await ctx.store.create({
      id,
      kind: 'dupes',
      spec: admitJob({ kind: 'dupes', roots: [root + '/src'] }, ctx.allowedRoots),
      state: 'running',
      createdAt: new Date().toISOString(),
    });
    // The results volume holds a file where the finalizer must create a directory: every attempt fails the same way.
    fs.writeFileSync(path.join(results, id, 'results'), 'in the way');
    const finalizer = await addJob(
      ctx.queues,
      contractJob(JobName.finalize, { jobId: id, phase: 'hash' }, finalizeJobOptions(ctx.config, `${id}-final-hash`)),
    );
    const deadline = Date.now() + 20_000;
    while ((await finalizer.getState()) !== 'failed') {
      if (Date.now() > deadline) throw new Error(`finalizer is ${await finalizer.getState()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const report = await new Reconciler(ctx).reconcileOnce();
    expect(report.failed).toEqual([{ id, code: 'EEXIST' }]);
    expect(await ctx.store.get(id)).toMatchObject({ state: 'failed', code: 'EEXIST' });
  });
});
