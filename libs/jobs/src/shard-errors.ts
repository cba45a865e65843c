import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { FilerError } from '@filer/core';
import { JOB_ID_PATTERN } from './job-record.js';
import { keys } from './redis-keys.js';

/**
 * FilerError codes that fail the same way on every attempt, so a shard that throws one is not
 * retried (BullMQ's UnrecoverableError): the input is wrong (a bad payload, pattern or template),
 * a path is one the job may never touch (outside the allowed roots, an unsafe S3 key), or a
 * journal is one this version will not resume or undo. Retrying those only delays the job's
 * failure by the whole backoff. Everything else — errno codes, `E_IO`, a root not found (a mount
 * that is late), `E_CHANGED` (a file changing under the job), Redis or S3 errors — may pass and is
 * retried.
 */
export const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'E_INVALID_ARGUMENT',
  'E_REGEX_UNSUPPORTED',
  'E_ROOT_NOT_DIRECTORY',
  'E_PATH_NOT_ALLOWED',
  'E_UNSAFE_KEY',
  'E_JOURNAL_FORMAT',
]);

/** The code of a failed shard when its error carries none (a bug, or a library's plain Error). */
export const SHARD_FAILED = 'E_SHARD_FAILED';
/** A shard BullMQ failed because its workers kept dying under it (maxStalledCount). */
export const SHARD_STALLED = 'E_SHARD_STALLED';

/** The stable code of an error: a FilerError's, an errno or library code (`EACCES`, `SQLITE_CANTOPEN`), else E_SHARD_FAILED. */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? code : SHARD_FAILED;
}

/** The error BullMQ should see: a non-retryable FilerError becomes an UnrecoverableError (no further attempts). */
export function toQueueError(e: unknown): unknown {
  if (e instanceof FilerError && NON_RETRYABLE_CODES.has(e.code)) return new UnrecoverableError(`${e.code}: ${e.message}`);
  return e;
}

/** Why a shard failed, as the finalizer reports it. */
export interface ShardFailure {
  code: string;
  message: string;
  path?: string;
}

/** Kept as long as a record: the finalizer reads them when the phase ends. */
const FAILURE_TTL_SECONDS = 30 * 86_400;

/** Records why this attempt of a shard failed (the last attempt's reason is the one that counts). */
export async function recordShardFailure(redis: Redis, job: Job, e: unknown): Promise<void> {
  const jobId = (job.data as { jobId?: unknown }).jobId;
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId) || job.id === undefined) return;
  const failure: ShardFailure = {
    code: errorCode(e),
    message: e instanceof Error ? e.message : String(e),
    ...(e instanceof FilerError && e.path !== undefined ? { path: e.path } : {}),
  };
  await redis.multi().hset(keys.failures(jobId), job.id, JSON.stringify(failure)).expire(keys.failures(jobId), FAILURE_TTL_SECONDS).exec();
}

/**
 * The recorded failure of each shard (by BullMQ job id). A shard with none recorded either failed
 * without running to its end (it stalled too often, and BullMQ's reason says so) or could not be
 * recorded (its payload names no job): the code `toQueueError` put first in the reason is kept.
 */
export async function shardFailures(
  redis: Redis,
  jobId: string,
  reasons: Record<string, string>,
): Promise<(ShardFailure & { shard: string })[]> {
  const entries = Object.entries(reasons).map(([key, reason]) => ({ shard: key.slice(key.lastIndexOf(':') + 1), reason }));
  if (entries.length === 0) return [];
  const recorded = await redis.hmget(keys.failures(jobId), ...entries.map((e) => e.shard));
  return entries.map(({ shard, reason }, i) => {
    const r = recorded[i];
    if (r !== null) return { shard, ...(JSON.parse(r) as ShardFailure) };
    const coded = /^(E_[A-Z0-9_]{1,62}): /.exec(reason);
    if (coded !== null) return { shard, code: coded[1], message: reason.slice(coded[0].length) };
    return { shard, code: /stalled/i.test(reason) ? SHARD_STALLED : SHARD_FAILED, message: reason };
  });
}
