import * as path from 'node:path';
import type { Job } from 'bullmq';
import type { PathError } from '@filer/core';
import {
  applyJob,
  assertJournalFormat,
  dupeGroupToJson,
  findDuplicates,
  undoJob,
  type ApplyReport,
  type DupeFile,
  type FileHasher,
  type FileOps,
  type HashAlgorithm,
  type JournalAction,
} from '@filer/engine';
import { isS3Uri, LocalFileOps } from '@filer/storage';
import { LocalFileHasher } from '@filer/storage/hashing';
import { openExistingStateDb, openStateDb, SqliteJournal } from '@filer/storage/state';
import type { ClusterContext } from './cluster-context.js';
import type { ApplyShardData, HashShardData, UndoShardData } from './job-contracts.js';
import { emptyCounters } from './job-record.js';
import { runManifestHashShard } from './manifest-hash-shard.js';
import { addPhaseProgress } from './phase-progress.js';
import { s3Access } from './s3-access.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';
import { yieldingOps } from './yielding-ops.js';

function errorsOf(errors: readonly PathError[]): Pick<ShardResult, 'counters' | 'errorSample'> {
  const counters = emptyCounters();
  for (const e of errors) {
    counters.errors++;
    counters.errorsByCode[e.code] = (counters.errorsByCode[e.code] ?? 0) + 1;
  }
  return { counters, errorSample: errors.slice(0, SHARD_ERROR_SAMPLE) };
}

async function s3Hasher(algorithm: HashAlgorithm): Promise<FileHasher & { close?(): Promise<void>; emptyHash(): string }> {
  const { s3, client } = await s3Access();
  return new s3.S3FileHasher(client, algorithm);
}

/** Hashes one partition of the size groups (sample, then whole files where samples collide) with the engine's pipeline. */
export async function runHashShard(ctx: ClusterContext, job: Job<HashShardData>): Promise<ShardResult> {
  if (job.data.manifest === true) return runManifestHashShard(ctx, job);
  const { jobId, part, algorithm, includeEmpty } = job.data;
  const files: DupeFile[] = [];
  for await (const line of ctx.results.partLines(jobId, 'hash-in', part)) files.push(JSON.parse(line) as DupeFile);
  // Objects are hashed by content over ranged GETs, never by ETag (see S3FileHasher).
  const hasher = files.length > 0 && isS3Uri(files[0].path) ? await s3Hasher(algorithm) : new LocalFileHasher(algorithm);
  try {
    const result = await findDuplicates(files, { hasher, includeEmpty, emptyHash: hasher.emptyHash() });
    ctx.results.writePart(
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
        groups: stats.groups,
        duplicateFiles: stats.duplicateFiles,
        wastedBytes: stats.wastedBytes,
      },
    };
  } finally {
    await hasher.close?.();
  }
}

/**
 * The file operations a shard's plan needs: S3FileOps (local and s3:// paths, dispatched per path)
 * or LocalFileOps — letting the event loop turn between them, so the shard's lock is renewed.
 */
async function fileOps(s3: boolean | undefined): Promise<FileOps> {
  if (s3 !== true) return yieldingOps(new LocalFileOps());
  const access = await s3Access();
  return yieldingOps(new access.s3.S3FileOps(new access.s3.S3Objects(access.client)));
}

const sizeOf = (actions: readonly { size: number }[]): number => actions.reduce((n, a) => n + a.size, 0);

/** Each apply shard keeps its own journal beside the results: shards never share a SQLite file. */
export function journalPath(ctx: ClusterContext, jobId: string, part: string): string {
  return path.join(ctx.results.partDir(jobId, 'journal'), `${part}.db`);
}

