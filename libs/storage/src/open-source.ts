import { nativeScan } from './local/native-scan.js';
import { startParallelWalk } from './local/parallel-walk.js';
import { isS3Uri } from './s3/s3-uri.js';
import type { WalkSource } from './walk-source.js';

export interface OpenSourceOptions {
  /** Use the native scanner for local roots when it is built (default true); false forces node:fs. */
  native?: boolean;
}

/**
 * The one place that decides "local or S3?" for reading: roots (already checked to be all local
 * or all S3) become the matching adapter. S3 roots are checked (bucket there, prefix listable)
 * here, and only they load the AWS SDK.
 */
export async function openSource(roots: readonly string[], opts: OpenSourceOptions = {}): Promise<WalkSource> {
  if (roots.length > 0 && isS3Uri(roots[0])) {
    const { openS3Source } = await import('./s3/s3-walk-source.js');
    return openS3Source(roots);
  }
  const native = opts.native !== false && nativeScan !== null;
  return {
    kind: native ? 'local-native' : 'local-portable',
    roots,
    notes: () => [],
    walk: (walk) => startParallelWalk({ ...walk, roots, native }),
    close: () => undefined,
  };
}
