import type { S3Client } from '@aws-sdk/client-s3';
import { localWalkSource } from './local/local-walk-source.js';
import { nativeScan } from './local/native-scan.js';
import { isS3Uri } from './s3/s3-uri.js';
import type { WalkSource } from './walk-source.js';

export interface OpenSourceOptions {
  /** Use the native scanner for local roots when it is built (default true); false forces node:fs. */
  native?: boolean;
  /**
   * A worker's shared S3 client, asked for only when the roots are on S3 (so a cluster over local
   * disks never loads the AWS SDK). The source never closes it, and does not check the roots on
   * opening: a cluster scan shard checks a root where it seeds it (ShardWalker.seed), and a later
   * phase reads what a scan already listed.
   */
  s3Client?: () => Promise<S3Client>;
}

/**
 * The one place that decides "local or S3?" for reading: roots (already checked to be all local
 * or all S3) become the matching adapter. Local roots get the native scanner unless it is off
 * (`native: false`, FILER_FS_SCAN_ADDON=off) or not built. S3 roots are checked here (bucket
 * there, prefix listable) unless a shared client is given, and only they load the AWS SDK.
 */
export async function openSource(roots: readonly string[], opts: OpenSourceOptions = {}): Promise<WalkSource> {
  if (roots.length > 0 && isS3Uri(roots[0])) {
    const { openS3Source } = await import('./s3/s3-walk-source.js');
    return openS3Source(roots, await opts.s3Client?.());
  }
  return localWalkSource(roots, opts.native !== false && nativeScan !== null);
}
