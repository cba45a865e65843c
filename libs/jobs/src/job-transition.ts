import { publishEvent } from './events.js';
import type { JobRecord, JobState } from './job-record.js';
import type { ClusterContext } from './cluster-context.js';

/**
 * Moves a job to `state` (with `change` applied) if it is still in one of `from`, and tells the
 * event stream. Returns the new record, or undefined when the job had left those states (a job
 * cancelled meanwhile stays cancelled).
 */
export async function setState(
  ctx: ClusterContext,
  id: string,
  state: JobState,
  change: (r: JobRecord) => void,
  from: readonly JobState[],
): Promise<JobRecord | undefined> {
  const rec = await ctx.store.update(
    id,
    (r) => {
      change(r);
      r.state = state;
      if (['completed', 'failed', 'undone', 'purged'].includes(state)) r.finishedAt = new Date().toISOString();
    },
    from,
  );
  if (rec !== undefined) await publishEvent(ctx.redis, { id, type: 'state', state, phase: rec.phase });
  return rec;
}
