import type { S3Client } from '@aws-sdk/client-s3';
import { planMoves, type MovePlan, type MoveRequest, type OnConflict } from '@filer/engine';
import { resolveRequests } from '../batch/plan-local-moves.js';
import { listS3Prefix } from './list-s3-prefix.js';

/**
 * Plans copies, moves or renames onto S3 prefixes (a copy's destination, a rename's roots) in
 * memory: the cluster's plan phase and the CLI's rename (a copy or move in the CLI is planned over
 * its plan store, PlanStore, instead). What exists there is read with one flat listing per prefix,
 * its keys held as a set for the planner, which asks synchronously; S3 has no directories to be in
 * the way and keys are case-sensitive. `onListing` receives each listing (S3FileOps.useListing
 * takes it as the apply's view of it).
 */
export async function planS3Moves(
  client: S3Client,
  dests: string | readonly string[],
  requests: readonly MoveRequest[],
  onConflict: OnConflict,
  onListing?: (prefix: string, existing: Set<string>) => void,
): Promise<MovePlan> {
  const existing = new Set<string>();
  for (const dest of typeof dests === 'string' ? [dests] : dests) {
    const listed = new Set<string>();
    const prefix = await listS3Prefix(client, dest, (keys) => {
      for (const k of keys) listed.add(k);
    });
    for (const k of listed) existing.add(k);
    onListing?.(prefix, listed);
  }
  return planMoves(resolveRequests(requests), { exists: (p) => existing.has(p), caseInsensitive: false }, onConflict);
}
