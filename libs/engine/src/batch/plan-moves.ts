import { foldOf, MemoryTargetIndex, MovePlanner } from './move-planner.js';

export { isInside, suffixedTarget } from './plan-names.js';
export * from './plan-types.js';
import type { Conflict, MovePlan, MoveRequest, OnConflict, TargetView } from './plan-types.js';

/**
 * Plans moves, finding every conflict before anything changes: two sources to one target
 * (also when they differ only in case on a case-insensitive destination), a target that exists
 * and is not itself vacated first, cycles and swaps (a→b, b→a: refused, never done with a
 * hidden temporary name), invalid and too-long names. `onConflict` decides what a conflict does:
 * fail (kept in `conflicts`, nothing may run), skip (dropped), suffix (`name (1).ext`), overwrite
 * (an existing target is replaced; never allowed for same-target or cycles).
 *
 * The rules live in MovePlanner (move-planner.ts); this is its in-memory form, for plans that fit
 * in memory (the cluster's plan phase, S3, tests). The CLI's local plans run the same planner over
 * a SQLite TargetIndex (storage's plan store).
 */
export function planMoves(requests: readonly MoveRequest[], view: TargetView, onConflict: OnConflict): MovePlan {
  const steps = planning(requests, view, onConflict);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * planMoves with a pause between requests whenever `pace` asks for one (returns a promise): a
 * worker's plan step of a million requests must let its event loop turn, or BullMQ cannot renew
 * its lock and takes the step for stalled while it still runs.
 */
export async function planMovesPaced(
  requests: readonly MoveRequest[],
  view: TargetView,
  onConflict: OnConflict,
  pace: () => Promise<void> | undefined,
): Promise<MovePlan> {
  const steps = planning(requests, view, onConflict);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    const pause = pace();
    if (pause !== undefined) await pause;
  }
}

/** The plan, one request a step (a step yields nothing: it is where a caller may pause). */
function* planning(requests: readonly MoveRequest[], view: TargetView, onConflict: OnConflict): Generator<void, MovePlan> {
  const fold = foldOf(view);
  const index = new MemoryTargetIndex();
  for (const r of requests) if (r.source !== r.target) index.addSource(fold(r.source));
  const conflicts: Conflict[] = [];
  const planner = new MovePlanner(view, onConflict, index, (c) => conflicts.push(c));
  for (const r of requests) {
    planner.plan(r);
    yield;
  }
  // Every accepted action is passed to settle (not only those on a chain): the order it returns is the whole plan's.
  const accepted = index.accepted;
  const acceptedSources = new Set(accepted.map((a) => a.source));
  const stays = new Set(requests.filter((r) => r.source !== r.target && !acceptedSources.has(r.source)).map((r) => fold(r.source)));
  const { ordered } = planner.settle(accepted, (key) => stays.has(key));
  const actions = ordered.map((o) => o.action);
  return { actions, conflicts, unchanged: planner.unchanged, skipped: planner.skipped, bytes: actions.reduce((n, a) => n + a.size, 0) };
}
