import { applyDedupeJob, purgeDedupeJob, undoDedupeJob, type FaultHook } from '@filer/engine';
import type { DedupeStore } from './dedupe-store.js';
import { eachDescribedGroup } from './local/describe-dupes.js';
import { LocalDedupeOps } from './local/local-dedupe-ops.js';
import { isS3Uri } from './s3/s3-uri.js';

/**
 * The one place a dedupe job's "local or S3?" is decided, from its roots (or its first action's
 * copy): local files get links, reflinks and a quarantine beside them (LocalDedupeOps); `s3://`
 * objects server-side copies and deletes (S3DedupeOps, loaded only then: it brings the AWS SDK).
 */
export async function openDedupeStore(
  paths: readonly string[],
  opts: { native?: boolean; copyFault?: FaultHook } = {},
): Promise<DedupeStore> {
  if (paths.some(isS3Uri)) {
    const { openS3DedupeStore } = await import('./s3/s3-dedupe-store.js');
    return openS3DedupeStore();
  }
  const ops = new LocalDedupeOps(opts.native === false ? null : undefined, opts.copyFault);
  return {
    describe: async (groups, given, real) => eachDescribedGroup(groups, given, real),
    apply: (job, journal, o) => applyDedupeJob(job, journal, ops, o),
    undo: (job, journal, o) => undoDedupeJob(job, journal, ops, o),
    purge: (job, journal, o) => purgeDedupeJob(job, journal, ops, o),
    close: () => undefined,
  };
}
