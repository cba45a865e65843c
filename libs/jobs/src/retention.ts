import type { ClusterConfig } from './config.js';
import { FINAL_STATES, isUndoable, type JobRecord, type JobState } from './job-record.js';

/** How long finished jobs are kept (ClusterConfig's FILER_RETENTION_DAYS and FILER_RETENTION_UNDOABLE_DAYS). */
export interface RetentionPolicy {
  days: number;
  /** 0: an undoable job is kept until it is undone or deleted with force. */
  undoableDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { days: 30, undoableDays: 0 };

export function retentionOf(config: Pick<ClusterConfig, 'retentionDays' | 'retentionUndoableDays'>): RetentionPolicy {
  return { days: config.retentionDays, undoableDays: config.retentionUndoableDays };
}

const DAY_S = 86_400;

/**
 * Redis keeps a finished record this long past its retention. The sweep removes the record with
 * its parts when the retention ends; the TTL is only the backstop for a cluster where no batch
 * worker runs the sweep, and must not end first (a record gone from Redis but with its parts on
 * disk could not be deleted by id any more).
 */
export const RECORD_GRACE_S = DAY_S;

/** Seconds a job is kept once it finished: Infinity while it is not final, or undoable and kept until undone. */
export function retentionSeconds(rec: Pick<JobRecord, 'apply' | 'state'>, policy: RetentionPolicy): number {
  if (!FINAL_STATES.includes(rec.state)) return Infinity;
  if (!isUndoable(rec)) return policy.days * DAY_S;
  return policy.undoableDays === 0 ? Infinity : policy.undoableDays * DAY_S;
}

/** When the job reached its final state (ms). */
export function finishedAtMs(rec: Pick<JobRecord, 'finishedAt' | 'updatedAt'>): number {
  return Date.parse(rec.finishedAt ?? rec.updatedAt);
}

/** The TTL a record's Redis key gets on each change: 0 for none (not final, or kept until undone). */
export function recordTtlSeconds(rec: JobRecord, policy: RetentionPolicy): number {
  const keep = retentionSeconds(rec, policy);
  return keep === Infinity ? 0 : keep + RECORD_GRACE_S;
}

/** Whether the sweep removes the job at `now`. */
export function isPastRetention(rec: JobRecord, policy: RetentionPolicy, now: number): boolean {
  return now - finishedAtMs(rec) >= retentionSeconds(rec, policy) * 1000;
}

/** The creation time a job id begins with (newJobId: milliseconds in base 36, 9 characters). */
export function createdAtOfId(id: string): number {
  return parseInt(id.slice(0, 9), 36);
}

/** The shortest time any job is kept: a job created more recently than this ago cannot be due. */
export function shortestRetentionMs(policy: RetentionPolicy): number {
  const undoable = policy.undoableDays === 0 ? Infinity : policy.undoableDays;
  return Math.min(policy.days, undoable) * DAY_S * 1000;
}

/** Why a job cannot be deleted now, or undefined when it can. */
export function deleteRefusal(rec: JobRecord, force: boolean): string | undefined {
  const states: readonly JobState[] = FINAL_STATES;
  if (!states.includes(rec.state))
    return `job ${rec.id} is ${rec.state}: only a finished job can be deleted${rec.state === 'planned' ? ' (cancel it first)' : ''}`;
  if (isUndoable(rec) && !force) return `job ${rec.id} was applied and can still be undone: undo it, or delete it with force=true`;
  return undefined;
}
