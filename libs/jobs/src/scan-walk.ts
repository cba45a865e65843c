// A scan shard's data, how its walk ends and its progress reports (scan-shard.ts), for the
// shard and the modules that queue scan shards.
import type { DirTask, WalkStats } from '@filer/engine';
import type { ClusterContext } from './cluster-context.js';
import type { JobData } from './job-contracts.js';
import { keys } from './redis-keys.js';

/** A scan shard's payload, as its contract (job-contracts.ts) describes and checks it. */
export type ScanShardData = JobData<'scan'>;

/** Adds a walk's counts since the last report to the job's live progress; returns the new baseline. */
export async function reportProgress(ctx: ClusterContext, jobId: string, stats: WalkStats, reported: Reported): Promise<Reported> {
  // Taken before the round trip: the walk goes on meanwhile, and what it counts then belongs to the next report.
  const now: Reported = { entries: stats.entries, dirs: stats.dirs, matched: stats.matched };
  await ctx.redis
    .multi()
    .hincrby(keys.progress(jobId), 'entries', now.entries - reported.entries)
    .hincrby(keys.progress(jobId), 'dirs', now.dirs - reported.dirs)
    .hincrby(keys.progress(jobId), 'matched', now.matched - reported.matched)
    .exec();
  return now;
}

export interface Reported {
  entries: number;
  dirs: number;
  matched: number;
}

/**
 * How a shard's walk ends: the tasks it hands to child shards (one group each), the job cancelled
 * meanwhile, or the walk stopped because the worker is stopping (the shard runs again elsewhere).
 */
export type WalkEnd = DirTask[][] | 'cancelled' | 'handed-back';
