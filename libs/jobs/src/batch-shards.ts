import * as path from 'node:path';
import type { Job } from 'bullmq';
import type { PathError } from '@filer/core';
import {
  applyDedupeJob,
  applyJob,
  assertJournalFormat,
  dupeGroupToJson,
  findDuplicates,
  undoDedupeJob,
  undoJob,
  type ActionSample,
  type ApplyReport,
  type DedupeFileOps,
  type DupeFile,
  type FileOps,
  type JournalAction,
} from '@filer/engine';
import { LocalDedupeOps, openSink, openSource } from '@filer/storage';
import { SqliteJournal } from '@filer/storage/state';
import type { ClusterContext } from './cluster-context.js';
import type { ApplyShardData, HashShardData, UndoShardData } from './job-contracts.js';
import { emptyCounters } from './job-record.js';
import { runManifestHashShard } from './manifest-hash-shard.js';
import { addPhaseProgress } from './phase-progress.js';
import { sharedS3Client } from './s3-access.js';
import { withShardJournal } from './shard-journal.js';
import { openShardHashIndex } from './shard-hash-index.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';
import type { SinkPaths } from './sink-paths.js';
import { yieldingOps } from './yielding-ops.js';

function errorsOf(errors: readonly PathError[]): Pick<ShardResult, 'counters' | 'errorSample'> {
  const counters = emptyCounters();
  for (const e of errors) {
    counters.errors++;
    counters.errorsByCode[e.code] = (counters.errorsByCode[e.code] ?? 0) + 1;
  }
  return { counters, errorSample: errors.slice(0, SHARD_ERROR_SAMPLE) };
}

/** Hashes one partition of the size groups (sample, then whole files where samples collide) with the engine's pipeline. */
export async function runHashShard(ctx: ClusterContext, job: Job<HashShardData>): Promise<ShardResult> {
  if (job.data.manifest === true) return runManifestHashShard(ctx, job);
  const { jobId, part, algorithm, includeEmpty } = job.data;
  const files: DupeFile[] = [];
  for await (const line of ctx.results.partLines(jobId, 'hash-in', part)) files.push(JSON.parse(line) as DupeFile);
  // The source's hasher: local files on the hashing threads, objects by content over ranged GETs (never by ETag).
  const source = await openSource([files[0]?.path ?? ''], { s3Client: sharedS3Client });
  const hasher = await source.hasher(algorithm, job.data.follow ?? false);
  try {
    // The shared hash index (with a job database): a file unchanged since any worker hashed it is not read again.
    const index = await openShardHashIndex(ctx, files, algorithm);
    const result = await findDuplicates(files, { hasher, includeEmpty, emptyHash: hasher.emptyHash(), cache: index?.cache });
    // A failed save fails the shard, as any job-database write does; its retry hashes again.
    await index?.save();
    await ctx.results.writePart(
      jobId,
      'groups',
      part,
      result.groups.map((g) => dupeGroupToJson(g) + '\n'),
    );
    const { stats } = result;
    await addPhaseProgress(
      ctx.redis,
      jobId,
      files.length,
      files.reduce((n, f) => n + f.size, 0),
    );
    return {
      ...errorsOf(result.errors),
      spawned: 0,
      extra: {
        hardLinks: stats.hardLinks,
        emptySkipped: stats.emptySkipped,
        bytesRead: stats.bytesRead,
        filesHashed: stats.sampled + stats.fullyHashed,
        cacheHits: stats.cacheHits,
        groups: stats.groups,
        duplicateFiles: stats.duplicateFiles,
        wastedBytes: stats.wastedBytes,
      },
    };
  } finally {
    await hasher.close();
    source.close();
  }
}

/**
 * Runs `use` with the file operations of the job's sink — openSink decides local or S3 from the
 * job's roots and destination, as for the CLI — letting the event loop turn between operations,
 * so the shard's lock is renewed.
 */
