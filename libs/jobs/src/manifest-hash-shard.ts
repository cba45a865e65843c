import type { Job } from 'bullmq';
import type { FileEntry, PathError } from '@filer/core';
import { entryToJson } from '@filer/engine';
import { openSource } from '@filer/storage';
import { hashManifestFiles } from '@filer/storage/manifest';
import type { ClusterContext } from './cluster-context.js';
import type { HashShardData } from './job-contracts.js';
import { emptyCounters } from './job-record.js';
import { MANIFEST_PART } from './manifest-hash-phase.js';
import { addPhaseProgress } from './phase-progress.js';
import { sharedS3Client } from './s3-access.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';

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
  const hashes = new Map<string, string>();
  const errors: PathError[] = [];
  // The CLI's hashing, from the same source: a manifest's roots are all local or all S3 (admitJob).
  const source = await openSource([files[0]?.path ?? ''], { s3Client: sharedS3Client });
  try {
    for (const [filePath, o] of await hashManifestFiles(source, files, follow ?? false)) {
      if ('error' in o) errors.push(o.error);
      else hashes.set(filePath, o.hash);
    }
  } finally {
    source.close();
  }
  await ctx.results.writePart(
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
