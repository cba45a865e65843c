import type { Job } from 'bullmq';
import { continueAfterPlan, finishApply } from './apply-phase.js';
import type { ClusterContext } from './cluster-context.js';
import { finishDupes, startDupesHash } from './dupes-phase.js';
import type { FinalizeData } from './job-contracts.js';
import { addCounters, emptyCounters, ERROR_SAMPLE_LIMIT, type JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { finishManifestHash, hashesManifest, startManifestHash } from './manifest-hash-phase.js';
import type { PhaseSums } from './phase-sums.js';
import { planBatch } from './plan-batch.js';
import { finishPurge } from './purge-phase.js';
import { shardFailures, type ShardFailure } from './shard-errors.js';
import type { ShardResult } from './shard-result.js';

// The phases' own modules: each starts its phase (queues its shards under a finalizer) and ends it.
export { startApply } from './apply-phase.js';
export { startUndo } from './undo-phase.js';
export { startPurge } from './purge-phase.js';

interface Summed {
  results: ShardResult[];
  failures: (ShardFailure & { shard: string })[];
}

/** Exact totals of a phase, from its shards' return values (and the shards that failed for good, with their codes). */
async function sumChildren(ctx: ClusterContext, job: Job<FinalizeData>): Promise<Summed> {
  const values = await job.getChildrenValues<ShardResult>();
  const failures = await shardFailures(ctx.redis, job.data.jobId, await job.getIgnoredChildrenFailures());
  // In shard order, so the job's code and message do not depend on which shard failed last.
  failures.sort((a, b) => (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0));
  return { results: Object.values(values), failures };
}

function sumExtra(results: readonly ShardResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.extra ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * The parent of each phase's shards: runs once they have all finished, sums their results
 * exactly, and either finishes the job or starts its next phase. A job cancelled meanwhile stays
 * cancelled: every transition names the states it may leave.
 */
export async function runFinalize(ctx: ClusterContext, job: Job<FinalizeData>): Promise<void> {
  const { jobId, phase } = job.data;
  const rec = await ctx.store.get(jobId);
  if (rec === undefined || rec.state === 'cancelled') return;
  const { results, failures } = await sumChildren(ctx, job);
  const counters = emptyCounters();
  const errorSample = [...rec.errorSample];
  for (const r of results) {
    addCounters(counters, r.counters);
    for (const e of r.errorSample) if (errorSample.length < ERROR_SAMPLE_LIMIT) errorSample.push(e);
  }
  const failedShards = failures.length;
  if (failedShards > 0) {
    // The job carries the first failure's code; every failed shard is listed first in the error sample.
    const listed = failures.map((f) => ({
      path: f.path ?? f.shard,
      code: f.code,
      message: `${phase} shard ${f.shard} failed: ${f.message}`,
    }));
    await setState(
      ctx,
      jobId,
      'failed',
      (r) => {
        r.errorSample = [...listed, ...errorSample].slice(0, ERROR_SAMPLE_LIMIT);
        r.shards.failed += failedShards;
        r.code = failures[0].code;
        r.message = `${failedShards} ${phase} shard(s) failed after every retry: ${failures[0].code}: ${failures[0].message}`;
      },
      ['queued', 'running', 'applying', 'undoing', 'purging'],
    );
    return;
  }
  const shards = results.length;
  const summed: PhaseSums = { counters, errorSample, extra: sumExtra(results), shards };
  switch (phase) {
    case 'scan':
      // Run again after its worker died past the end of the scan phase (BullMQ took it back):
      // planning again would see the apply's own targets as conflicts. Finish what was begun.
      if (rec.state !== 'queued' && rec.state !== 'running') return continueAfterPlan(ctx, rec);
      await ctx.store.update(jobId, (r) => {
        r.counters = counters;
        r.errorSample = errorSample;
        r.shards = { total: shards, done: shards, failed: 0 };
      });
      return finishScan(ctx, rec);
    case 'hash':
      return rec.kind === 'manifest' ? finishManifestHash(ctx, jobId, summed) : finishDupes(ctx, jobId, summed);
    case 'apply':
    case 'undo':
      return finishApply(ctx, jobId, phase, summed);
    case 'purge':
      return finishPurge(ctx, jobId, summed);
  }
}

/** What follows a job's scan: its end (find, manifest), hashing (dupes, manifest --hash) or planning (rename, copy, move). */
async function finishScan(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  switch (rec.kind) {
    case 'find':
    case 'manifest':
      if (hashesManifest(rec.spec)) return startManifestHash(ctx, rec);
      await setState(ctx, id, 'completed', (r) => void (r.results = r.counters.matched), ['queued', 'running']);
      return;
    case 'dupes':
      return startDupesHash(ctx, rec);
    case 'rename':
    case 'copy':
    case 'move':
      return planBatch(ctx, rec);
  }
}
