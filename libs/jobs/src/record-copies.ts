import type { JobRecord } from './job-record.js';
import { RecordMirror } from './record-mirror.js';

/**
 * Where the durable copy of every job record lives, beside Redis (which can lose its state): the
 * results volume (`FileRecordCopies`), or PostgreSQL when FILER_DATABASE_URL is set
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

/** The copies as `<results>/<job>/record.json` files (RecordMirror). */
export class FileRecordCopies implements RecordCopies {
  readonly files: RecordMirror;
  constructor(dir: string) {
    this.files = new RecordMirror(dir);
  }
  write(rec: JobRecord): Promise<void> {
    return Promise.resolve(this.files.write(rec));
  }
  read(id: string): Promise<JobRecord | undefined> {
    return Promise.resolve(this.files.read(id));
  }
  ids(): Promise<string[]> {
    return Promise.resolve(this.files.ids());
  }
  remove(id: string): Promise<void> {
    return Promise.resolve(this.files.remove(id));
  }
}
