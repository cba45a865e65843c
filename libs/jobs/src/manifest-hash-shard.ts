import type { Job } from 'bullmq';
import type { FileEntry, PathError } from '@filer/core';
import { entryToJson, type DupeFile, type HashOutcome } from '@filer/engine';
import { isS3Uri } from '@filer/storage';
import { LocalFileHasher } from '@filer/storage/hashing';
import type { ClusterContext } from './cluster-context.js';
import type { HashShardData } from './job-contracts.js';
import { emptyCounters } from './job-record.js';
import { MANIFEST_PART } from './manifest-hash-phase.js';
import { addPhaseProgress } from './phase-progress.js';
import { s3Access } from './s3-access.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';

/** sha256 of objects over ranged GETs, as `filer manifest --hash` reads them (never the ETag). */
async function hashObjects(entries: readonly FileEntry[]): Promise<HashOutcome[]> {
  const { s3, client } = await s3Access();
  const files = new s3.S3DupeFiles();
  for (const e of entries) files.add(e);
  return new s3.S3FileHasher(client, 'sha256').hash(files.files, 'full');
}

/** sha256 of local files on the hashing threads, each checked against the identity the scan recorded. */
async function hashLocal(entries: readonly FileEntry[], follow: boolean): Promise<HashOutcome[]> {
  const hasher = new LocalFileHasher('sha256', undefined, follow);
  try {
    return await hasher.hash(entries as unknown as DupeFile[], 'full');
  } finally {
    await hasher.close();
  }
}

/**
 * One part of a hashed manifest: its entries, in scan order, as find records with a `sha256`
 * field last (null for what is not a file, or a file that could not be read) — the record
 * `filer manifest --hash --format ndjson` writes for it.
 */
export async function runManifestHashShard(ctx: ClusterContext, job: Job<HashShardData>): Promise<ShardResult> {
  const { jobId, part, follow } = job.data;
  const entries: FileEntry[] = [];
  for await (const line of ctx.results.partLines(jobId, 'hash-in', part)) entries.push(JSON.parse(line) as FileEntry);
  const files = entries.filter((e) => e.kind === 'file');
  const objects = files.filter((e) => isS3Uri(e.path));
  const local = files.filter((e) => !isS3Uri(e.path));
  const hashes = new Map<string, string>();
  const errors: PathError[] = [];
  const keep = (list: readonly FileEntry[], outcomes: readonly HashOutcome[]): void =>
    outcomes.forEach((o, i) => {
      if ('error' in o) errors.push(o.error);
      else hashes.set(list[i].path, o.hash);
    });
  if (objects.length > 0) keep(objects, await hashObjects(objects));
  if (local.length > 0) keep(local, await hashLocal(local, follow ?? false));
  ctx.results.writePart(
    jobId,
    MANIFEST_PART,
    part,
    entries.map((e) => `${entryToJson(e).slice(0, -1)},"sha256":${JSON.stringify(hashes.get(e.path) ?? null)}}\n`),
  );
  const counters = emptyCounters();
  for (const e of errors) {
    counters.errors++;
    counters.errorsByCode[e.code] = (counters.errorsByCode[e.code] ?? 0) + 1;
  }
  const bytes = files.reduce((n, e) => n + (e.size ?? 0), 0);
  await addPhaseProgress(ctx.redis, jobId, files.length, bytes);
  return {
    counters,
    errorSample: errors.slice(0, SHARD_ERROR_SAMPLE),
    spawned: 0,
    extra: { filesHashed: hashes.size, bytesHashed: bytes },
  };
}
