import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { planMoves, type MovePlan, type MoveRequest, type OnConflict } from '@filer/engine';
import { resolveRequests } from '../batch/plan-local-moves.js';
import { s3Error } from './s3-errors.js';
import { parseS3Uri } from './s3-uri.js';

/**
 * Plans copies, moves or renames onto S3 prefixes (a copy's destination, a rename's roots). What
 * exists there is read with one flat listing per prefix (its keys held as a set for the planner,
 * which asks synchronously); S3 has no directories to be in the way and keys are case-sensitive.
 * `onListing` receives each listing (S3FileOps.useListing takes it as the apply's view of it).
 */
export async function planS3Moves(
  client: S3Client,
  dests: string | readonly string[],
  requests: readonly MoveRequest[],
  onConflict: OnConflict,
  onListing?: (prefix: string, existing: ReadonlySet<string>) => void,
): Promise<MovePlan> {
  const existing = new Set<string>();
  for (const dest of typeof dests === 'string' ? [dests] : dests) {
    const listed = await listPrefix(client, dest);
    for (const k of listed.keys) existing.add(k);
    onListing?.(listed.prefix, listed.keys);
  }
  return planMoves(resolveRequests(requests), { exists: (p) => existing.has(p), caseInsensitive: false }, onConflict);
}

async function listPrefix(client: S3Client, dest: string): Promise<{ prefix: string; keys: Set<string> }> {
  const { bucket, key } = parseS3Uri(dest, 'dest');
  const prefix = key === '' || key.endsWith('/') ? key : key + '/';
  const keys = new Set<string>();
  let token: string | undefined;
  do {
    let out;
    try {
      out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (e) {
      throw s3Error(e, `cannot list ${dest}`);
    }
    for (const o of out.Contents ?? []) keys.add(`s3://${bucket}/${o.Key}`);
    token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
  } while (token !== undefined);
  return { prefix: `s3://${bucket}/${prefix}`, keys };
}
