import type { FileEntry } from '@filer/core';
import { compareDupeGroups, partitionBySize, type DupeFile, type DupeGroup } from '@filer/engine';
import { openSource } from '@filer/storage';
import { continueAfterPlan } from './apply-phase.js';
import type { ClusterContext } from './cluster-context.js';
import { dupesSummary, planDedupeJob } from './dedupe-plan-phase.js';
import { publishEvent } from './events.js';
import { contractJob, JobName } from './job-contracts.js';
import { emptyCounters, type JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { startPhaseProgress } from './phase-progress.js';
import { recordPhaseSums, type PhaseSums } from './phase-sums.js';
import { finalizeJobOptions, shardJobOptions } from './queues.js';
import { sharedS3Client } from './s3-access.js';

/**
 * Dupes' second phase: files whose size is shared are partitioned by size — every file of a
 * size lands in one hash shard, so each shard's groups are complete and need no merging beyond
 * a sort. Sizes are counted in a first pass so only candidates are kept in memory.
 */
export async function startDupesHash(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const counts = new Map<number, number>();
  for await (const line of ctx.results.lines(id, 'scan')) {
    const size = (JSON.parse(line) as FileEntry).size ?? 0;
    counts.set(size, (counts.get(size) ?? 0) + 1);
  }
  const bySize = new Map<number, DupeFile[]>();
  // The source's dupe files: a file's device and inode, or (objects have neither) a number per distinct key,
  // so a key listed twice by overlapping roots counts once.
  const source = await openSource(rec.spec.roots, { s3Client: sharedS3Client });
  const candidates = source.dupeFiles();
  source.close();
  for await (const line of ctx.results.lines(id, 'scan')) {
    const e = JSON.parse(line) as FileEntry;
    const size = e.size ?? 0;
    if ((counts.get(size) ?? 0) < 2) continue;
    let list = bySize.get(size);
    if (list === undefined) bySize.set(size, (list = []));
    candidates.add([e]);
    list.push(candidates.files[candidates.files.length - 1]);
  }
  const parts: string[] = [];
  let files = 0;
  let bytes = 0;
  for (const shard of partitionBySize(bySize, ctx.config.batchShardSize)) {
    const part = String(parts.length).padStart(5, '0');
    await ctx.results.writePart(
      id,
      'hash-in',
      part,
      shard.map((f) => JSON.stringify(f) + '\n'),
    );
    parts.push(part);
    files += shard.length;
    for (const f of shard) bytes += f.size;
  }
  if (parts.length === 0) {
    // No two files share a size: an action's plan is empty, yet a plan (and an apply of nothing when asked).
    if (rec.spec.options.action !== undefined)
      return planDedupeJob(ctx, rec, [], { counters: emptyCounters(), errorSample: [...rec.errorSample], extra: {}, shards: 0 });
    await ctx.results.writePart(id, 'results', 'dupes', []);
    await setState(
      ctx,
      id,
      'completed',
      (r) => {
        r.dupes = { groups: 0, duplicateFiles: 0, wastedBytes: 0, filesHashed: 0, bytesHashed: 0 };
        r.results = 0;
      },
      ['queued', 'running'],
    );
    return;
  }
  // Progress counts the candidates' files and bytes as their shards finish (a shard may read less: samples first).
  await startPhaseProgress(ctx.redis, id, 'hash', files, bytes);
  await ctx.store.update(id, (r) => void (r.phase = 'hash'));
  const options = rec.spec.options;
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'hash' }, finalizeJobOptions(ctx.config, `${id}-final-hash`)),
    children: parts.map((part, i) =>
      contractJob(
        JobName.hash,
        { jobId: id, part, algorithm: options.hash ?? 'xxh128', includeEmpty: options.includeEmpty ?? false },
        shardJobOptions(ctx.config, `${id}-hash-${part}`, i + 1),
      ),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'running', phase: 'hash' });
}

/** The end of dupes' hash phase: every shard's groups, sorted into the job's results (or, with an action, planned). */
export async function finishDupes(ctx: ClusterContext, jobId: string, summed: PhaseSums): Promise<void> {
  const { extra } = summed;
  const groups: DupeGroup[] = [];
  for await (const line of ctx.results.lines(jobId, 'groups')) groups.push(JSON.parse(line) as DupeGroup);
  groups.sort(compareDupeGroups);
  const rec = await ctx.store.get(jobId);
  if (rec?.spec.options.action !== undefined) {
    // Run again after its worker died past the plan: finish what was begun, never plan twice.
    if (rec.state !== 'queued' && rec.state !== 'running') return continueAfterPlan(ctx, rec);
    return planDedupeJob(ctx, rec, groups, summed);
  }
  await ctx.results.writePart(
    jobId,
    'results',
    'dupes',
    groups.map((g) => JSON.stringify(g) + '\n'),
  );
  await setState(
    ctx,
    jobId,
    'completed',
    (r) => {
      recordPhaseSums(r, summed);
      r.dupes = dupesSummary(extra, groups.length);
      r.results = groups.length;
    },
    ['running', 'queued'],
  );
}
