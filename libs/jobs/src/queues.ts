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

/** BullMQ's largest priority (2^21): later shards of the biggest jobs share it. */
export const LOWEST_PRIORITY = 2_097_152;

/**
 * Fairness between jobs: a shard's BullMQ priority is its ordinal within its job's phase (the
 * n-th shard enqueued for it; 1 = most urgent), so every job's n-th shard runs before any job's
 * (n+1)-th. A small job submitted while a 10M-file job has hundreds of shards queued gets its
 * first shard picked next, ahead of them, and jobs of any size interleave shard by shard rather
 * than first come, first served. Finalizers have none: unprioritized jobs go first in BullMQ.
 */
export function shardPriority(ordinal: number): number {
  return Math.min(LOWEST_PRIORITY, Math.max(1, Math.floor(ordinal)));
}

/**
 * Options of every shard: retried with exponential backoff; a shard that still fails is recorded
 * on its parent instead of blocking it (`ignoreDependencyOnFailure`), so the finalizer always runs
 * and can fail the job with a clear reason. Finished shards are kept for a day: their ids are
 * what makes a re-added shard a no-op. `ordinal` is the shard's place in its job's phase (its
 * priority: `shardPriority`).
 */
export function shardJobOptions(config: ClusterConfig, jobId: string, ordinal = 1): JobsOptions {
  return {
    jobId,
    priority: shardPriority(ordinal),
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
