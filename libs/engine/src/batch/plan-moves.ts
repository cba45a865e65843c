import { invalidArgument } from '@filer/core';
import type { FileIdentity } from './file-identity.js';
import { foldOf, MemoryTargetIndex, MovePlanner } from './move-planner.js';

export { isInside, suffixedTarget } from './plan-names.js';

export type OnConflict = 'fail' | 'skip' | 'suffix' | 'overwrite';
export const ON_CONFLICT = ['fail', 'skip', 'suffix', 'overwrite'] as const;

export function parseOnConflict(text: string, field = 'onConflict'): OnConflict {
  if ((ON_CONFLICT as readonly string[]).includes(text)) return text as OnConflict;
  throw invalidArgument(field, text, `invalid conflict policy '${text}': expected one of ${ON_CONFLICT.join(', ')}`);
}

/**
 * One file to move, copy or rename: absolute source and target paths (resolved by the planner of
 * the destination's kind before they are planned, so that checks compare real paths, not text).
 */
export interface MoveRequest {
  source: string;
  target: string;
  size: number;
  /** The directory the target must stay inside: the file's root for a rename, `--dest` for a copy or move. */
  within?: string;
  /** The source's identity when it was listed, journaled so that a later change is caught. */
  sourceId?: FileIdentity;
  /** Why the namer's result is no valid name (a base-name replacement containing '/'): a conflict. */
  invalidName?: string;
}

export type ConflictKind = 'same-target' | 'target-exists' | 'case-collision' | 'cycle' | 'invalid-name' | 'name-too-long' | 'outside-root';

export interface Conflict {
  kind: ConflictKind;
  source: string;
  target: string;
  detail: string;
}

export interface PlannedMove extends MoveRequest {
  /** Set when --on-conflict overwrite replaces an existing target. */
  overwrite?: boolean;
}

export interface MovePlan {
  /** In an order that is safe to apply: a target another action vacates comes after that action. */
  actions: PlannedMove[];
  conflicts: Conflict[];
  /** Requests whose target is their source: nothing to do. */
  unchanged: number;
  /** Requests dropped by `skip`. */
  skipped: number;
  bytes: number;
}

/** What the planner needs to know of the destination: whether a path is taken, and how names compare there. */
export interface TargetView {
  exists(path: string): boolean;
  /** Why nothing can be created at `path` (an ancestor is a file, say); undefined when it can be. */
  blocked?(path: string): string | undefined;
  /** A case-insensitive destination (macOS, Windows shares) folds names before comparing. */
  caseInsensitive: boolean;
}

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
  const fold = foldOf(view);
  const index = new MemoryTargetIndex();
  for (const r of requests) if (r.source !== r.target) index.addSource(fold(r.source));
  const conflicts: Conflict[] = [];
  const planner = new MovePlanner(view, onConflict, index, (c) => conflicts.push(c));
  for (const r of requests) planner.plan(r);
  // Every accepted action is passed to settle (not only those on a chain): the order it returns is the whole plan's.
  const accepted = index.accepted;
  const acceptedSources = new Set(accepted.map((a) => a.source));
  const stays = new Set(requests.filter((r) => r.source !== r.target && !acceptedSources.has(r.source)).map((r) => fold(r.source)));
  const { ordered } = planner.settle(accepted, (key) => stays.has(key));
  const actions = ordered.map((o) => o.action);
  return { actions, conflicts, unchanged: planner.unchanged, skipped: planner.skipped, bytes: actions.reduce((n, a) => n + a.size, 0) };
}