async function withFileOps<T>(paths: SinkPaths, use: (ops: FileOps) => Promise<T>): Promise<T> {
  const sink = await openSink(paths.sources, paths.targets, { s3Client: sharedS3Client });
  try {
    return await use(yieldingOps(sink.ops()));
  } finally {
    sink.close();
  }
}

/**
 * Runs `use` with the local file operations of a dedupe job (admitted for local roots only: links,
 * renames over a copy and the quarantine have no S3 form), the CLI's own, made to yield as above.
 */
export async function withDedupeOps<T>(use: (ops: DedupeFileOps) => Promise<T>): Promise<T> {
  const ops = new LocalDedupeOps();
  try {
    return await use(yieldingOps(ops));
  } finally {
    ops.release();
  }
}

/** Where a results directory keeps an apply shard's journal (with FILER_RESULTS on S3: `<prefix><job>/journal/<part>.db`); shards never share a SQLite file. */
export function journalPath(ctx: ClusterContext, jobId: string, part: string): string {
  return path.join(ctx.config.resultsDir, jobId, 'journal', `${part}.db`);
}

/** A shard's failures as its result counts them: every one counted, the first SHARD_ERROR_SAMPLE named (the journal holds all). */
function sampled(
  failures: ActionSample,
  code: string,
  entry: (a: JournalAction) => PathError,
): Pick<ShardResult, 'counters' | 'errorSample'> {
  const counters = emptyCounters();
  counters.errors = failures.count;
  if (failures.count > 0) counters.errorsByCode[code] = failures.count;
  return { counters, errorSample: failures.sample.slice(0, SHARD_ERROR_SAMPLE).map(entry) };
}

function outcome(report: ApplyReport): ShardResult {
  const failed = sampled(report.failures, 'E_APPLY', (a) => ({
    path: a.source,
    code: 'E_APPLY',
    message: `${a.source} → ${a.target}: ${a.reason}`,
  }));
  const res: ShardResult = { ...failed, spawned: 0, extra: { ...report.job.counts } };
  if (report.stoppedBy !== undefined) {
    res.counters.errors++;
    res.counters.errorsByCode.ENOSPC = (res.counters.errorsByCode.ENOSPC ?? 0) + 1;
    res.errorSample.unshift({ path: report.failures.sample[0]?.target ?? '', code: 'ENOSPC', message: report.stoppedBy });
    res.extra!.stopped = 1;
  }
  return res;
}

/**
 * Applies one partition of a plan under its own write-ahead journal (shards never share a SQLite
 * file). A retry (after a crash or a SIGKILLed worker) finds the journal and resumes it: every
 * action is decided from the disk.
 */
export async function runApplyShard(ctx: ClusterContext, job: Job<ApplyShardData>): Promise<ShardResult> {
  const { jobId, part, kind, onConflict, verify, ignorePerms } = job.data;
  const res = await withShardJournal(ctx, jobId, part, true, async (db) => {
    const journal = new SqliteJournal(db);
    let record = journal.list(1)[0];
    if (record === undefined) {
      const actions: Omit<JournalAction, 'seq' | 'state'>[] = [];
      for await (const line of ctx.results.partLines(jobId, 'apply-in', part))
        actions.push(JSON.parse(line) as Omit<JournalAction, 'seq' | 'state'>);
      record = journal.create(
        kind,
        actions,
        kind === 'dedupe' ? { onConflict, verify, ignorePerms: ignorePerms === true } : { onConflict, verify },
      );
    } else assertJournalFormat(record, 'resume');
    const started = record;
    // A retry resumes: every action is decided again from the disk and the identities journaled.
    const report =
      kind === 'dedupe'
        ? await withDedupeOps((ops) => applyDedupeJob(started, journal, ops, { retryFailed: true }))
        : await withFileOps(job.data.sink, (ops) => applyJob(started, journal, ops, { retryFailed: true }));
    // Before the shard reports done: a failed write fails the shard, whose retry finds the journal finished and writes again.
    await ctx.items?.record({ jobId, phase: 'apply', action: kind, shard: part, actions: journal.actions(started.id) });
    const totals = journal.totals(started.id);
    await addPhaseProgress(ctx.redis, jobId, totals.actions, totals.bytes);
    return outcome(report);
  });
  return res!;
}

