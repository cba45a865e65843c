import type { ClusterContext } from './cluster-context.js';
import { startApply } from './finalize.js';
import type { JobRecord } from './job-record.js';
import { QUEUES } from './queues.js';
import { QUEUE_STATE_LOST } from './reconciler.js';

export type ResumeOutcome = { resumed: true; record: JobRecord } | { resumed: false; reason: string };

const resumable = (r: JobRecord): boolean => r.state === 'failed' && r.code === QUEUE_STATE_LOST && r.phase === 'apply';

/**
 * Finishes the apply of a job whose queued shards Redis lost: the plan and each apply shard's
 * journal are on the results volume, so the apply phase starts again from the same plan (the same
 * partitions) and every shard resumes its own journal, deciding each action from the disk — what
 * `filer jobs resume` does for a CLI job. Only for jobs failed with E_QUEUE_STATE_LOST during
 * apply, and only once Redis has forgotten that apply (otherwise its shards' ids would still be
 * taken). A job lost before it applied anything is simply submitted again; a lost undo is asked
 * for again with `POST …/undo`.
 */
export async function resumeJob(ctx: ClusterContext, id: string): Promise<ResumeOutcome | undefined> {
  const rec = await ctx.store.get(id);
  if (rec === undefined) return undefined;
  if (!resumable(rec))
    return {
      resumed: false,
      reason: `job ${id} is ${rec.state}${rec.code ? ` (${rec.code})` : ''} in its ${rec.phase} phase: only an apply that failed with ${QUEUE_STATE_LOST} can be resumed`,
    };
  if ((await ctx.queues[QUEUES.finalize].getJobState(`${id}-final-apply`)) !== 'unknown')
    return { resumed: false, reason: `job ${id}'s apply is still known to Redis: its shards' state was not lost` };
  const planned = await ctx.store.update(
    id,
    (r) => {
      r.state = 'planned';
      delete r.code;
      delete r.message;
      delete r.finishedAt;
    },
    ['failed'],
    resumable,
  );
  if (planned === undefined || !(await startApply(ctx, id))) return { resumed: false, reason: `job ${id} changed meanwhile` };
  return { resumed: true, record: (await ctx.store.get(id))! };
}
