import { createHash } from 'node:crypto';
import { FilerError, type FileEntry, type PathError } from '@filer/core';
import { emptyWalkStats, entryToJson, splitStack, type DirTask, type WalkSink, type WalkStats } from '@filer/engine';
import { openSource, type ShardWalker } from '@filer/storage';
import type { Job } from 'bullmq';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { emptyCounters } from './job-record.js';
import { addJob, contractJob, JobName } from './job-contracts.js';
import { shardJobOptions } from './queues.js';
import { keys } from './redis-keys.js';
import { sharedS3Client } from './s3-access.js';
import { reportProgress, type Reported, type ScanShardData, type WalkEnd } from './scan-walk.js';
import { ShardHandedBack, type ShardControl } from './shard-control.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';

export type { ScanShardData } from './scan-walk.js';

/** How often a running shard reports progress and looks for a cancel. */
const REPORT_MS = 250;
/** How long a shard's recorded split is kept (as long as a cancel flag). */
const SPLIT_TTL_S = 30 * 86_400;

/** Shard ids derive from (job, paths): a retried shard re-adds the same children, which BullMQ ignores. */
export function scanShardId(jobId: string, paths: readonly string[]): string {
  return `${jobId}-scan-${createHash('sha1').update(paths.join('\0')).digest('hex').slice(0, 24)}`;
}

/**
 * Walks one shard until its entry budget is spent — its source opened once by openSource, which
 * decides local or S3 and hands back the matching ShardWalker — writes its matches as one part,
 * and hands the directories or prefixes it did not reach to new shards of the same parent.
 */
export async function runScanShard(
  ctx: ClusterContext,
  job: Job<ScanShardData>,
  control: ShardControl = { stopping: () => false },
): Promise<ShardResult> {
  const data = job.data;
  const counters = emptyCounters();
  const errorSample: PathError[] = [];
  if (await ctx.store.isCancelled(data.jobId)) return { counters, errorSample, spawned: 0, cancelled: true };

  const part = await ctx.results.openPart(data.jobId, 'scan', job.id!);
  try {
    const onError = (e: PathError): void => {
      counters.errors++;
      counters.errorsByCode[e.code] = (counters.errorsByCode[e.code] ?? 0) + 1;
      if (errorSample.length < SHARD_ERROR_SAMPLE) errorSample.push(e);
    };
    const stats = emptyWalkStats();
    if (data.root !== undefined) {
      const running = await ctx.store.update(data.jobId, (r) => void (r.state = 'running'), ['queued']);
      if (running !== undefined) await publishEvent(ctx.redis, { id: data.jobId, type: 'state', state: 'running', phase: 'scan' });
    }
    const sink: WalkSink = {
      entry: (e: FileEntry): void => {
        counters.bytes += e.size ?? 0;
        part.write((data.records === 'find' ? entryToJson(e) : JSON.stringify(e)) + '\n');
      },
      error: onError,
    };
    // A find job's records are `filer find --format ndjson`'s (size and mtime null where the job's
    // format needs no stat, as `paths`): a local walk may have whole directories of them formatted
    // natively, as the CLI's walk does (WalkOptions.ndjson, the lister's 'ndjson-nostat' for paths).
    if (data.records === 'find')
      sink.records = (text, _count, bytes) => {
        counters.bytes += bytes;
        part.write(text);
      };
    const end = await walkShard(ctx, job, [...data.tasks].reverse(), stats, sink, control);
    if (end === 'cancelled') {
      await part.abort();
      return { counters, errorSample, spawned: 0, cancelled: true };
    }
    if (end === 'handed-back') {
      await part.abort();
      throw new ShardHandedBack(job.id);
    }
    const spawned = await spawnChildren(ctx, job, end);
    await part.commit();
    await ctx.redis.hincrby(keys.progress(data.jobId), 'shardsDone', 1);
    counters.dirs = stats.dirs;
    counters.entries = stats.entries;
    counters.matched = stats.matched;
    return { counters, errorSample, spawned };
  } catch (e) {
    await part.abort();
    throw e;
  }
}

/**
 * One shard's walk, whatever its source: the root seeded (and checked) when the shard has one,
 * the tasks walked until the budget is spent, the rest split by `splitStack` into child groups.
 *
 * Where the source's split can vary between runs (S3: which prefixes a shard reaches first depends
 * on the order pages arrive), a re-run could split differently and list some prefixes twice. The
 * split is therefore recorded in Redis (SET NX) before any child is added, and a re-run that finds
 * it lists exactly the first run's share: every task reachable from its own except the recorded
 * children's, with no budget. A run that finds another run's different split already recorded
 * (two runs at once, after a stalled lock) fails, and its retry follows the record.
 */
