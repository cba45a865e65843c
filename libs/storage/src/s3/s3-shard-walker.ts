import type { S3Client } from '@aws-sdk/client-s3';
import { compileFilter, FilerError } from '@filer/core';
import { rootTask, walkPaged } from '@filer/engine';
import type { OpenShardWalker } from '../shard-walker.js';
import { isInsideAllowedS3 } from './allowed-s3.js';
import { checkS3Roots } from './check-s3-roots.js';
import { sdkLister } from './s3-list-page.js';
import { S3Source } from './s3-source.js';
import { SkippingSource } from './skipping-source.js';

/**
 * A scan shard over S3 prefixes — `DirTask`s exactly like directories: one prefix level each,
 * listed with Delimiter '/', its common prefixes pushed as new tasks — with the engine's paged
 * walk (16 listings at once unless `listings` says otherwise).
 *
 * A prefix is never split between shards: once `shouldStop` says stop no new prefix starts, but
 * one being listed is listed to its last page (`finishStarted`; a shard may overshoot its budget
 * by what its at most 16 in-flight prefixes still hold). Resuming a half-listed prefix elsewhere
 * (StartAfter its last key) would bound the overshoot, but at the price of a listing state that a
 * retry would have to reproduce exactly. Which prefixes are reached first depends on the order
 * pages arrive, hence `splitVaries`.
 */
export function s3ShardWalker(client: S3Client): OpenShardWalker {
  return (opts, sink, stats) => {
    const filter = compileFilter(opts.spec);
    return {
      splitVaries: true,
      async seed(root) {
        // The API admitted it; checked again where it is opened, against the workers' own allow-list.
        if (!isInsideAllowedS3(root, opts.allowedS3))
          throw new FilerError('E_PATH_NOT_ALLOWED', `root '${root}' is not inside an allowed bucket or prefix (FILER_ALLOWED_S3)`, {
            path: root,
          });
        await checkS3Roots(sdkLister(client), [root], () => Promise.resolve(client));
        return rootTask(root);
      },
      async walk(stack, shouldStop, skip) {
        const listing = new S3Source(sdkLister(client));
        const source = skip === undefined ? listing : new SkippingSource(listing, skip);
        await walkPaged(source, stack, { filter, statAll: true }, sink, stats, {
          shouldStop,
          finishStarted: true,
          concurrency: opts.listings,
        });
        if (source instanceof SkippingSource) stats.dirs -= source.skipped;
      },
    };
  };
}
