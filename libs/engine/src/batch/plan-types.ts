import { invalidArgument } from '@filer/core';
import type { FileIdentity } from './file-identity.js';

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
