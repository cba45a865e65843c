import type { JobRecord } from './job-record.js';

/**
 * Where the durable copy of every job record lives, beside Redis (which can lose its state): the
 * results store (`recordMirror`: a directory or S3), or PostgreSQL when FILER_DATABASE_URL is set
 * (`PgRecordCopies`). A copy never replaces one of a later revision.
 */
export interface RecordCopies {
  /** Writes the copy durably, unless the one kept has a higher revision. */
  write(rec: JobRecord): Promise<void>;
  read(id: string): Promise<JobRecord | undefined>;
  /** Every kept id, newest first (job ids begin with their creation time). */
  ids(): Promise<string[]>;
  /** Removes the copy (and, in the database, the job's per-item outcomes). */
  remove(id: string): Promise<void>;
}
