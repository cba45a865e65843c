import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compileFilter, FilerError, type FileEntry, type PathError } from '@filer/core';
import { DirWalker, emptyWalkStats, entryToJson, seedTask, splitStack, type DirTask, type WalkSink, type WalkStats } from '@filer/engine';
import { admitPath, ancestorIgnoreSources, isS3Uri, LocalSource } from '@filer/storage';
import type { Job } from 'bullmq';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { emptyCounters } from './job-record.js';
import { addJob, contractJob, JobName } from './job-contracts.js';
import { shardJobOptions } from './queues.js';
import { keys } from './redis-keys.js';
import { walkS3Shard } from './scan-s3-shard.js';
import { reportProgress, type Reported, type ScanShardData, type WalkEnd } from './scan-walk.js';
import { ShardHandedBack, type ShardControl } from './shard-control.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';

export type { ScanShardData } from './scan-walk.js';

/** The walk yields to the event loop this often, so the shard's lock keeps being renewed. */
const SLICE_MS = 50;

/** Shard ids derive from (job, paths): a retried shard re-adds the same children, which BullMQ ignores. */
export function scanShardId(jobId: string, paths: readonly string[]): string {
  return `${jobId}-scan-${createHash('sha1').update(paths.join('\0')).digest('hex').slice(0, 24)}`;
}

/**
 * Walks one shard until its entry budget is spent — directories with the engine's DirWalker, S3
 * prefixes with its paged walk (scan-s3-shard.ts) — writes its matches as one part, and hands
 * the directories or prefixes it did not reach to new shards of the same parent.
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

  const part = ctx.results.openPart(data.jobId, 'scan', job.id!);
  try {
    const onError = (e: PathError): void => {
      counters.errors++;
      counters.errorsByCode[e.code] = (counters.errorsByCode[e.code] ?? 0) + 1;
      if (errorSample.length < SHARD_ERROR_SAMPLE) errorSample.push(e);
    };
    const stack: DirTask[] = [...data.tasks].reverse();
    const stats = emptyWalkStats();
    if (data.root !== undefined) {
      const running = await ctx.store.update(data.jobId, (r) => void (r.state = 'running'), ['queued']);
      if (running !== undefined) await publishEvent(ctx.redis, { id: data.jobId, type: 'state', state: 'running', phase: 'scan' });
    }
    const write = (e: FileEntry): void => {
      counters.bytes += e.size ?? 0;
      part.write((data.records === 'find' ? entryToJson(e) : JSON.stringify(e)) + '\n');
    };
    const sink: WalkSink = { entry: write, error: onError };
    // A find job's records with size and mtime are `filer find --format ndjson`'s: a local walk may
    // have whole directories of them formatted natively, as the CLI's walk does (WalkOptions.ndjson).
    // Not for `paths`, whose walk stats nothing (its records carry no size).
    if (data.records === 'find' && data.statAll)
      sink.records = (text, _count, bytes) => {
        counters.bytes += bytes;
        part.write(text);
      };
    const onS3 = isS3Uri(data.root ?? data.tasks[0]?.path ?? '');
    const end = onS3
      ? await walkS3Shard(ctx, job, stack, stats, { entry: write, error: onError })
      : await walkLocalShard(ctx, data, stack, stats, sink, control);
    if (end === 'cancelled') {
      part.abort();
      return { counters, errorSample, spawned: 0, cancelled: true };
    }
    if (end === 'handed-back') {
      part.abort();
      throw new ShardHandedBack(job.id);
    }
    const spawned = await spawnChildren(ctx, job, end);
    part.commit();
    await ctx.redis.hincrby(keys.progress(data.jobId), 'shardsDone', 1);
    counters.dirs = stats.dirs;
    counters.entries = stats.entries;
    counters.matched = stats.matched;
    return { counters, errorSample, spawned };
  } catch (e) {
    part.abort();
    throw e;
  }
}

async function walkLocalShard(
  ctx: ClusterContext,
  data: ScanShardData,
  stack: DirTask[],
  stats: WalkStats,
  sink: WalkSink,
  control: ShardControl,
): Promise<WalkEnd> {
  const source = new LocalSource();
  if (data.root !== undefined) {
    try {
      // Checked again where it is opened: a symlink swapped since the API admitted it cannot lead out.
      admitPath(data.root, ctx.allowedRoots, 'roots');
      const task = seedTask(source, data.root, data.spec.follow);
      if (data.spec.ignoreFiles) task.ignores = ancestorIgnoreSources(data.root);
      stack.push(task);
    } catch (e) {
      const err = e as FilerError;
      sink.error({ path: data.root, code: err.code ?? 'EIO', message: err.message });
    }
  }
  const walker = new DirWalker(
    source,
    { filter: compileFilter(data.spec), statAll: data.statAll, identity: data.identity, ndjson: source.ndjsonLister },
    sink,
    stats,
  );
  const budget = ctx.config.shardBudget;
  let reported: Reported = { entries: 0, dirs: 0, matched: 0 };
  let lastEvent = 0;
  while (stack.length > 0 && stats.entries < budget) {
    const sliceEnd = performance.now() + SLICE_MS;
    walker.run(stack, () => stats.entries >= budget || performance.now() > sliceEnd);
    const now = performance.now();
    reported = await reportProgress(ctx, data.jobId, stats, reported);
    if (now - lastEvent > 500) {
      lastEvent = now;
      await publishEvent(ctx.redis, { id: data.jobId, type: 'progress' });
    }
    if (stack.length > 0 && (await ctx.store.isCancelled(data.jobId))) return 'cancelled';
    if (stack.length > 0 && control.stopping()) {
      // Nothing of this run is kept (no part, no children): take its counts back out of the live progress.
      await reportProgress(ctx, data.jobId, emptyWalkStats(), reported);
      return 'handed-back';
    }
    await yieldToLoop();
  }
  return stack.length === 0 ? [] : splitStack(stack);
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
