import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import {
  admitJob,
  contractJob,
  finalizeJobOptions,
  JobName,
  journalPath,
  newJobId,
  QUEUES,
  shardJobOptions,
  startApply,
  submitJob,
  type ClusterContext,
  type QueueName,
} from '@filer/jobs';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';
import { openStateDb, SqliteJournal } from '@filer/storage/state';

async function settled(job: Job, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return state;
    if (Date.now() > deadline) throw new Error(`shard ${job.id} is still ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)}\t${fs.readFileSync(p, 'utf8')}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** Shards that fail, and shards delivered twice: real BullMQ on a real Redis, workers in this process. */
describe('shard failures and duplicate delivery', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;
  let results: string;
  const ATTEMPTS = 3;

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let f = 0; f < 60; f++) tree[`src/d${f % 3}/f${f}.txt`] = `content ${f}`;
    for (let f = 0; f < 60; f++) tree[`other/d${f % 3}/f${f}.txt`] = `other ${f}`;
    cluster = await startInProcessCluster({
      prefix: 'filer-failures-',
      tree,
      env: {
        FILER_BATCH_SHARD_SIZE: '20',
        FILER_SHARD_ATTEMPTS: String(ATTEMPTS),
        FILER_WORKER_CONCURRENCY: '2',
      },
      queues: [QUEUES.scan, QUEUES.batch, QUEUES.finalize],
    });
    ({ ctx, root, results } = cluster);
  });

  afterAll(() => cluster.stop());

  const add = (queue: QueueName, name: string, data: object, id: string): Promise<Job> =>
    ctx.queues[queue].add(name, data, shardJobOptions(ctx.config, id));

  it('a non-retryable FilerError is attempted once; another error every attempt, its code recorded', async () => {
    // A payload naming a path outside the results directory as its job: refused before anything runs.
    const bad = await add(
      QUEUES.batch,
      JobName.hash,
      { jobId: '../../etc', part: '00000', algorithm: 'xxh128', includeEmpty: false },
      'bad-payload',
    );
    expect(await settled(bad)).toBe('failed');
    const badDone = (await ctx.queues[QUEUES.batch].getJob('bad-payload'))!;
    expect(badDone.attemptsMade).toBe(1);
    expect(badDone.failedReason).toMatch(/^E_INVALID_ARGUMENT: hash shard bad-payload: jobId "..\/..\/etc" is not a job id/);

    // A hash shard whose input part is missing: an ENOENT, which could pass, so it is retried to the end.
    const jobId = '0000000000missing';
    const missing = await add(
      QUEUES.batch,
      JobName.hash,
      { jobId, part: '00000', algorithm: 'xxh128', includeEmpty: false },
      `${jobId}-hash-00000`,
    );
    expect(await settled(missing)).toBe('failed');
    expect((await ctx.queues[QUEUES.batch].getJob(`${jobId}-hash-00000`))!.attemptsMade).toBe(ATTEMPTS);
    const recorded = JSON.parse((await ctx.redis.hget(`filer:job:${jobId}:failures`, `${jobId}-hash-00000`))!) as { code: string };
    expect(recorded.code).toBe('ENOENT');
  });

  it('a job on another queue than its contract’s finds no handler there, and is attempted once', async () => {
    const scanOnBatch = await add(QUEUES.batch, JobName.scan, { jobId: '0000000000wrongq' }, 'scan-on-batch');
    expect(await settled(scanOnBatch)).toBe('failed');
    const done = (await ctx.queues[QUEUES.batch].getJob('scan-on-batch'))!;
    expect(done.attemptsMade).toBe(1);
    expect(done.failedReason).toBe('E_INVALID_ARGUMENT: no handler for scan jobs on filer-batch');
  });

  /**
   * A running dupes job whose hash phase is one shard with `data` as its payload, exactly as given:
   * as an older or foreign producer might write it (no contract builds one like this). Returns the job's id.
   */
  async function hashShardAsGiven(data: (id: string) => Record<string, unknown>): Promise<string> {
    const id = newJobId();
    await ctx.store.create({
      id,
      kind: 'dupes',
      spec: admitJob({ kind: 'dupes', roots: [root + '/src'] }, ctx.allowedRoots),
      state: 'running',
      createdAt: new Date().toISOString(),
    });
    const shard = { name: JobName.hash, queueName: QUEUES.batch, opts: shardJobOptions(ctx.config, `${id}-hash-00000`) };
    await ctx.flows.add({
      ...contractJob(JobName.finalize, { jobId: id, phase: 'hash' }, finalizeJobOptions(ctx.config, `${id}-final-hash`)),
      children: [{ ...shard, data: data(id) }],
    });
    return id;
  }

  it('a shard whose payload breaks its contract fails its job with E_INVALID_ARGUMENT, the field named', async () => {
    const id = await hashShardAsGiven((id) => ({ jobId: id, part: '00000', algorithm: 'md5', includeEmpty: false }));
    const failed = await waitFor(ctx, id, ['failed', 'completed']);
    expect(failed.state).toBe('failed');
    expect(failed.code).toBe('E_INVALID_ARGUMENT');
    expect(failed.message).toMatch(
      new RegExp(
        `^1 hash shard\\(s\\) failed after every retry: E_INVALID_ARGUMENT: hash shard ${id}-hash-00000: algorithm "md5" is invalid`,
      ),
    );
    expect(failed.errorSample[0]).toMatchObject({ path: `${id}-hash-00000`, code: 'E_INVALID_ARGUMENT' });
    expect((await ctx.queues[QUEUES.batch].getJob(`${id}-hash-00000`))!.attemptsMade).toBe(1);
  });

  it('a shard whose payload names no job cannot record its failure: its job still fails with the code', async () => {
    const id = await hashShardAsGiven(() => ({ jobId: 'not/a/job', part: '00000', algorithm: 'xxh128', includeEmpty: false }));
    const failed = await waitFor(ctx, id, ['failed', 'completed']);
    expect(failed).toMatchObject({ state: 'failed', code: 'E_INVALID_ARGUMENT' });
    expect(failed.message).toContain(`hash shard ${id}-hash-00000: jobId "not/a/job" is not a job id`);
    expect(await ctx.redis.hlen(`filer:job:${id}:failures`)).toBe(0);
  });

  it('a shard that fails every attempt ends its job failed with the shard’s code, its parent completed', async () => {
    const dest = path.join(root, 'copied');
    const job = await submitJob(ctx, admitJob({ kind: 'copy', roots: [root + '/other'], options: { dest } }, ctx.allowedRoots));
    await waitFor(ctx, job.id, ['planned']);
    // Where the apply shards keep their journals, the results volume holds a file: every attempt fails (EEXIST).
    fs.mkdirSync(path.join(results, job.id), { recursive: true });
    fs.writeFileSync(path.dirname(journalPath(ctx, job.id, '00000')), 'in the way');
    const t0 = Date.now();
    expect(await startApply(ctx, job.id)).toBe(true);
    const failed = await waitFor(ctx, job.id, ['failed', 'completed']);
    const seconds = (Date.now() - t0) / 1000;
    expect(failed.state).toBe('failed');
    expect(failed.code).toBe('EEXIST');
    expect(failed.message).toMatch(/^3 apply shard\(s\) failed after every retry: EEXIST: /);
    expect(failed.shards.failed).toBe(3);
    // Every failed shard is listed, each with its code.
    expect(failed.errorSample.filter((e) => e.code === 'EEXIST').map((e) => e.path)).toEqual([
      `${job.id}-apply-00000`,
      `${job.id}-apply-00001`,
      `${job.id}-apply-00002`,
    ]);
    // Three attempts with 0.5 s and 1 s of backoff between them: bounded, whatever the machine.
    expect(seconds).toBeLessThan(20);
    const parent = (await ctx.queues[QUEUES.finalize].getJob(`${job.id}-final-apply`))!;
    expect(await parent.getState()).toBe('completed');
    expect(fs.existsSync(dest)).toBe(false);
  });

  /** Removes each completed shard of a job (as removeOnComplete does), adds it again under the same id, and waits for it. */
  async function deliverAgain(jobId: string, queue: QueueName, name: string): Promise<number> {
    const first = (await ctx.queues[queue].getJobs(['completed'])).filter((j) => j.name === name && j.data.jobId === jobId);
    for (const shard of first) {
      const { id, data } = shard;
      await shard.remove();
      const again = await add(queue, name, data, id!);
      expect(again.id).toBe(id);
      expect(await settled(again)).toBe('completed');
    }
    return first.length;
  }

  it('a completed scan shard delivered again after removal replaces its part: the results are the same', async () => {
    const job = await submitJob(ctx, admitJob({ kind: 'find', roots: [root + '/other'], options: { format: 'ndjson' } }, ctx.allowedRoots));
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    const dir = path.join(results, job.id, 'scan');
    const parts = (): string[] => fs.readdirSync(dir).sort();
    const content = (): string[] => parts().map((p) => fs.readFileSync(path.join(dir, p), 'utf8'));
    const [partsBefore, contentBefore] = [parts(), content()];
    expect(
      contentBefore
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
    ).toHaveLength(60);
    expect(await deliverAgain(job.id, QUEUES.scan, JobName.scan)).toBe(partsBefore.length);
    expect(parts()).toEqual(partsBefore);
    expect(content()).toEqual(contentBefore);
    const after = (await ctx.store.get(job.id))!;
    expect(after).toMatchObject({ state: 'completed', counters: done.counters, results: 60 });
  });

  it('a completed apply shard delivered again after removal applies nothing twice', async () => {
    const dest = path.join(root, 'moved');
    const job = await submitJob(ctx, admitJob({ kind: 'move', roots: [root + '/src'], options: { dest }, apply: true }, ctx.allowedRoots));
    const done = await waitFor(ctx, job.id, ['completed', 'failed']);
    expect(done.state, done.message).toBe('completed');
    expect(done.apply?.done).toBe(60);
    const moved = listing(dest);
    const journals = (): string[] =>
      fs
        .readdirSync(path.dirname(journalPath(ctx, job.id, '00000')))
        .filter((n) => n.endsWith('.db'))
        .sort()
        .flatMap((n) => {
          const db = openStateDb(path.join(path.dirname(journalPath(ctx, job.id, '00000')), n));
          try {
            const journal = new SqliteJournal(db);
            return journal.actions(journal.list(1)[0].id).map((a) => `${a.source} ${a.target} ${a.state}`);
          } finally {
            db.close();
          }
        });
    const before = journals();
    expect(before).toHaveLength(60);
    // The source files come back under their old names: a move applied again would take them.
    const decoys = ['src/d0/f0.txt', 'src/d1/f1.txt'];
    for (const d of decoys) fs.writeFileSync(path.join(root, d), 'a new file under an old name');
    expect(await deliverAgain(job.id, QUEUES.batch, JobName.apply)).toBe(3);
    expect(journals()).toEqual(before);
    expect(listing(dest)).toEqual(moved);
    for (const d of decoys) expect(fs.readFileSync(path.join(root, d), 'utf8')).toBe('a new file under an old name');
    const after = (await ctx.store.get(job.id))!;
    expect(after).toMatchObject({ state: 'completed', counters: done.counters, apply: done.apply });
  });
});
