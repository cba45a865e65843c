import type { JobsOptions } from 'bullmq';
import type { ClusterConfig } from './config.js';

/**
 * The queues, in one place. `scan` feeds scanner workers; `batch` (hash, apply, undo shards)
 * and `finalize` (the parent of each phase's shards, which sums their results and starts the
 * next phase) feed batch workers.
 */
export const QUEUES = { scan: 'filer-scan', batch: 'filer-batch', finalize: 'filer-finalize' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export const ALL_QUEUES: readonly QueueName[] = [QUEUES.scan, QUEUES.batch, QUEUES.finalize];

/** BullMQ's key prefix: one Redis can serve several clusters by changing it. */
export const QUEUE_PREFIX = 'filer';

/**
 * Options of every shard: retried with exponential backoff; a shard that still fails is recorded
 * on its parent instead of blocking it (`ignoreDependencyOnFailure`), so the finalizer always runs
 * and can fail the job with a clear reason. Finished shards are kept for a day: their ids are
 * what makes a re-added shard a no-op.
 */
export function shardJobOptions(config: ClusterConfig, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: config.attempts,
    backoff: { type: 'exponential', delay: 500 },
    ignoreDependencyOnFailure: true,
    removeOnComplete: { age: 86_400 },
    removeOnFail: { age: 7 * 86_400 },
  };
}

export function finalizeJobOptions(config: ClusterConfig, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: config.attempts,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 86_400 },
    removeOnFail: { age: 7 * 86_400 },
  };
}