/** Undoes one partition from its journal, newest action first, under the same no-overwrite rules. */
export async function runUndoShard(ctx: ClusterContext, job: Job<UndoShardData>): Promise<ShardResult> {
  const none: ShardResult = { counters: emptyCounters(), errorSample: [], spawned: 0 };
  const res = await withShardJournal(ctx, job.data.jobId, job.data.part, false, async (db) => {
    const journal = new SqliteJournal(db);
    const record = journal.list(1)[0];
    if (record === undefined) return none;
    assertJournalFormat(record, 'undo');
    const report =
      record.kind === 'dedupe'
        ? await withDedupeOps((ops) => undoDedupeJob(record, journal, ops))
        : await withFileOps(job.data.sink, (ops) => undoJob(record, journal, ops));
    await ctx.items?.record({
      jobId: job.data.jobId,
      phase: 'undo',
      action: record.kind,
      shard: job.data.part,
      actions: journal.actions(record.id),
    });
    const totals = journal.totals(record.id);
    await addPhaseProgress(ctx.redis, job.data.jobId, totals.actions, totals.bytes);
    const notBack = sampled(report.failures, 'E_UNDO', (a) => ({
      path: a.target,
      code: 'E_UNDO',
      message: `${a.target} → ${a.source}: ${a.reason ?? 'could not be put back'}`,
    }));
    // Copies apply kept beside a source that changed after it was copied: left in place, named.
    const kept = sampled(report.keptCopies ?? { count: 0, sample: [] }, 'E_CHANGED', (a) => ({
      path: a.target,
      code: 'E_CHANGED',
      message: `${a.target}: kept, not undone (its source ${a.source} changed after it was copied); remove it if it is not wanted`,
    }));
    const counters = notBack.counters;
    counters.errors += kept.counters.errors;
    if (kept.counters.errors > 0) counters.errorsByCode.E_CHANGED = kept.counters.errors;
    const errorSample = [...notBack.errorSample, ...kept.errorSample].slice(0, SHARD_ERROR_SAMPLE);
    return { counters, errorSample, spawned: 0, extra: { ...report.job.counts } };
  });
  return res ?? none;
}

/**
 * After a dedupe undo, the directories every shard's apply made (the quarantine's, --move-to's),
 * deepest first, removed where empty. Each shard removes its own as it ends, but shards share
 * directories (`.filer-quarantine/<job>`) and one that ended first found them still holding
 * another shard's copies; only the undo's finalizer sees them all emptied.
 */
export async function removeCreatedDirs(ctx: ClusterContext, jobId: string, parts: readonly string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const part of parts)
    await withShardJournal(ctx, jobId, part, false, async (db) => {
      for (const d of new SqliteJournal(db).list(1)[0]?.createdDirs ?? []) dirs.add(d);
      return Promise.resolve();
    });
  const ops = new LocalDedupeOps();
  try {
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) ops.removeEmptyDir(d);
  } finally {
    ops.release();
  }
}

/** The per-file completion report of one apply partition, from its journal. */
export async function journalReport(ctx: ClusterContext, jobId: string, part: string): Promise<string[]> {
  const lines = await withShardJournal(ctx, jobId, part, false, async (db) => {
    const journal = new SqliteJournal(db);
    const record = journal.list(1)[0];
    if (record === undefined) return [];
    return journal.actions(record.id).map(
      (a) =>
        JSON.stringify({
          ...(a.dedupe ? { action: a.dedupe.op, kept: a.dedupe.kept } : {}),
          source: a.source,
          target: a.target,
          size: a.size,
          state: a.state,
          ...(a.reason ? { reason: a.reason } : {}),
        }) + '\n',
    );
  });
  return lines ?? [];
}
