import type { JobRecord, JobState } from './job-record.js';

export interface ListQuery {
  state?: JobState;
  kind?: string;
  /** Return jobs created before this id (the previous page's `next`). */
  before?: string;
  limit: number;
}

/** What a new record needs; the store fills in the rest. */
export type NewJobRecord = Omit<JobRecord, 'counters' | 'shards' | 'errorSample' | 'updatedAt' | 'phase'>;

/**
 * The port every process reads and changes job records through, and the reconciler's view of
 * them: Redis, with a durable copy of each record (`RedisJobRecords` over `RecordCopies`) on the
 * results volume or, when FILER_DATABASE_URL is set, in PostgreSQL.
 */
export interface JobRecords {
  create(record: NewJobRecord): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  /** The record with live shard and entry counts (approximate until a phase is finalized). */
  getLive(id: string): Promise<JobRecord | undefined>;
  /**
   * Applies `change` atomically when the job is in one of `from` (any state when omitted) and
   * `guard` accepts it. Returns the new record, or undefined when the job is absent or refused.
   */
  update(
    id: string,
    change: (r: JobRecord) => void,
    from?: readonly JobState[],
    guard?: (r: JobRecord) => boolean,
  ): Promise<JobRecord | undefined>;
  /**
   * Deletes the record as `rec` shows it (same revision: a change since, an undo starting say,
   * wins and this returns false) with its durable copy, and never puts it back afterwards. The
   * caller removes the job's parts after it (retention.ts's removeJob).
   */
  remove(rec: JobRecord): Promise<boolean>;
  list(q: ListQuery): Promise<{ jobs: JobRecord[]; next?: string }>;
  isCancelled(id: string): Promise<boolean>;
  /** Ids of the jobs not in a final state: what the reconciler checks. */
  unfinished(): Promise<string[]>;
  /**
   * Puts back every record the fast store lost (Redis restarted empty, FLUSHALL) from its durable
   * copy, once per loss; returns the ids put back. Cheap when nothing was lost.
   */
  restoreLost(): Promise<string[]>;
  /** Rewrites durable copies whose write failed earlier; returns how many. */
  repairCopies(): Promise<number>;
}
