import { localNaming } from './batch/name-files.js';
import type { BatchSink, OpenSinkOptions } from './batch-sink.js';
import { LocalFileOps } from './local/local-file-ops.js';
import { isS3Uri } from './s3/s3-uri.js';

/**
 * Whether a job whose files are `sources` and whose targets are `targets` needs the S3 sink: the
 * decision openSink makes, for a caller that must record it (a cluster job's apply and undo shards,
 * which run in other processes, take it in their payload).
 */
export function needsS3Sink(sources: readonly string[], targets: readonly string[]): boolean {
  return [...sources, ...targets].some(isS3Uri);
}

/**
 * The one place that decides "local or S3?" for writing, as openSource does for reading: a job
 * whose sources or targets include an `s3://` prefix gets the S3 sink (S3FileOps, which also acts
 * on local paths; an S3 target planned against a listing of its prefix), any other the local one.
 * Only the S3 sink loads the AWS SDK.
 */
export async function openSink(sources: readonly string[], targets: readonly string[], opts: OpenSinkOptions = {}): Promise<BatchSink> {
  if (needsS3Sink(sources, targets)) {
    const { openS3Sink } = await import('./s3/s3-sink.js');
    return openS3Sink(targets, opts, await opts.s3Client?.());
  }
  return {
    ops: (copyFault) => new LocalFileOps(opts.native === false ? null : undefined, copyFault),
    naming: localNaming,
    close: () => undefined,
  };
}