export async function walkShard(
  ctx: ClusterContext,
  job: Job<ScanShardData>,
  stack: DirTask[],
  stats: WalkStats,
  sink: WalkSink,
  control: ShardControl = { stopping: () => false },
): Promise<WalkEnd> {
  const data = job.data;
  const source = await openSource([data.root ?? data.tasks[0]?.path ?? ''], { s3Client: sharedS3Client });
  try {
    const walker = source.shardWalker(
      {
        spec: data.spec,
        statAll: data.statAll,
        identity: data.identity,
        listings: ctx.config.s3Listings,
        allowedRoots: ctx.allowedRoots,
        allowedS3: ctx.config.allowedS3,
      },
      sink,
      stats,
    );
    const splitKey = keys.split(data.jobId, job.id!);
    const recorded = walker.splitVaries ? await ctx.redis.get(splitKey) : null;
    if (data.root !== undefined) {
      try {
        stack.push(await walker.seed(data.root));
      } catch (e) {
        const err = e as FilerError;
        sink.error({ path: data.root, code: err.code ?? 'EIO', message: err.message });
      }
    }
    if (recorded !== null) {
      const groups = JSON.parse(recorded) as DirTask[][];
      const end = await walkReporting(ctx, data.jobId, walker, stack, stats, Infinity, control, new Set(groups.flat().map((t) => t.path)));
      return end === 'done' ? groups : end;
    }
    const end = await walkReporting(ctx, data.jobId, walker, stack, stats, ctx.config.shardBudget, control);
    if (end !== 'done') return end;
    const groups = splitStack(stack);
    if (walker.splitVaries) {
      const text = JSON.stringify(groups);
      if ((await ctx.redis.set(splitKey, text, 'EX', SPLIT_TTL_S, 'NX')) === null && (await ctx.redis.get(splitKey)) !== text)
        throw new FilerError(
          'E_CONFLICT',
          `scan shard ${job.id} ran twice at once and split differently: its retry lists the recorded share`,
        );
    }
    return groups;
  } finally {
    source.close();
  }
}

/**
 * The walk with live progress and cancel checks on a timer (the walk hands the event loop back
 * regularly, so the timer runs and the shard's lock keeps being renewed). A worker that is stopping
 * ends the walk between tasks; nothing of the run is kept then, so its counts are taken back out.
 */
async function walkReporting(
  ctx: ClusterContext,
  jobId: string,
  walker: ShardWalker,
  stack: DirTask[],
  stats: WalkStats,
  budget: number,
  control: ShardControl,
  skip?: ReadonlySet<string>,
): Promise<'done' | 'cancelled' | 'handed-back'> {
  let cancelled = false;
  let reported: Reported = { entries: 0, dirs: 0, matched: 0 };
  let reporting = Promise.resolve();
  const report = async (): Promise<void> => {
    reported = await reportProgress(ctx, jobId, stats, reported);
    await publishEvent(ctx.redis, { id: jobId, type: 'progress' });
    if (await ctx.store.isCancelled(jobId)) cancelled = true;
  };
  const timer = setInterval(() => {
    reporting = reporting.then(report).catch(() => undefined);
  }, REPORT_MS);
  try {
    await walker.walk(stack, () => cancelled || control.stopping() || stats.entries >= budget, skip);
  } finally {
    clearInterval(timer);
    await reporting;
  }
  if (cancelled) return 'cancelled';
  if (stack.length > 0 && control.stopping()) {
    await reportProgress(ctx, jobId, emptyWalkStats(), reported);
    return 'handed-back';
  }
  await reportProgress(ctx, jobId, stats, reported);
  await publishEvent(ctx.redis, { id: jobId, type: 'progress' });
  return 'done';
}

/** Adds the unvisited tasks as new shards of this shard's parent, before this shard returns. */
async function spawnChildren(ctx: ClusterContext, job: Job<ScanShardData>, groups: readonly DirTask[][]): Promise<number> {
  if (groups.length === 0) return 0;
  const data = job.data;
  // Children are added before this shard returns: a child added after its parent finished is lost.
  const parent = job.parent;
  if (parent?.id === undefined) throw new Error(`scan shard ${job.id} has no parent to add its remaining directories to`);
  // The job's shard count so far orders the children behind other jobs' earlier shards (shardPriority).
  let n = (await ctx.redis.hincrby(keys.progress(data.jobId), 'shardsTotal', groups.length)) - groups.length;
  for (const tasks of groups) {
    const id = scanShardId(
      data.jobId,
      tasks.map((t) => t.path),
    );
    const child: ScanShardData = { ...data, tasks, root: undefined };
    await addJob(
      ctx.queues,
      contractJob(JobName.scan, child, { ...shardJobOptions(ctx.config, id, ++n), parent: { id: parent.id, queue: parent.queueKey } }),
    );
  }
  return groups.length;
}
