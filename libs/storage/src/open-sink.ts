import type { S3Client } from '@aws-sdk/client-s3';
import { localNaming } from './batch/name-files.js';
import { planLocalMoves } from './batch/plan-local-moves.js';
import type { BatchSink } from './batch-sink.js';
import { LocalFileOps } from './local/local-file-ops.js';
import { isS3Uri } from './s3/s3-uri.js';

export interface OpenSinkOptions {
  /** Local file operations through the native addon when it is built (default true); false forces node:fs. */
  native?: boolean;
  /** A HEAD before each no-overwrite put on buckets that ignore If-None-Match (FILER_S3_HEAD_GUARD). */
  headGuard?: boolean;
  /** The S3 client to use (a worker's shared one, which the sink then never closes); made from FILER_S3_* when absent. */
  s3Client?: S3Client;
}

/**
 * The one place that decides "local or S3?" for writing, as openSource does for reading: a job
 * whose sources or targets include an `s3://` prefix gets the S3 sink (S3FileOps, which also acts
 * on local paths; an S3 target planned against a listing of its prefix), any other the local one.
 * Only the S3 sink loads the AWS SDK.
 */
export async function openSink(sources: readonly string[], targets: readonly string[], opts: OpenSinkOptions = {}): Promise<BatchSink> {
  if ([...sources, ...targets].some(isS3Uri)) {
    const { openS3Sink } = await import('./s3/s3-sink.js');
    return openS3Sink(targets, opts);
  }
  return {
    plan: (requests, onConflict) => Promise.resolve(planLocalMoves(requests, onConflict)),
    ops: (copyFault) => new LocalFileOps(opts.native === false ? null : undefined, copyFault),
    naming: localNaming,
    close: () => undefined,
  };
}
