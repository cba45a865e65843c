import type { PathError } from '@filer/core';
import type { JobCounters } from './job-record.js';

/** What every shard returns: its exact counts, summed by the phase's finalizer. */
export interface ShardResult {
  counters: JobCounters;
  /** The first few per-path errors of this shard. */
  errorSample: PathError[];
  /** Shards this one handed its unvisited directories to. */
  spawned: number;
  /** Phase-specific numbers (hash and apply shards). */
  extra?: Record<string, number>;
  cancelled?: boolean;
}

export const SHARD_ERROR_SAMPLE = 20;
