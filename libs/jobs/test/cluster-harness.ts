import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'bullmq';
import { makeTree, startRedis, type RedisHandle } from '@filer/testing';
import { openClusterContext, readClusterConfig, startWorker, type ClusterContext, type JobRecord, type QueueName } from '@filer/jobs';

/** What the libs/jobs tests share: a real Redis of their own, a results directory, a tree under the one allowed root, workers in this process. */
export interface InProcessCluster {
  redis: RedisHandle;
  ctx: ClusterContext;
  root: string;
  results: string;
  stop(): Promise<void>;
}

export async function startInProcessCluster(opts: {
  prefix: string;
  tree: Record<string, string>;
  env: Record<string, string>;
  queues: QueueName[];
}): Promise<InProcessCluster> {
  const redis = await startRedis();
  const results = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.prefix}results-`));
  const root = makeTree(opts.tree, { prefix: `${opts.prefix}tree-` }).root;
  const ctx = openClusterContext(
    readClusterConfig({ FILER_REDIS_URL: redis.url, FILER_RESULTS_DIR: results, FILER_ALLOWED_ROOTS: root, ...opts.env }),
  );
  const workers: Worker[] = opts.queues.map((q) => startWorker(ctx, q));
  return {
    redis,
    ctx,
    root,
    results,
    async stop() {
      await Promise.all(workers.map((w) => w.close()));
      await ctx.close();
      await redis.stop();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(results, { recursive: true, force: true });
    },
  };
}

/** The job's record once it is in one of `states` (polled: the tests watch what a client would). */
export async function waitFor(ctx: ClusterContext, id: string, states: string[], timeoutMs = 30_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = await ctx.store.get(id);
    if (rec !== undefined && states.includes(rec.state)) return rec;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${rec?.state}, not ${states.join('|')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
