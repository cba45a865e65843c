import type { JobKind, JobSpec, PathError } from '@filer/core';
import type { PhaseProgress } from './phase-progress.js';

export const JOB_STATES = [
  'queued',
  'running',
  'planned',
  'applying',
  'completed',
  'failed',
  'cancelled',
  'undoing',
  'undone',
  'purging',
  'purged',
] as const;
export type JobState = (typeof JOB_STATES)[number];
/** States a job never leaves on its own. */
export const FINAL_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled', 'undone', 'purged'];

/**
 * An applied rename/copy/move whose undo is still possible (what `POST /v1/jobs/:id/undo`
 * accepts): its journals must be kept. Counted whatever its outcome counts say, since a job
 * failed mid-apply may have done more than its record counted.
 */
export function isUndoable(r: Pick<JobRecord, 'apply' | 'state'>): boolean {
  return r.apply !== undefined && (r.state === 'completed' || r.state === 'failed');
}

/** Counters summed from shards' return values: exact once a phase is finalized. */
export interface JobCounters {
  dirs: number;
  entries: number;
  matched: number;
  bytes: number;
  errors: number;
  errorsByCode: Record<string, number>;
}

export function emptyCounters(): JobCounters {
  return { dirs: 0, entries: 0, matched: 0, bytes: 0, errors: 0, errorsByCode: {} };
}

export function addCounters(into: JobCounters, c: JobCounters): void {
  into.dirs += c.dirs;
  into.entries += c.entries;
  into.matched += c.matched;
  into.bytes += c.bytes;
  into.errors += c.errors;
  for (const [code, n] of Object.entries(c.errorsByCode)) into.errorsByCode[code] = (into.errorsByCode[code] ?? 0) + n;
}

/** At most this many per-path errors are kept on a job record (the counts stay exact). */
export const ERROR_SAMPLE_LIMIT = 100;

export interface JobRecord {
  id: string;
  kind: JobKind;
  spec: JobSpec;
  state: JobState;
  /** The phase running now (scan, hash, plan, apply, undo). */
  phase: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  counters: JobCounters;
  shards: { total: number; done: number; failed: number };
  errorSample: PathError[];
  /** Why a job failed or was cancelled, in words. */
  message?: string;
  /** Why a job failed, as a stable code: a failed shard's own (`EACCES`, `E_PATH_NOT_ALLOWED`, …) or `E_QUEUE_STATE_LOST`. */
  code?: string;
  /** Bumped by every change: orders the copies mirrored to disk and lets a reconciler act only on what it saw. */
  rev?: number;
  /** rename/copy/move, dupes with an action: the plan's summary (a dedupe plan's: copies acted on, bytes freed, copies skipped, groups). */
  plan?: { actions: number; conflicts: number; bytes: number; unchanged: number; skipped: number; groups?: number };
  /** rename/copy/move, dupes with an action: outcome counts of the apply (or undo). */
  apply?: { done: number; failed: number; skipped: number; undone: number; pending: number };
  /** dupes: the report's summary. */
  dupes?: {
    groups: number;
    duplicateFiles: number;
    wastedBytes: number;
    filesHashed: number;
    bytesHashed: number;
    /** Candidates whose hashes came from the shared hash index (a job database and FILER_VOLUMES) instead of their bytes. */
    cacheHits?: number;
  };
  /** dupes with an action, once its quarantine was purged (state purged): copies deleted, their bytes, quarantine paths left. */
  purge?: { removed: number; bytes: number; left: number };
  /** Live only (JobStore.getLive), while a hash, apply or undo phase runs: what it has done of its total. */
  progress?: PhaseProgress;
  /** Number of result records ready to read. */
  results?: number;
}

/** The id of a job: time-ordered, URL-safe, checked on every request that carries one. */
export const JOB_ID_PATTERN = /^[0-9a-z]{10,40}$/;

export function newJobId(now = Date.now()): string {
  return now.toString(36).padStart(9, '0') + Math.random().toString(36).slice(2, 10).padEnd(8, '0');
}
