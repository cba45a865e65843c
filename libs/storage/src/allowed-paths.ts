import { isInsideRoots } from './local/allowed-roots.js';
import { isInsideAllowedS3, type AllowedS3 } from './s3/allowed-s3.js';
import { isS3Uri } from './s3/s3-uri.js';

/** Whether a path a job would write lies inside what the workers may touch: an `s3://` one in the S3 allow-list, a local one in the allowed roots. */
export function isInsideAllowed(p: string, allowedRoots: readonly string[], allowedS3: readonly AllowedS3[]): boolean {
  return isS3Uri(p) ? isInsideAllowedS3(p, allowedS3) : isInsideRoots(p, allowedRoots);
}
