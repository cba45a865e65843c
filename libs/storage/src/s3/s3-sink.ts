import type { S3Client } from '@aws-sdk/client-s3';
import type { FaultHook } from '@filer/engine';
import type { BatchSink, KeyListing, OpenSinkOptions } from '../batch-sink.js';
import { LocalFileOps } from '../local/local-file-ops.js';
import { listS3Prefix } from './list-s3-prefix.js';
import { createS3Client } from './s3-client.js';
import { s3ConfigFromEnv } from './s3-config.js';
import { S3FileOps } from './s3-file-ops.js';
import { S3Objects } from './s3-objects.js';
import { s3Naming } from './s3-naming.js';
import { isS3Uri, parseS3Uri } from './s3-uri.js';

/**
 * A batch sink for jobs that touch S3: targets on S3 are planned against one listing of each
 * target prefix, streamed into the plan store (`listTargets`), and that listing is handed to the
 * file operations the apply uses (a key it did not list is absent
 * without a request). Local targets (a download) are planned on the disk.
 */
export function openS3Sink(targets: readonly string[], opts: OpenSinkOptions, shared?: S3Client): BatchSink {
  const client = shared ?? createS3Client(s3ConfigFromEnv());
  const objects = new S3Objects(client);
  const s3Targets = targets.filter(isS3Uri);
  const listings: [string, KeyListing][] = [];
  let ops: S3FileOps | undefined;
  return {
    listTargets: async (store) => {
      if (s3Targets.length === 0) return undefined;
      const { listed } = store;
      for (const t of s3Targets) listings.push([await listS3Prefix(client, t, (keys) => store.addListed(keys)), listed]);
      return { exists: (p) => listed.has(p), caseInsensitive: false };
    },
    ops: (copyFault?: FaultHook) => {
      ops ??= new S3FileOps(objects, new LocalFileOps(opts.native === false ? null : undefined, copyFault), { headGuard: opts.headGuard });
      for (const [prefix, existing] of listings) ops.useListing(prefix, existing);
      return ops;
    },
    noClobber: async (apply) => {
      if (s3Targets.length === 0) return undefined;
      const notes: string[] = [];
      for (const name of new Set(s3Targets.map((t) => parseS3Uri(t, 'dest').bucket))) {
        const bucket = `s3://${name}/`;
        // The probe writes (and removes) an object: only when the plan is to be carried out.
        if (!apply)
          notes.push(`no-clobber: ${bucket} is probed for If-None-Match: * when applied (weak no-clobber (racy) where it is ignored)`);
        else if (await objects.supportsConditionalWrites(name))
          notes.push(`no-clobber: ${bucket} honours If-None-Match: * (a key written by another client meanwhile is never replaced)`);
        else
          notes.push(
            `weak no-clobber (racy): ${bucket} ignores If-None-Match: *, so existing keys are found by this plan's listing` +
              `${opts.headGuard === true ? ' and a HEAD before each put' : ''}; a key another client writes in between can be replaced`,
          );
      }
      return notes.join('\n');
    },
    naming: s3Naming(client),
    close: () => {
      if (shared === undefined) client.destroy();
    },
  };
}
