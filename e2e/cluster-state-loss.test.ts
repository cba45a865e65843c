import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startCluster, type ClusterHandle } from '@filer/testing';
import { contentListing, writeWideTree } from './tree-fixtures.js';

const FILES = 10_000;

interface Job {
  id: string;
  state: string;
  code?: string;
  message?: string;
  apply?: { done: number };
}

/**
 * Battery 17: Redis loses every queue mid-move — restarted without persistence, or flushed. Real
 * processes; the API reads records back from the results volume, the batch worker's reconciler
 * fails the job with E_QUEUE_STATE_LOST (never `completed`), no file is lost, and the apply is
 * finished from the journals on disk with `filer --server URL jobs resume ID` (`POST /v1/jobs/:id/resume`).
 */
describe('the cluster when Redis loses its state', () => {
  let cluster: ClusterHandle;
  let base: string;

  const call = async (method: string, url: string, token = cluster.tokens.write): Promise<{ status: number; body: unknown }> => {
    const res = await cluster.request(method, url, { token });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  const submit = async (spec: unknown): Promise<Job> => {
    const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
    expect(res.status, await res.clone().text()).toBe(202);
    return (await res.json()) as Job;
  };
  const get = async (id: string): Promise<Job | undefined> => {
    try {
      const res = await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read });
      return res.status === 200 ? ((await res.json()) as Job) : undefined;
    } catch {
      return undefined;
    }
  };
  /** Polls the job until `ok`, remembering every state it was seen in. */
  const watch = async (id: string, ok: (j: Job) => boolean, seen: Set<string>, timeoutMs = 120_000): Promise<Job> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await get(id);
      if (job !== undefined) seen.add(job.state);
      if (job !== undefined && ok(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${job?.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Both trees once nothing moves any more (a shard in flight when Redis went may still finish its batch). */
  const quietListing = async (src: string, dest: string): Promise<string[]> => {
    const both = (): string[] => [...contentListing(src), ...(fs.existsSync(dest) ? contentListing(dest) : [])].sort();
    let last = both();
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = both();
      if (now.join('\n') === last.join('\n')) return now;
      last = now;
    }
  };

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-state-loss-'));
    // No AOF and no snapshots: a restart starts empty. Short locks, small apply shards.
    cluster = await startCluster({
      allowedRoots: [base],
      aof: false,
      env: {
        FILER_BATCH_SHARD_SIZE: '250',
        FILER_LOCK_DURATION_MS: '2000',
        FILER_STALLED_INTERVAL_MS: '1000',
        FILER_WORKER_CONCURRENCY: '2',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }, 300_000);

  it.each([
    ['restarted without persistence', (): Promise<void> => cluster.redis.restart()],
    [
      'flushed (FLUSHALL)',
      async (): Promise<void> => {
        const client = new Redis(cluster.redis.url);
        try {
          await client.flushall();
        } finally {
          client.disconnect();
        }
      },
    ],
  ])(
    'Redis %s mid-move: the job fails with queue-state-lost within 60 s, no file is lost, and resume finishes it',
    async (how, lose) => {
      const src = path.join(base, `src-${how.split(' ')[0]}`);
      const dest = path.join(base, `dest-${how.split(' ')[0]}`);
      writeWideTree(src, FILES);
      const before = contentListing(src);
      const earlier = await submit({ kind: 'find', roots: [src], options: { format: 'paths' } });
      await watch(earlier.id, (j) => j.state === 'completed', new Set());
      const move = await submit({ kind: 'move', roots: [src], options: { dest }, apply: true });
      const seen = new Set<string>();
      await watch(
        move.id,
        (j) => (j.state === 'applying' && fs.existsSync(dest) && contentListing(dest).length > 0) || j.state === 'failed',
        seen,
      );

      await lose();
      const lostAt = Date.now();
      // The records are still there, read back from the results volume (before any reconciler ran, or after).
      const { status, body } = await call('GET', `/v1/jobs/${move.id}`, cluster.tokens.read);
      expect(status).toBe(200);
      expect((body as Job).id).toBe(move.id);
      const listed = await call('GET', '/v1/jobs?limit=100', cluster.tokens.read);
      expect((listed.body as { jobs: Job[] }).jobs.map((j) => j.id)).toEqual(expect.arrayContaining([move.id, earlier.id]));

      const failed = await watch(move.id, (j) => ['failed', 'completed', 'cancelled'].includes(j.state), seen, 90_000);
      const seconds = (Date.now() - lostAt) / 1000;
      expect(failed.state, failed.message).toBe('failed');
      expect(seen.has('completed')).toBe(false);
      expect(failed.code).toBe('E_QUEUE_STATE_LOST');
      expect(failed.message).toMatch(/^queue-state-lost: /);
      expect(seconds).toBeLessThan(60);
      console.info(`Redis ${how}: job failed ${seconds.toFixed(1)} s after the loss`);
      // The job found earlier is still listed, still completed.
      expect((await get(earlier.id))?.state).toBe('completed');

      // No file lost: every file is in exactly one of the two trees, with its content.
      const partial = await quietListing(src, dest);
      expect(partial).toEqual(before);
      expect(contentListing(dest).length).toBeGreaterThan(0);
      expect(contentListing(dest).length).toBeLessThan(FILES);

      // The operator finishes the move with the CLI (which asks the API and follows the job to its
      // end): the apply starts again from the plan, each shard from its journal.
      const resumed = await runFiler(['--server', cluster.url, '--token', cluster.tokens.write, 'jobs', 'resume', move.id], {
        env: { FILER_TOKEN: '' },
        timeoutMs: 180_000,
      });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(new RegExp(`^filer: job ${move.id} completed: ${FILES} done, 0 undone, 0 failed, `, 'm'));
      const done = await watch(move.id, (j) => ['failed', 'completed', 'cancelled'].includes(j.state), seen);
      expect(done.state, done.message).toBe('completed');
      expect(done.apply?.done).toBe(FILES);
      expect(contentListing(dest)).toEqual(before);
      expect(contentListing(src)).toEqual([]);
      // Only once: a completed job is not resumed again.
      expect((await call('POST', `/v1/jobs/${move.id}/resume`)).status).toBe(409);
    },
    300_000,
  );
});
