import { partitionActions, type FileIdentity } from '@filer/engine';
import { journalReport, removeCreatedDirs } from './batch-shards.js';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { contractJob, JobName, type ApplyShardData } from './job-contracts.js';
import type { JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import type { PhaseSums } from './phase-sums.js';
import { startPhaseProgress } from './phase-progress.js';
import { finalizeJobOptions, QUEUES, shardJobOptions } from './queues.js';
import { sinkPaths } from './sink-paths.js';

/**
 * A scan finalizer's re-run on a job its first run had already planned: the apply asked for is
 * started if the first run died before starting it, and queued if it died after marking the
 * job applying but before its shards were queued (an apply finalizer Redis knows, in any state,
 * means they were). Any other state is left as it is.
 */
export async function continueAfterPlan(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  if (rec.state === 'planned' && rec.spec.apply === true && rec.plan?.conflicts === 0) await startApply(ctx, rec.id);
  else if (rec.state === 'applying' && rec.phase === 'apply') {
    if ((await ctx.queues[QUEUES.finalize].getJobState(`${rec.id}-final-apply`)) === 'unknown') await queueApply(ctx, rec);
  }
}

/** Starts the apply phase of a planned job with no conflicts. Returns false when the job is not in that state. */
export async function startApply(ctx: ClusterContext, id: string): Promise<boolean> {
  const rec = await ctx.store.update(
    id,
    (r) => {
      r.state = 'applying';
      r.phase = 'apply';
    },
    ['planned'],
  );
  if (rec === undefined) return false;
  await queueApply(ctx, rec);
  return true;
}

/** Partitions the stored plan into apply parts and queues one apply shard each under the apply finalizer (same ids every time). */
async function queueApply(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const dedupe = rec.kind === 'dupes';
  const actions = dedupe ? await dedupeActions(ctx, id) : await plannedActions(ctx, id);
  const shards = partitionActions(actions, ctx.config.batchShardSize);
  const parts: string[] = [];
  for (const [i, list] of shards.entries()) {
    const part = String(i).padStart(5, '0');
    await ctx.results.writePart(
      id,
      'apply-in',
      part,
      list.map((a) => JSON.stringify(a) + '\n'),
    );
    parts.push(part);
  }
  const { spec } = rec;
  const data: Omit<ApplyShardData, 'part'> = dedupe
    ? { jobId: id, kind: 'dedupe', onConflict: 'fail', verify: true, ignorePerms: spec.options.ignorePerms === true, sink: sinkPaths(spec) }
    : {
        jobId: id,
        kind: spec.kind as ApplyShardData['kind'],
        onConflict: spec.options.onConflict ?? 'fail',
        verify: spec.options.verify ?? false,
        sink: sinkPaths(spec),
      };
  await startPhaseProgress(
    ctx.redis,
    id,
    'apply',
    actions.length,
    actions.reduce((n, a) => n + a.size, 0),
  );
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'apply' }, finalizeJobOptions(ctx.config, `${id}-final-apply`)),
    children: parts.map((part, i) =>
      contractJob(JobName.apply, { ...data, part }, shardJobOptions(ctx.config, `${id}-apply-${part}`, i + 1)),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'applying', phase: 'apply' });
}

/** The part beside a dedupe job's plan that holds its journal's actions (identities, kept file), in plan order. */
export const DEDUPE_ACTIONS_PART = 'plan-actions';

type PlannedAction = { source: string; target: string; size: number; overwrite: boolean; sourceId?: FileIdentity };

/** rename/copy/move: the plan's actions with the identities journaled beside them. */
async function plannedActions(ctx: ClusterContext, id: string): Promise<PlannedAction[]> {
  const actions: PlannedAction[] = [];
  const ids = ctx.results.lines(id, 'plan-ids')[Symbol.asyncIterator]();
  for await (const line of ctx.results.lines(id, 'plan')) {
    const a = JSON.parse(line) as { action: string; source: string; target: string; size: number; overwrite?: boolean };
    if (a.action === 'conflict') continue;
    const sourceId = JSON.parse((await ids.next()).value as string) as FileIdentity | null;
    actions.push({ source: a.source, target: a.target, size: a.size, overwrite: a.overwrite === true, ...(sourceId ? { sourceId } : {}) });
  }
  return actions;
}

/** dupes with an action: the journal rows its plan stored (each with its dedupe step). */
async function dedupeActions(ctx: ClusterContext, id: string): Promise<PlannedAction[]> {
  const actions: PlannedAction[] = [];
  for await (const line of ctx.results.lines(id, DEDUPE_ACTIONS_PART)) actions.push(JSON.parse(line) as PlannedAction);
  return actions;
}

/** The end of an apply (or undo): the per-file report from the shards' journals, and the job's final state. */
export async function finishApply(ctx: ClusterContext, jobId: string, phase: 'apply' | 'undo', summed: PhaseSums): Promise<void> {
  const { extra, counters, errorSample } = summed;
  const report: string[] = [];
  const parts = await ctx.results.listParts(jobId, 'apply-in');
  for (const p of parts) report.push(...(await journalReport(ctx, jobId, p)));
  if (phase === 'undo' && (await ctx.store.get(jobId))?.kind === 'dupes') await removeCreatedDirs(ctx, jobId, parts);
  await ctx.results.writePart(jobId, 'report', 'all', report);
  const stopped = (extra.stopped ?? 0) > 0;
  await setState(
    ctx,
    jobId,
    phase === 'undo' ? 'undone' : stopped ? 'failed' : 'completed',
    (r) => {
      r.errorSample = errorSample;
      r.apply = {
        done: extra.done ?? 0,
        failed: extra.failed ?? 0,
        skipped: extra.skipped ?? 0,
        undone: extra.undone ?? 0,
        pending: extra.pending ?? 0,
      };
      r.results = report.length;
      r.counters.errors += counters.errors;
      for (const [c, n] of Object.entries(counters.errorsByCode)) r.counters.errorsByCode[c] = (r.counters.errorsByCode[c] ?? 0) + n;
      r.message = stopped
        ? r.errorSample.find((e) => e.code === 'ENOSPC')?.message
        : (extra.failed ?? 0) > 0
          ? `${extra.failed} file(s) failed; see the report`
          : undefined;
    },
    phase === 'undo' ? ['undoing'] : ['applying'],
  );
}
