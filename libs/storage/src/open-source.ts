import { localWalkSource } from './local/local-walk-source.js';
import { nativeScan } from './local/native-scan.js';
import { isS3Uri } from './s3/s3-uri.js';
import type { WalkSource } from './walk-source.js';

export interface OpenSourceOptions {
  /** Use the native scanner for local roots when it is built (default true); false forces node:fs. */
  native?: boolean;
}

/**
 * The one place that decides "local or S3?" for reading: roots (already checked to be all local
 * or all S3) become the matching adapter. Local roots get the native scanner unless it is off
 * (`native: false`, FILER_FS_SCAN_ADDON=off) or not built. S3 roots are checked here (bucket
 * there, prefix listable), and only they load the AWS SDK.
 */
export async function openSource(roots: readonly string[], opts: OpenSourceOptions = {}): Promise<WalkSource> {
  if (roots.length > 0 && isS3Uri(roots[0])) {
    const { openS3Source } = await import('./s3/s3-walk-source.js');
    return openS3Source(roots);
  }
  return localWalkSource(roots, opts.native !== false && nativeScan !== null);
}
