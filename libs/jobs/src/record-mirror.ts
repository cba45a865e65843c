import { RecordFiles } from '@filer/storage/results';
import { JOB_ID_PATTERN, type JobRecord } from './job-record.js';

/**
 * A copy of every job record on the results volume, `<results>/<job>/record.json`, rewritten on
 * each transition: Redis can lose its state (a restart without persistence, FLUSHALL), the
 * results volume keeps the records and the reconciler puts them back. Each copy is durable and
 * never replaces a copy of a later revision (`RecordFiles`). `ids()` lists newest first: job ids
 * are time-ordered.
 */
export class RecordMirror extends RecordFiles<JobRecord> {
  constructor(dir: string) {
    super(dir, JOB_ID_PATTERN);
  }
}
