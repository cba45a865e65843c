import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClusterContext, QUEUES, readClusterConfig, type ClusterContext } from '@filer/jobs';
import { startCluster, type ClusterHandle } from '@filer/testing';

const FILES = 40;

interface Job {
  id: string;
  state: string;
  code?: string;
  message?: string;
  errorSample: { path: string; code: string; message: string }[];
  apply?: { done: number };
}

/**
 * Battery 20: real processes running as an unprivileged user (as the image runs them). One root
 * of the job cannot be read (chmod 000) and one apply shard fails on every attempt, because the
 * results volume holds a directory where its journal must be: the job reaches a final state in
 * seconds, failed with that shard's code, listing both failures, and no finalizer is left
 * waiting for its children.
 */
describe('a shard that fails on every attempt', () => {
  let cluster: ClusterHandle;
  let ctx: ClusterContext;
  let base: string;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-shard-failures-'));
    fs.chmodSync(base, 0o777);
    for (let i = 0; i < FILES; i++) {
      fs.mkdirSync(path.join(base, 'open', `d${i % 4}`), { recursive: true });
      fs.writeFileSync(path.join(base, 'open', `d${i % 4}`, `f${i}.txt`), `file ${i}\n`);
    }
    fs.mkdirSync(path.join(base, 'locked'));
    fs.writeFileSync(path.join(base, 'locked', 'secret.txt'), 'unreadable to the workers\n');
    fs.chmodSync(path.join(base, 'locked'), 0o000);
    cluster = await startCluster({
      allowedRoots: [base],
      user: { user: 'nobody', group: 'nogroup' },
      env: {
        FILER_SHARD_ATTEMPTS: '3',
        FILER_BATCH_SHARD_SIZE: '10',
        FILER_LOCK_DURATION_MS: '2000',
        FILER_STALLED_INTERVAL_MS: '1000',
      },
    });
    ctx = openClusterContext(
      readClusterConfig({ FILER_REDIS_URL: cluster.redis.url, FILER_RESULTS_DIR: cluster.resultsDir, FILER_ALLOWED_ROOTS: base }),
    );
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    await cluster?.stop();
    if (base) {
      fs.chmodSync(path.join(base, 'locked'), 0o700);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  const get = async (id: string): Promise<Job> =>
    (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
  const waitUntil = async (id: string, ok: (j: Job) => boolean, timeoutMs = 60_000): Promise<Job> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await get(id);
      if (ok(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${job.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('ends the job failed within 30 s with the shard’s code, listing both failures; its parent completed', async () => {
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'copy', roots: [path.join(base, 'open'), path.join(base, 'locked')], options: { dest: path.join(base, 'out') } },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as Job;
    const planned = await waitUntil(id, (j) => j.state !== 'queued' && j.state !== 'running');
    expect(planned.state, planned.message).toBe('planned');
    expect(planned.errorSample).toEqual([expect.objectContaining({ path: path.join(base, 'locked'), code: 'EACCES' })]);

    // The second apply shard's journal cannot be opened: a directory stands where the file must be.
    const journal = path.join(cluster.resultsDir, id, 'journal');
    fs.mkdirSync(path.join(journal, '00001.db'), { recursive: true });
    fs.chmodSync(journal, 0o777);
    const t0 = Date.now();
    const applied = await cluster.request('POST', `/v1/jobs/${id}/apply`, { token: cluster.tokens.write });
    expect(applied.status, await applied.clone().text()).toBe(202);
    const done = await waitUntil(id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    const seconds = (Date.now() - t0) / 1000;
    console.info(`a shard failing every attempt: job failed ${seconds.toFixed(1)} s after apply`);
    expect(seconds).toBeLessThan(30);
    expect(done.state).toBe('failed');
    // The state database's own FilerError: E_IO, naming the journal it could not open.
    expect(done.code).toBe('E_IO');
    expect(done.message).toMatch(/^1 apply shard\(s\) failed after every retry: E_IO: cannot open the state database/);
    expect(done.errorSample.map((e) => [e.path, e.code])).toEqual([
      [path.join(journal, '00001.db'), 'E_IO'],
      [path.join(base, 'locked'), 'EACCES'],
    ]);
    expect(done.errorSample[0].message).toContain(`apply shard ${id}-apply-00001 failed`);

    // BullMQ's side: the shard was attempted three times, the finalizer ran and is never left waiting for children.
    const shard = (await ctx.queues[QUEUES.batch].getJob(`${id}-apply-00001`))!;
    expect(await shard.getState()).toBe('failed');
    expect(shard.attemptsMade).toBe(3);
    const parent = (await ctx.queues[QUEUES.finalize].getJob(`${id}-final-apply`))!;
    expect(await parent.getState()).toBe('completed');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await parent.getState()).toBe('completed');
    // The other shards did their part: 30 of the 40 files were copied.
    const copied = fs.readdirSync(path.join(base, 'out'), { recursive: true }).filter((n) => String(n).endsWith('.txt'));
    expect(copied).toHaveLength(FILES - 10);
  }, 120_000);
});
