import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { planMoves, type MovePlan, type MoveRequest, type OnConflict } from '@filer/engine';
import { resolveRequests } from '../batch/plan-local-moves.js';
import { s3Error } from './s3-errors.js';
import { parseS3Uri } from './s3-uri.js';

/**
 * Plans copies or moves onto an S3 destination prefix. What exists there is read with one flat
 * listing of the prefix (its keys held as a set for the planner, which asks synchronously); S3
 * has no directories to be in the way and keys are case-sensitive. `onListing` receives that
 * listing (S3FileOps.useListing takes it as the apply's view of the destination).
 */
export async function planS3Moves(
  client: S3Client,
  dest: string,
  requests: readonly MoveRequest[],
  onConflict: OnConflict,
  onListing?: (prefix: string, existing: ReadonlySet<string>) => void,
): Promise<MovePlan> {
  const { bucket, key } = parseS3Uri(dest, 'dest');
  const prefix = key === '' || key.endsWith('/') ? key : key + '/';
  const existing = new Set<string>();
  let token: string | undefined;
  do {
    let out;
    try {
      out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (e) {
      throw s3Error(e, `cannot list ${dest}`);
    }
    for (const o of out.Contents ?? []) existing.add(`s3://${bucket}/${o.Key}`);
    token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
  } while (token !== undefined);
  onListing?.(`s3://${bucket}/${prefix}`, existing);
  return planMoves(resolveRequests(requests), { exists: (p) => existing.has(p), caseInsensitive: false }, onConflict);
}
