import type { Pace } from '@filer/storage/batch';
import type { PlanStore } from '@filer/storage/state';
import type { ResultsStore } from '@filer/storage/results';

/**
 * Writes a plan made in a plan store as the job's `plan` part (its actions in the order they run,
 * then its conflicts, one JSON line each: what users read) and its `plan-ids` part (the identity
 * to journal for each action, in the same order: what the apply reads), streamed from the store
 * a page at a time. An action whose target lies outside the allowed roots (`allowed`) is refused
 * as it is read: it becomes an `outside-root` conflict after the plan's own. Returns how many
 * actions and conflicts were written.
 */
export async function writeStoredPlan(
  results: ResultsStore,
  jobId: string,
  kind: string,
  store: PlanStore,
  allowed: (target: string) => boolean,
  pace: Pace,
): Promise<{ actions: number; conflicts: number }> {
  const plan = await results.openPart(jobId, 'plan', 'all');
  const ids = await results.openPart(jobId, 'plan-ids', 'all');
  try {
    let actions = 0;
    for (const a of store.actions()) {
      // Recorded between the store's pages of actions (read whole, a page at a time): after every conflict the planner found.
      if (!allowed(a.target))
        store.addConflict({ kind: 'outside-root', source: a.source, target: a.target, detail: 'target lies outside the allowed roots' });
      else {
        const line = {
          action: kind,
          source: a.source,
          target: a.target,
          size: a.size,
          ...(a.overwrite ? { overwrite: true } : {}),
          ...(a.note !== undefined ? { dateSource: a.note } : {}),
        };
        plan.write(JSON.stringify(line) + '\n');
        ids.write(JSON.stringify(a.sourceId ?? null) + '\n');
        actions++;
      }
      const turn = pace();
      if (turn !== undefined) await turn;
    }
    let conflicts = 0;
    for (const c of store.conflicts()) {
      plan.write(JSON.stringify({ action: 'conflict', ...c }) + '\n');
      conflicts++;
      const turn = pace();
      if (turn !== undefined) await turn;
    }
    await plan.commit();
    await ids.commit();
    return { actions, conflicts };
  } catch (e) {
    await Promise.allSettled([plan.abort(), ids.abort()]);
    throw e;
  }
}
