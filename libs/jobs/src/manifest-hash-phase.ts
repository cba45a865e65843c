// A manifest job with `options.hash`: the scan keeps whole entries (with the identity the
// hashers check), then a hash phase reads them in scan order, a part of `batchShardSize` entries
// per hash shard; each shard writes its entries as find records with their sha256, so the parts
// in name order are the manifest in the scan's order, as an unhashed manifest's results are.
import type { FileEntry } from '@filer/core';
import { chunksOf } from '@filer/engine';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { contractJob, JobName } from './job-contracts.js';
import type { JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { startPhaseProgress } from './phase-progress.js';
import { recordPhaseSums, type PhaseSums } from './phase-sums.js';
import { finalizeJobOptions, shardJobOptions } from './queues.js';

/** The part kind a hashed manifest's records are written to (an unhashed one's are the scan's own). */
export const MANIFEST_PART = 'manifest';

/** Whether a job is a manifest with a sha256 column: its scan keeps entries and a hash phase follows. */
export function hashesManifest(spec: JobRecord['spec']): boolean {
  return spec.kind === 'manifest' && spec.options.hash !== undefined;
}

/** Splits the scanned entries into hash parts and queues one hash shard each. */
export async function startManifestHash(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const parts: string[] = [];
  let files = 0;
  let bytes = 0;
  for await (const lines of chunksOf(ctx.results.lines(id, 'scan'), ctx.config.batchShardSize)) {
    for (const line of lines) {
      const e = JSON.parse(line) as FileEntry;
      if (e.kind === 'file') {
        files++;
        bytes += e.size ?? 0;
      }
    }
    const part = String(parts.length).padStart(5, '0');
    await ctx.results.writePart(
      id,
      'hash-in',
      part,
      lines.map((l) => l + '\n'),
    );
    parts.push(part);
  }
  if (parts.length === 0) {
    await ctx.results.writePart(id, MANIFEST_PART, 'empty', []);
    await setState(ctx, id, 'completed', (r) => void (r.results = 0), ['queued', 'running']);
    return;
  }
  await startPhaseProgress(ctx.redis, id, 'hash', files, bytes);
  await ctx.store.update(id, (r) => void (r.phase = 'hash'));
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'hash' }, finalizeJobOptions(ctx.config, `${id}-final-hash`)),
    children: parts.map((part, i) =>
      contractJob(
        JobName.hash,
        { jobId: id, part, algorithm: 'sha256', includeEmpty: true, manifest: true, follow: rec.spec.filter.follow },
        shardJobOptions(ctx.config, `${id}-hash-${part}`, i + 1),
      ),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'running', phase: 'hash' });
}

/** The end of a manifest's hash phase: the records are in place; the job counts them and its errors. */
export async function finishManifestHash(ctx: ClusterContext, jobId: string, summed: PhaseSums): Promise<void> {
  await setState(
    ctx,
    jobId,
    'completed',
    (r) => {
      recordPhaseSums(r, summed);
      r.results = r.counters.matched;
    },
    ['running', 'queued'],
  );
}
