import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compileFilter, FilerError, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { DirWalker, emptyWalkStats, entryToJson, seedTask, type DirTask } from '@filer/engine';
import { admitPath, ancestorIgnoreSources, LocalSource } from '@filer/storage';
import type { Job } from 'bullmq';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { emptyCounters, type JobCounters } from './job-record.js';
import { QUEUES, shardJobOptions } from './queues.js';
import type { PartWriter } from './results-store.js';
import { keys } from './redis-keys.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';

export interface ScanShardData {
  jobId: string;
  /** Directories to walk; a root shard names its root instead and seeds its own task. */
  tasks: DirTask[];
  root?: string;
  spec: FilterSpec;
  /** `find`: records as `filer find --format ndjson` prints them; `entries`: whole entries for later phases. */
  records: 'find' | 'entries';
  statAll: boolean;
  identity: boolean;
}

/** A spent shard hands its unvisited directories to at most this many new shards. */
const FANOUT = 4;
/** The walk yields to the event loop this often, so the shard's lock keeps being renewed. */
const SLICE_MS = 50;

/** Shard ids derive from (job, paths): a retried shard re-adds the same children, which BullMQ ignores. */
export function scanShardId(jobId: string, paths: readonly string[]): string {
  return `${jobId}-scan-${createHash('sha1').update(paths.join('\0')).digest('hex').slice(0, 24)}`;
}

function splitStack(stack: DirTask[]): DirTask[][] {
  const k = Math.min(FANOUT, stack.length);
  const groups: DirTask[][] = Array.from({ length: k }, () => []);
  // Round-robin: the bottom of a DFS stack holds the big shallow subtrees, the top the small deep ones.
  stack.forEach((t, i) => groups[i % k].push(t));
  return groups;
}

/**
 * Walks one shard with the engine's DirWalker until its entry budget is spent, writes its matches
 * as one part, and hands the directories it did not reach to new shards of the same parent.
 */
export async function runScanShard(ctx: ClusterContext, job: Job<ScanShardData>): Promise<ShardResult> {
  const data = job.data;
  const counters = emptyCounters();
  const errorSample: PathError[] = [];
  if (await ctx.store.isCancelled(data.jobId)) return { counters, errorSample, spawned: 0, cancelled: true };

  const source = new LocalSource();
  const part = ctx.results.openPart(data.jobId, 'scan', job.id!);
  try {
    return await walkShard(ctx, job, source, part, counters, errorSample);
  } catch (e) {
    part.abort();
    throw e;
  }
}

async function walkShard(
  ctx: ClusterContext,
  job: Job<ScanShardData>,
  source: LocalSource,
  part: PartWriter,
  counters: JobCounters,
  errorSample: PathError[],
): Promise<ShardResult> {
  const data = job.data;
  const onError = (e: PathError): void => {
    counters.errors++;
    counters.errorsByCode[e.code] = (counters.errorsByCode[e.code] ?? 0) + 1;
    if (errorSample.length < SHARD_ERROR_SAMPLE) errorSample.push(e);
  };
  const stack: DirTask[] = [...data.tasks].reverse();
  if (data.root !== undefined) {
    const running = await ctx.store.update(data.jobId, (r) => void (r.state = 'running'), ['queued']);
    if (running !== undefined) await publishEvent(ctx.redis, { id: data.jobId, type: 'state', state: 'running', phase: 'scan' });
    try {
      // Checked again where it is opened: a symlink swapped since the API admitted it cannot lead out.
      admitPath(data.root, ctx.allowedRoots, 'roots');
      const task = seedTask(source, data.root, data.spec.follow);
      if (data.spec.ignoreFiles) task.ignores = ancestorIgnoreSources(data.root);
      stack.push(task);
    } catch (e) {
      const err = e as FilerError;
      onError({ path: data.root, code: err.code ?? 'EIO', message: err.message });
    }
  }
  const stats = emptyWalkStats();
  const walker = new DirWalker(
    source,
    { filter: compileFilter(data.spec), statAll: data.statAll, identity: data.identity },
    {
      entry: (e: FileEntry) => {
        counters.bytes += e.size ?? 0;
        part.write((data.records === 'find' ? entryToJson(e) : JSON.stringify(e)) + '\n');
      },
      error: onError,
    },
    stats,
  );
  const budget = ctx.config.shardBudget;
  let reported = { entries: 0, dirs: 0, matched: 0 };
  let lastEvent = 0;
  while (stack.length > 0 && stats.entries < budget) {
    const sliceEnd = performance.now() + SLICE_MS;
    walker.run(stack, () => stats.entries >= budget || performance.now() > sliceEnd);
    const now = performance.now();
    await ctx.redis
      .multi()
      .hincrby(keys.progress(data.jobId), 'entries', stats.entries - reported.entries)
      .hincrby(keys.progress(data.jobId), 'dirs', stats.dirs - reported.dirs)
      .hincrby(keys.progress(data.jobId), 'matched', stats.matched - reported.matched)
      .exec();
    reported = { entries: stats.entries, dirs: stats.dirs, matched: stats.matched };
    if (now - lastEvent > 500) {
      lastEvent = now;
      await publishEvent(ctx.redis, { id: data.jobId, type: 'progress' });
    }
    if (stack.length > 0 && (await ctx.store.isCancelled(data.jobId))) {
      part.abort();
      return { counters, errorSample, spawned: 0, cancelled: true };
    }
    await yieldToLoop();
  }

  let spawned = 0;
  if (stack.length > 0) {
    // Children are added before this shard returns: a child added after its parent finished is lost.
    const parent = job.parent;
    if (parent?.id === undefined) throw new Error(`scan shard ${job.id} has no parent to add its remaining directories to`);
    const groups = splitStack(stack);
    await ctx.redis.hincrby(keys.progress(data.jobId), 'shardsTotal', groups.length);
    for (const tasks of groups) {
      const id = scanShardId(
        data.jobId,
        tasks.map((t) => t.path),
      );
      const child: ScanShardData = { ...data, tasks, root: undefined };
      await ctx.queues[QUEUES.scan].add('scan', child, {
        ...shardJobOptions(ctx.config, id),
        parent: { id: parent.id, queue: parent.queueKey },
      });
      spawned++;
    }
  }
  part.commit();
  await ctx.redis.hincrby(keys.progress(data.jobId), 'shardsDone', 1);
  counters.dirs = stats.dirs;
  counters.entries = stats.entries;
  counters.matched = stats.matched;
  return { counters, errorSample, spawned };
}
