import type { Job } from 'bullmq';
import { compileFilter, FilerError, type PagedSource } from '@filer/core';
import { rootTask, splitStack, walkPaged, type DirTask, type WalkSink, type WalkStats } from '@filer/engine';
import { isInsideAllowedS3 } from '@filer/storage';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { keys } from './redis-keys.js';
import { s3Access } from './s3-access.js';
import { reportProgress, type Reported, type ScanShardData, type WalkEnd } from './scan-walk.js';
import { SkippingSource } from './skipping-source.js';

/** How often a running S3 shard reports progress and looks for a cancel. */
const REPORT_MS = 500;
/** How long a shard's recorded split is kept (as long as a cancel flag). */
const SPLIT_TTL_S = 30 * 86_400;

/**
 * Walks a shard's S3 prefixes — `DirTask`s exactly like directories: one prefix level each,
 * listed with Delimiter '/', its common prefixes pushed as new tasks — with the engine's paged
 * walk until the shard's entry budget is spent; the prefixes not started become child shards, so
 * a bucket with millions of keys is listed by many workers at once.
 *
 * A prefix is never split between shards: once the budget is spent no new prefix starts, but one
 * being listed is listed to its last page (`finishStarted`; the shard may overshoot its budget by
 * what its at most 16 in-flight prefixes still hold). Resuming a half-listed prefix elsewhere
 * (StartAfter its last key) would bound the overshoot, but at the price of a listing state that a
 * retry would have to reproduce exactly.
 *
 * Which prefixes a shard gets to before its budget runs out depends on the order pages arrive, so
 * unlike a local shard a re-run could split differently and list some prefixes twice. The split
 * is therefore recorded in Redis (SET NX) before any child is added, and a re-run that finds it
 * lists exactly the first run's share: every prefix reachable from its tasks except the recorded
 * children's, with no budget. A run that finds another run's different split already recorded
 * (two runs at once, after a stalled lock) fails, and its retry follows the record.
 */
export async function walkS3Shard(
  ctx: ClusterContext,
  job: Job<ScanShardData>,
  stack: DirTask[],
  stats: WalkStats,
  sink: WalkSink,
): Promise<Exclude<WalkEnd, 'handed-back'>> {
  const data = job.data;
  const splitKey = keys.split(data.jobId, job.id!);
  const recorded = await ctx.redis.get(splitKey);
  const { s3, client } = await s3Access();
  if (data.root !== undefined) {
    try {
      // The API admitted it; checked again where it is opened, against the workers' own allow-list.
      if (!isInsideAllowedS3(data.root, ctx.config.allowedS3))
        throw new FilerError('E_PATH_NOT_ALLOWED', `root '${data.root}' is not inside an allowed bucket or prefix (FILER_ALLOWED_S3)`);
      await s3.checkS3Roots(client, [data.root]);
      stack.push(rootTask(data.root));
    } catch (e) {
      const err = e as FilerError;
      sink.error({ path: data.root, code: err.code ?? 'EIO', message: err.message });
    }
  }
  const listing = new s3.S3Source(client);
  if (recorded !== null) {
    const groups = JSON.parse(recorded) as DirTask[][];
    const source = new SkippingSource(listing, new Set(groups.flat().map((t) => t.path)));
    if ((await walk(ctx, data, source, stack, stats, sink, Infinity)) === 'cancelled') return 'cancelled';
    stats.dirs -= source.skipped;
    return groups;
  }
  if ((await walk(ctx, data, listing, stack, stats, sink, ctx.config.shardBudget)) === 'cancelled') return 'cancelled';
  const groups = splitStack(stack);
  const text = JSON.stringify(groups);
  if ((await ctx.redis.set(splitKey, text, 'EX', SPLIT_TTL_S, 'NX')) === null && (await ctx.redis.get(splitKey)) !== text)
    throw new FilerError('E_CONFLICT', `scan shard ${job.id} ran twice at once and split differently: its retry lists the recorded share`);
  return groups;
}

/** The paged walk with live progress and cancel checks on a timer (the walk awaits its listings, so the lock keeps being renewed). */
async function walk(
  ctx: ClusterContext,
  data: ScanShardData,
  source: PagedSource,
  stack: DirTask[],
  stats: WalkStats,
  sink: WalkSink,
  budget: number,
): Promise<'done' | 'cancelled'> {
  let cancelled = false;
  let reported: Reported = { entries: 0, dirs: 0, matched: 0 };
  let reporting = Promise.resolve();
  const report = async (): Promise<void> => {
    reported = await reportProgress(ctx, data.jobId, stats, reported);
    await publishEvent(ctx.redis, { id: data.jobId, type: 'progress' });
    if (await ctx.store.isCancelled(data.jobId)) cancelled = true;
  };
  const timer = setInterval(() => {
    reporting = reporting.then(report).catch(() => undefined);
  }, REPORT_MS);
  try {
    await walkPaged(source, stack, { filter: compileFilter(data.spec), statAll: true }, sink, stats, {
      shouldStop: () => cancelled || stats.entries >= budget,
      finishStarted: true,
    });
  } finally {
    clearInterval(timer);
    await reporting;
  }
  await reportProgress(ctx, data.jobId, stats, reported);
  return cancelled ? 'cancelled' : 'done';
}
