import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { admitJob, QUEUES, runFinalize, submitJob, type ClusterContext, type FinalizeData, type JobRecord } from '@filer/jobs';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';

const files = (dir: string): string[] =>
  fs.existsSync(dir)
    ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((n) => fs.statSync(path.join(dir, n)).isFile()).sort()
    : [];

/**
 * The scan phase's finalizer runs again when the batch worker running it dies (BullMQ takes it
 * back): after the plan was stored, possibly after the apply had begun. Found by battery 15: a
 * kill between "applying" and queueing the apply shards left the job with no shard to run, and
 * the reconciler failed it (queue-state-lost). A re-run must finish what the first run started,
 * and never plan again over a tree the apply is changing.
 */
describe('a scan finalizer run again after its worker died', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;
  let results: string;

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let f = 0; f < 30; f++) tree[`src/d${f % 3}/f${f}.txt`] = `content ${f}`;
    cluster = await startInProcessCluster({
      prefix: 'filer-rerun-',
      tree,
      env: {
        FILER_BATCH_SHARD_SIZE: '10',
      },
      queues: [QUEUES.scan, QUEUES.finalize, QUEUES.batch],
    });
    ({ ctx, root, results } = cluster);
  });

  afterAll(() => cluster.stop());

  /** A move planned (not applied), its scan finalizer done: the state a crash would leave, before the change below. */
  async function plannedMove(name: string): Promise<{ rec: JobRecord; dest: string; finalizer: Job<FinalizeData>; plan: string }> {
    const src = path.join(root, name);
    fs.cpSync(path.join(root, 'src'), src, { recursive: true });
    const dest = path.join(root, `${name}-dest`);
    const submitted = await submitJob(ctx, admitJob({ kind: 'move', roots: [src], options: { dest } }, ctx.allowedRoots));
    const rec = await waitFor(ctx, submitted.id, ['planned', 'failed']);
    expect(rec.state, rec.message).toBe('planned');
    const finalizer = (await ctx.queues[QUEUES.finalize].getJob(`${rec.id}-final-scan`)) as Job<FinalizeData>;
    expect(finalizer).toBeDefined();
    const plan = fs.readFileSync(path.join(results, rec.id, 'plan', 'all.ndjson'), 'utf8');
    return { rec, dest, finalizer, plan };
  }

  it('applying, with no apply shard queued (killed before they were): the re-run queues them and the move completes', async () => {
    const { rec, dest, finalizer, plan } = await plannedMove('a');
    // What startApply had done when its worker died: the record says applying, nothing is queued.
    await ctx.store.update(
      rec.id,
      (r) => {
        r.state = 'applying';
        r.phase = 'apply';
      },
      ['planned'],
    );
    await runFinalize(ctx, finalizer);
    const done = await waitFor(ctx, rec.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    expect(done.apply).toMatchObject({ done: 30, failed: 0 });
    expect(files(dest)).toHaveLength(30);
    expect(files(path.join(root, 'a'))).toEqual([]);
    // The stored plan is the one that was applied, not a new one made over the moved tree.
    expect(fs.readFileSync(path.join(results, rec.id, 'plan', 'all.ndjson'), 'utf8')).toBe(plan);
  });

  it('planned with apply asked for (killed before the apply began): the re-run starts it', async () => {
    const { rec, dest, finalizer } = await plannedMove('b');
    await ctx.store.update(rec.id, (r) => void (r.spec.apply = true));
    await runFinalize(ctx, finalizer);
    const done = await waitFor(ctx, rec.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    expect(files(dest)).toHaveLength(30);
  });

  it('after the apply completed: the re-run changes nothing, the plan and the record stay as they were', async () => {
    const src = path.join(root, 'c');
    fs.cpSync(path.join(root, 'src'), src, { recursive: true });
    const dest = path.join(root, 'c-dest');
    const submitted = await submitJob(ctx, admitJob({ kind: 'move', roots: [src], options: { dest }, apply: true }, ctx.allowedRoots));
    const done = await waitFor(ctx, submitted.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    const plan = fs.readFileSync(path.join(results, done.id, 'plan', 'all.ndjson'), 'utf8');
    const finalizer = (await ctx.queues[QUEUES.finalize].getJob(`${done.id}-final-scan`)) as Job<FinalizeData>;
    await runFinalize(ctx, finalizer);
    expect(fs.readFileSync(path.join(results, done.id, 'plan', 'all.ndjson'), 'utf8')).toBe(plan);
    expect(plan).not.toContain('"conflict"');
    const after = (await ctx.store.get(done.id))!;
    expect({ ...after, rev: 0 }).toEqual({ ...done, rev: 0 });
  });
});
