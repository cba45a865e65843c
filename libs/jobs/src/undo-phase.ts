import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { contractJob, JobName } from './job-contracts.js';
import { startPhaseProgress } from './phase-progress.js';
import { finalizeJobOptions, shardJobOptions } from './queues.js';
import { sinkPaths } from './sink-paths.js';

/** Starts undoing an applied job, one shard per journal. Returns false when the job was not applied. */
export async function startUndo(ctx: ClusterContext, id: string): Promise<boolean> {
  if ((await ctx.store.get(id))?.apply === undefined) return false; // nothing was ever applied
  const rec = await ctx.store.update(
    id,
    (r) => {
      r.state = 'undoing';
      r.phase = 'undo';
    },
    ['completed', 'failed'],
  );
  if (rec === undefined) return false;
  const parts = await ctx.results.listParts(id, 'apply-in');
  const sink = sinkPaths(rec.spec);
  // The totals are the planned actions: undo puts back what apply did of them.
  let files = 0;
  let bytes = 0;
  for await (const line of ctx.results.lines(id, 'apply-in')) {
    files++;
    bytes += (JSON.parse(line) as { size: number }).size;
  }
  await startPhaseProgress(ctx.redis, id, 'undo', files, bytes);
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'undo' }, finalizeJobOptions(ctx.config, `${id}-final-undo`)),
    children: parts.map((part, i) =>
      contractJob(JobName.undo, { jobId: id, part, sink }, shardJobOptions(ctx.config, `${id}-undo-${part}`, i + 1)),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'undoing', phase: 'undo' });
  return true;
}
