import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startCluster, type ClusterHandle } from '@filer/testing';
import { contentListing, writeWideTree } from './tree-fixtures.js';

const FILES = 20_000;

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { matched: number };
  shards: { done: number; total: number };
  apply?: { done: number; failed: number };
}

/** Real processes, really killed: a scanner and a batch worker SIGKILLed mid-job, Redis killed and restarted from its AOF. */
describe('cluster faults', () => {
  let cluster: ClusterHandle;
  let base: string;
  let tree: string;
  let expectedFind: string[];

  const submit = async (spec: unknown): Promise<Job> => {
    const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
    expect(res.status, await res.clone().text()).toBe(202);
    return (await res.json()) as Job;
  };
  const get = async (id: string): Promise<Job> =>
    (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
  const waitUntil = async (id: string, ok: (j: Job) => boolean, timeoutMs = 120_000): Promise<Job> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let job: Job | undefined;
      try {
        job = await get(id);
      } catch {
        job = undefined; // the API may be reconnecting to a restarted Redis
      }
      if (job !== undefined && ok(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${job?.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const final = (j: Job) => ['completed', 'failed', 'cancelled'].includes(j.state);
  const results = async (id: string): Promise<string[]> => {
    const res = await cluster.request('GET', `/v1/jobs/${id}/results`, { token: cluster.tokens.read });
    return (await res.text())
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  };
  const fileCount = (root: string): number => contentListing(root).length;
  // The workers log each shard taken back from a dead worker: proof that the kill hit shards in flight.
  const stalls = (): number => cluster.logs().split('shard stalled').length - 1;
  /** When each shard finished, from the workers' logs as they come. */
  const shardFinishedAt: number[] = [];

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-faults-'));
    tree = path.join(base, 'tree');
    writeWideTree(tree, FILES);
    const local = await runFiler(['find', tree, '--format', 'ndjson']);
    expectedFind = local.stdout
      .split('\n')
      .filter((l) => l !== '')
      .sort();
    // Short locks so a killed worker's shards are taken back within seconds; small shards so many are in flight.
    cluster = await startCluster({
      allowedRoots: [base],
      aof: true,
      onLine: (_name, line) => void (line.includes('"shard finished"') && shardFinishedAt.push(Date.now())),
      env: {
        FILER_SHARD_BUDGET: '300',
        FILER_BATCH_SHARD_SIZE: '500',
        FILER_LOCK_DURATION_MS: '2000',
        FILER_STALLED_INTERVAL_MS: '1000',
        FILER_WORKER_CONCURRENCY: '2',
      },
    });
  }, 180_000);

  // Four trees of 20,000 files to remove: slow on a busy disk.
  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }, 600_000);

  it('a scanner SIGKILLed mid-job: the job completes with exactly the same records', async () => {
    const stalled = stalls();
    const job = await submit({ kind: 'find', roots: [tree], options: { format: 'ndjson' } });
    await waitUntil(job.id, (j) => j.shards.done >= 2 || final(j));
    const scanner = cluster.workers.find((w) => w.name === 'scanner-1')!;
    await scanner.kill('SIGKILL');
    const done = await waitUntil(job.id, final);
    await scanner.restart();
    expect(done.state, done.message).toBe('completed');
    expect(done.counters.matched).toBe(FILES);
    expect(await results(job.id)).toEqual(expectedFind);
    expect(stalls()).toBeGreaterThan(stalled);
  });

  it('the batch worker SIGKILLed mid-move: every file arrives exactly once, none is lost', async () => {
    const src = path.join(base, 'move-src');
    const dest = path.join(base, 'move-dest');
    writeWideTree(src, FILES);
    const before = contentListing(src);
    const stalled = stalls();
    const job = await submit({ kind: 'move', roots: [src], options: { dest }, apply: true });
    await waitUntil(job.id, (j) => (j.state === 'applying' && fs.existsSync(dest)) || final(j));
    // Let some shards finish and others be mid-way, then crash the only batch worker.
    await new Promise((r) => setTimeout(r, 150));
    const batch = cluster.workers.find((w) => w.name === 'batch-1')!;
    await batch.kill('SIGKILL');
    const movedAtCrash = fs.existsSync(dest) ? fileCount(dest) : 0;
    await batch.restart();
    const done = await waitUntil(job.id, final);
    expect(done.state, done.message).toBe('completed');
    expect(done.apply?.done).toBe(FILES);
    expect(movedAtCrash).toBeLessThan(FILES); // the crash did land mid-apply
    expect(stalls()).toBeGreaterThan(stalled);
    expect(contentListing(dest)).toEqual(before);
    expect(fileCount(src)).toBe(0);
  });

  it('Redis killed and restarted from its AOF mid-job: the workers carry on and both jobs complete exactly', async () => {
    const src = path.join(base, 'redis-src');
    const dest = path.join(base, 'redis-dest');
    writeWideTree(src, FILES);
    const before = contentListing(src);
    const find = await submit({ kind: 'find', roots: [tree], options: { format: 'ndjson' } });
    const move = await submit({ kind: 'move', roots: [src], options: { dest }, apply: true });
    await waitUntil(move.id, (j) => j.state === 'applying' || final(j));
    // Battery 16: down for 5 s, then back from its AOF; no worker is restarted.
    await cluster.redis.restart({ downMs: 5000 });
    const restartedAt = Date.now();
    const [f, m] = [await waitUntil(find.id, final), await waitUntil(move.id, final)];
    const resumedAfter = (shardFinishedAt.find((t) => t > restartedAt) ?? Infinity) - restartedAt;
    console.info(`AOF restart: first shard finished ${resumedAfter} ms after Redis was back`);
    expect(resumedAfter).toBeLessThan(30_000);
    expect(f.state, f.message).toBe('completed');
    expect(await results(find.id)).toEqual(expectedFind);
    expect(m.state, m.message).toBe('completed');
    expect(m.apply?.done).toBe(FILES);
    expect(contentListing(dest)).toEqual(before);
    expect(fs.existsSync(src) ? fileCount(src) : 0).toBe(0);
  }, 240_000);
});