function outcome(report: ApplyReport): ShardResult {
  const failed = report.actions
    .filter((a) => a.state === 'failed')
    .map((a) => ({ path: a.source, code: 'E_APPLY', message: `${a.source} → ${a.target}: ${a.reason}` }));
  const res: ShardResult = { ...errorsOf(failed), spawned: 0, extra: { ...report.job.counts } };
  if (report.stoppedBy !== undefined) {
    res.counters.errors++;
    res.counters.errorsByCode.ENOSPC = (res.counters.errorsByCode.ENOSPC ?? 0) + 1;
    res.errorSample.unshift({ path: report.actions[0]?.target ?? '', code: 'ENOSPC', message: report.stoppedBy });
    res.extra!.stopped = 1;
  }
  return res;
}

/**
 * Applies one partition of a plan under its own write-ahead journal. A retry (after a crash or
 * a SIGKILLed worker) finds the journal and resumes it: every action is decided from the disk.
 */
export async function runApplyShard(ctx: ClusterContext, job: Job<ApplyShardData>): Promise<ShardResult> {
  const { jobId, part, kind, onConflict, verify, s3 } = job.data;
  // Made here, not by openStateDb, so a volume that cannot hold it fails the shard with its errno (EEXIST, EACCES).
  ctx.results.makePartDir(jobId, 'journal');
  const db = openStateDb(journalPath(ctx, jobId, part));
  try {
    const journal = new SqliteJournal(db);
    let record = journal.list(1)[0];
    if (record === undefined) {
      const actions: Omit<JournalAction, 'seq' | 'state'>[] = [];
      for await (const line of ctx.results.partLines(jobId, 'apply-in', part))
        actions.push(JSON.parse(line) as Omit<JournalAction, 'seq' | 'state'>);
      record = journal.create(kind, actions, { onConflict, verify });
    } else assertJournalFormat(record, 'resume');
    const report = await applyJob(record, journal, await fileOps(s3), { retryFailed: true });
    await addPhaseProgress(ctx.redis, jobId, report.actions.length, sizeOf(report.actions));
    return outcome(report);
  } finally {
    db.close();
  }
}

/** Undoes one partition from its journal, newest action first, under the same no-overwrite rules. */
export async function runUndoShard(ctx: ClusterContext, job: Job<UndoShardData>): Promise<ShardResult> {
  const db = openStateDb(journalPath(ctx, job.data.jobId, job.data.part));
  try {
    const journal = new SqliteJournal(db);
    const record = journal.list(1)[0];
    if (record === undefined) return { counters: emptyCounters(), errorSample: [], spawned: 0 };
    assertJournalFormat(record, 'undo');
    const report = await undoJob(record, journal, await fileOps(job.data.s3));
    await addPhaseProgress(ctx.redis, job.data.jobId, report.actions.length, sizeOf(report.actions));
    const failed = [
      ...report.actions
        .filter((a) => a.state === 'done')
        .map((a) => ({ path: a.target, code: 'E_UNDO', message: `${a.target} → ${a.source}: ${a.reason ?? 'could not be put back'}` })),
      // Copies apply kept beside a source that changed after it was copied: left in place, named.
      ...(report.keptCopies ?? []).map((a) => ({
        path: a.target,
        code: 'E_CHANGED',
        message: `${a.target}: kept, not undone (its source ${a.source} changed after it was copied); remove it if it is not wanted`,
      })),
    ];
    return { ...errorsOf(failed), spawned: 0, extra: { ...report.job.counts } };
  } finally {
    db.close();
  }
}

/** The per-file completion report of one apply partition, from its journal. */
export function journalReport(ctx: ClusterContext, jobId: string, part: string): string[] {
  const db = openExistingStateDb(journalPath(ctx, jobId, part));
  if (db === undefined) return [];
  try {
    const journal = new SqliteJournal(db);
    const record = journal.list(1)[0];
    if (record === undefined) return [];
    return journal
      .actions(record.id)
      .map(
        (a) =>
          JSON.stringify({ source: a.source, target: a.target, size: a.size, state: a.state, ...(a.reason ? { reason: a.reason } : {}) }) +
          '\n',
      );
  } finally {
    db.close();
  }
}
