import type { Job } from 'bullmq';
import type { PathError } from '@filer/core';
import { purgeDedupeJob } from '@filer/engine';
import { SqliteJournal } from '@filer/storage/state';
import { removeCreatedDirs, withDedupeOps } from './batch-shards.js';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { contractJob, JobName, type PurgeShardData } from './job-contracts.js';
import { emptyCounters } from './job-record.js';
import { setState } from './job-transition.js';
import type { PhaseSums } from './phase-sums.js';
import { finalizeJobOptions, shardJobOptions } from './queues.js';
import { withShardJournal } from './shard-journal.js';
import { SHARD_ERROR_SAMPLE, type ShardResult } from './shard-result.js';

/**
 * Starts emptying the quarantine of an applied dupes job (`POST /v1/jobs/:id/purge`, `filer jobs
 * purge ID`): one purge shard per apply journal, under a finalizer. Returns false when the job is
 * no dupes job with an action that was applied (completed or failed). A purged job cannot be undone.
 */
export async function startPurge(ctx: ClusterContext, id: string): Promise<boolean> {
  const rec = await ctx.store.update(
    id,
    (r) => {
      r.state = 'purging';
      r.phase = 'purge';
    },
    ['completed', 'failed'],
    (r) => r.kind === 'dupes' && r.spec.options.action !== undefined && r.apply !== undefined,
  );
  if (rec === undefined) return false;
  const parts = await ctx.results.listParts(id, 'apply-in');
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'purge' }, finalizeJobOptions(ctx.config, `${id}-final-purge`)),
    children: parts.map((part, i) =>
      contractJob(JobName.purge, { jobId: id, part }, shardJobOptions(ctx.config, `${id}-purge-${part}`, i + 1)),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'purging', phase: 'purge' });
  return true;
}

/**
 * Purges one apply shard's quarantined copies with the engine's purgeDedupeJob (each deleted only
 * while it is still the inode the job put there). A retry finds its journal purged already and
 * does nothing; a path left (gone, or another file now) is counted and named.
 */
export async function runPurgeShard(ctx: ClusterContext, job: Job<PurgeShardData>): Promise<ShardResult> {
  const { jobId, part } = job.data;
  const none: ShardResult = { counters: emptyCounters(), errorSample: [], spawned: 0, extra: {} };
  const res = await withShardJournal(ctx, jobId, part, false, async (db) => {
    const journal = new SqliteJournal(db);
    const record = journal.list(1)[0];
    if (record === undefined || record.state === 'purged') return none;
    const left: PathError[] = [];
    const report = await withDedupeOps((ops) =>
      purgeDedupeJob(record, journal, ops, {
        onLeft: (path, why) =>
          void (left.length < SHARD_ERROR_SAMPLE && left.push({ path, code: 'E_PURGE_LEFT', message: `${path}: ${why}` })),
      }),
    );
    const counters = emptyCounters();
    if (report.left > 0) {
      counters.errors = report.left;
      counters.errorsByCode.E_PURGE_LEFT = report.left;
    }
    return { counters, errorSample: left, spawned: 0, extra: { removed: report.removed, bytesRemoved: report.bytes, left: report.left } };
  });
  return res ?? none;
}

/** The end of a purge: the directories the apply made, removed where empty now, and the job purged with its counts. */
export async function finishPurge(ctx: ClusterContext, jobId: string, summed: PhaseSums): Promise<void> {
  const { extra, counters, errorSample } = summed;
  await removeCreatedDirs(ctx, jobId, await ctx.results.listParts(jobId, 'apply-in'));
  await setState(
    ctx,
    jobId,
    'purged',
    (r) => {
      r.purge = { removed: extra.removed ?? 0, bytes: extra.bytesRemoved ?? 0, left: extra.left ?? 0 };
      r.errorSample = errorSample;
      r.counters.errors += counters.errors;
      for (const [c, n] of Object.entries(counters.errorsByCode)) r.counters.errorsByCode[c] = (r.counters.errorsByCode[c] ?? 0) + n;
      r.message =
        `quarantine purged: ${extra.removed ?? 0} copies (${extra.bytesRemoved ?? 0} bytes) deleted` +
        ((extra.left ?? 0) > 0 ? `, ${extra.left} left` : '');
    },
    ['purging'],
  );
}
