import { RecordFiles, type RecordCopies, type ResultsStore } from '@filer/storage/results';
import { JOB_ID_PATTERN, type JobRecord } from './job-record.js';

/**
 * A copy of every job record beside its results, `<results>/<job>/record.json` (a file in the
 * results directory, or an object on S3), rewritten on each transition: Redis can lose its state
 * (a restart without persistence, FLUSHALL), the results keep the records and the reconciler puts
 * them back. Each copy is written whole and never replaces a copy of a later revision. `ids()`
 * lists newest first: job ids are time-ordered.
 */
export type JobRecordCopies = RecordCopies<JobRecord>;

/** The record mirror in a results directory. */
export class RecordMirror extends RecordFiles<JobRecord> {
  constructor(dir: string) {
    super(dir, JOB_ID_PATTERN);
  }
}

/** The record mirror of a results store, wherever it keeps its results. */
export function recordMirror(results: ResultsStore): JobRecordCopies {
  return results.recordCopies<JobRecord>(JOB_ID_PATTERN);
}
