import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admitJob,
  deleteJob,
  newJobId,
  openClusterContext,
  QUEUES,
  RecordMirror,
  redisKeys,
  RetentionSweep,
  startApply,
  submitJob,
  type ClusterContext,
  type JobRecord,
} from '@filer/jobs';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';

const DAY = 86_400_000;

/** The retention sweep and DELETE's removal: record, mirrored copy, parts and journals together, never an undo still possible. */
describe('retention', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;
  let results: string;
  let n = 0;

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let f = 0; f < 12; f++) tree[`src/d${f % 3}/f${f}.txt`] = `content ${f}`;
    cluster = await startInProcessCluster({
      prefix: 'filer-retention-',
      tree,
      env: { FILER_BATCH_SHARD_SIZE: '5', FILER_WORKER_CONCURRENCY: '2' },
      queues: [QUEUES.scan, QUEUES.batch, QUEUES.finalize],
    });
    ({ ctx, root, results } = cluster);
  });

  afterAll(() => cluster.stop());

  const finishedFind = async (): Promise<JobRecord> => {
    const job = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/src'] }, ctx.allowedRoots));
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    return done;
  };

  /** A copy applied (so undoable): its journals are under `<results>/<job>/journal`. */
  const appliedCopy = async (): Promise<JobRecord> => {
    const dest = path.join(root, `dest-${n++}`);
    const job = await submitJob(ctx, admitJob({ kind: 'copy', roots: [root + '/src'], options: { dest } }, ctx.allowedRoots));
    expect((await waitFor(ctx, job.id, ['planned', 'failed'])).state).toBe('planned');
    expect(await startApply(ctx, job.id)).toBe(true);
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    expect(fs.readdirSync(path.join(results, job.id))).toContain('journal');
    return done;
  };

  const gone = async (id: string): Promise<void> => {
    expect(await ctx.store.get(id)).toBeUndefined();
    expect(fs.existsSync(path.join(results, id))).toBe(false);
    expect(await ctx.redis.exists(redisKeys.job(id), redisKeys.progress(id))).toBe(0);
    expect(await ctx.redis.zscore(redisKeys.index, id)).toBeNull();
  };

  it('give a finished record a Redis TTL of its retention plus a day, and an undoable one none', async () => {
    const find = await finishedFind();
    const ttl = await ctx.redis.ttl(redisKeys.job(find.id));
    expect(ttl).toBeGreaterThan(31 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(31 * 86_400);
    const copy = await appliedCopy();
    expect(await ctx.redis.ttl(redisKeys.job(copy.id))).toBe(-1);
  });

  it('sweep a finished job past its retention, keep a recent one, an undoable one and a running one', async () => {
    const old = await finishedFind();
    const undoable = await appliedCopy();
    // A job created 40 days ago that still runs (its record only: nothing is queued for it).
    const runningId = newJobId(Date.now() - 40 * DAY);
    await ctx.store.create({
      id: runningId,
      kind: 'find',
      spec: old.spec,
      state: 'running',
      createdAt: new Date(Date.now() - 40 * DAY).toISOString(),
    });
    const sweep = new RetentionSweep(ctx);
    // Today nothing is due.
    expect((await sweep.sweepOnce()).removed).toEqual([]);
    expect(fs.existsSync(path.join(results, old.id))).toBe(true);

    const report = await sweep.sweepOnce(Date.now() + 31 * DAY);
    expect(report.swept).toBe(true);
    expect(report.removed).toContain(old.id);
    expect(report.removed).not.toContain(undoable.id);
    expect(report.removed).not.toContain(runningId);
    await gone(old.id);
    expect((await ctx.store.get(undoable.id))?.state).toBe('completed');
    expect(fs.readdirSync(path.join(results, undoable.id))).toContain('journal');
    expect((await ctx.store.get(runningId))?.state).toBe('running');
  });

  it('sweep an undoable job only past FILER_RETENTION_UNDOABLE_DAYS when the operator set one', async () => {
    const undoable = await appliedCopy();
    const forcing = openClusterContext({ ...ctx.config, retentionUndoableDays: 60 });
    try {
      await forcing.redis.ping(); // a sweep skips its pass while the connection is not ready
      const sweep = new RetentionSweep(forcing);
      const early = await sweep.sweepOnce(Date.now() + 59 * DAY);
      expect(early.swept).toBe(true);
      expect(early.removed).not.toContain(undoable.id);
      expect((await sweep.sweepOnce(Date.now() + 61 * DAY)).removed).toContain(undoable.id);
      await gone(undoable.id);
    } finally {
      await forcing.close();
    }
  });

  it('remove a directory older than the retention whose record is gone, and keep a young one', async () => {
    const oldOrphan = newJobId(Date.now() - 40 * DAY);
    const youngOrphan = newJobId();
    for (const id of [oldOrphan, youngOrphan]) fs.mkdirSync(path.join(results, id, 'scan'), { recursive: true });
    const report = await new RetentionSweep(ctx).sweepOnce();
    expect(report.orphans).toEqual([oldOrphan]);
    expect(fs.existsSync(path.join(results, oldOrphan))).toBe(false);
    expect(fs.existsSync(path.join(results, youngOrphan))).toBe(true);
    fs.rmSync(path.join(results, youngOrphan), { recursive: true });
  });

  it('let one of several workers sweep at a time', async () => {
    const reports = await Promise.all([0, 1, 2].map(() => new RetentionSweep(ctx).sweepOnce()));
    expect(reports.filter((r) => r.swept)).toHaveLength(1);
    // The lock is released: the next pass sweeps.
    expect((await new RetentionSweep(ctx).sweepOnce()).swept).toBe(true);
  });

  it('delete on request: refuse an undoable job without force, never bring a deleted record back from a stale mirrored copy', async () => {
    const undoable = await appliedCopy();
    const refused = await deleteJob(ctx, undoable.id);
    expect(refused).toMatchObject({ status: 'conflict', state: 'completed' });
    expect(fs.existsSync(path.join(results, undoable.id))).toBe(true);
    const stale = (await new RecordMirror(results).read(undoable.id))!;
    expect(await deleteJob(ctx, undoable.id, { force: true })).toEqual({ status: 'deleted' });
    await gone(undoable.id);
    expect(await deleteJob(ctx, undoable.id, { force: true })).toEqual({ status: 'not-found' });
    // A copy left behind (a delete interrupted before the directory went) is not restored, nor can it be undone.
    await new RecordMirror(results).write(stale);
    await ctx.redis.del(redisKeys.restored);
    expect(await ctx.store.restoreLost()).not.toContain(undoable.id);
    expect(await ctx.store.update(undoable.id, (r) => void (r.state = 'undoing'), ['completed'])).toBeUndefined();
    expect(await ctx.redis.exists(redisKeys.job(undoable.id))).toBe(0);
  });
});
