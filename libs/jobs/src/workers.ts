import { Worker, type Job, type WorkerOptions } from 'bullmq';
import { runApplyShard, runHashShard, runUndoShard } from './batch-shards.js';
import type { ClusterContext } from './cluster-context.js';
import { runFinalize } from './finalize.js';
import { QUEUE_PREFIX, QUEUES, type QueueName } from './queues.js';
import { runScanShard } from './scan-shard.js';
import type { ShardResult } from './shard-result.js';

/** Hooks for the worker apps' logs and metrics: the jobs library itself stays free of both. */
export interface ShardObserver {
  started?(job: Job): void;
  finished?(job: Job, result: ShardResult | undefined, seconds: number): void;
  failed?(job: Job | undefined, error: Error): void;
}

type Processor = (ctx: ClusterContext, job: Job) => Promise<ShardResult | void>;

const PROCESSORS: Record<string, Processor> = {
  scan: runScanShard,
  hash: runHashShard,
  apply: runApplyShard,
  undo: runUndoShard,
  finalize: runFinalize,
};

/**
 * Stalled-job settings: a worker renews its lock every lockDuration/2; a job whose lock lapsed
 * (its worker was killed) is taken back after at most lockDuration + stalledInterval and run
 * again, up to maxStalledCount times. Shards are idempotent, so running one twice is safe.
 */
export function startWorker(ctx: ClusterContext, queue: QueueName, observer: ShardObserver = {}): Worker {
  const opts: WorkerOptions = {
    connection: ctx.connect(),
    prefix: QUEUE_PREFIX,
    concurrency: ctx.config.concurrency,
    lockDuration: ctx.config.lockDurationMs,
    stalledInterval: ctx.config.stalledIntervalMs,
    maxStalledCount: ctx.config.maxStalledCount,
  };
  const worker = new Worker(
    queue,
    async (job: Job) => {
      const run = PROCESSORS[job.name];
      if (run === undefined) throw new Error(`no processor for ${job.name} jobs on ${queue}`);
      observer.started?.(job);
      const t0 = performance.now();
      const result = await run(ctx, job);
      observer.finished?.(job, result ?? undefined, (performance.now() - t0) / 1000);
      return result;
    },
    opts,
  );
  worker.on('failed', (job, err) => observer.failed?.(job, err));
  worker.on('error', (err) => observer.failed?.(undefined, err));
  return worker;
}

/** The queues each worker app consumes. */
export const WORKER_QUEUES = {
  scanner: [QUEUES.scan],
  batch: [QUEUES.batch, QUEUES.finalize],
} as const;
