import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitJob, submitJob, QUEUES, type ClusterContext } from '@filer/jobs';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';

async function lines(ctx: ClusterContext, id: string, kind: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of ctx.results.lines(id, kind)) out.push(l);
  return out;
}

describe('jobs over BullMQ, workers in this process', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let d = 0; d < 30; d++) for (let f = 0; f < 20; f++) tree[`src/d${d}/sub/f${f}.txt`] = `content ${f % 7}`;
    cluster = await startInProcessCluster({
      prefix: 'filer-jobs-',
      tree,
      env: {
        FILER_SHARD_BUDGET: '100',
        FILER_BATCH_SHARD_SIZE: '50',
        FILER_WORKER_CONCURRENCY: '2',
      },
      queues: [QUEUES.scan, QUEUES.batch, QUEUES.finalize],
    });
    ({ ctx, root } = cluster);
  });

  afterAll(() => cluster.stop());

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

  it("a paths job writes find records of unstat'ed files (size and mtime null), stat'ed ones where a bound needs it", async () => {
    // Its shards format whole directories natively ('ndjson-nostat'): the bytes must be entryToJson's.
    const unstated = await submitJob(
      ctx,
      admitJob({ kind: 'find', roots: [root + '/src'], options: { format: 'paths' } }, ctx.allowedRoots),
    );
    const bounded = await submitJob(
      ctx,
      admitJob({ kind: 'find', roots: [root + '/src'], filter: { minSize: 1 }, options: { format: 'paths' } }, ctx.allowedRoots),
    );
    for (const job of [unstated, bounded]) expect((await waitFor(ctx, job.id, ['completed', 'failed'])).state).toBe('completed');
    const records = async (id: string): Promise<string[]> => (await lines(ctx, id, 'scan')).sort();
    const want = (withStat: boolean): string[] =>
      Array.from({ length: 30 }, (_, d) => Array.from({ length: 20 }, (_, f) => path.join(root, `src/d${d}/sub/f${f}.txt`)))
        .flat()
        .map((p) => {
          const st = fs.statSync(p);
          return JSON.stringify({
            path: p,
            type: 'file',
            size: withStat ? st.size : null,
            mtime: withStat ? new Date(st.mtimeMs).toISOString() : null,
          });
        })
        .sort();
    expect(await records(unstated.id)).toEqual(want(false));
    expect(await records(bounded.id)).toEqual(want(true));
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
