import { applyObjectDedupeJob, purgeDedupeJob, undoObjectDedupeJob } from '@filer/engine';
import type { DedupeStore } from '../dedupe-store.js';
import { describeS3DupeGroups } from './describe-s3-dupes.js';
import { createS3Client } from './s3-client.js';
import { s3ConfigFromEnv } from './s3-config.js';
import { S3DedupeOps } from './s3-dedupe-ops.js';
import { S3Objects } from './s3-objects.js';

/** A dedupe job's use cases over S3 objects (`remove`, `move-to`), on one client closed with the store. */
export function openS3DedupeStore(): DedupeStore {
  const client = createS3Client(s3ConfigFromEnv());
  const objects = new S3Objects(client);
  const ops = new S3DedupeOps(objects);
  return {
    describe: (groups, given) => describeS3DupeGroups(groups, given, objects),
    apply: (job, journal, o) => applyObjectDedupeJob(job, journal, ops, o),
    undo: (job, journal, o) => undoObjectDedupeJob(job, journal, ops, o),
    purge: (job, journal, o) => purgeDedupeJob(job, journal, ops, o),
    close: () => client.destroy(),
  };
}
