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

const NAME_MAX = 255;
const PATH_MAX = 4095;

const S3_KEY_MAX = 1024;

function nameProblem(target: string): { kind: ConflictKind; detail: string } | undefined {
  if (target.includes('\0')) return { kind: 'invalid-name', detail: 'contains a NUL byte' };
  // An S3 target (s3://bucket/key): the key is checked like a path below the bucket, up to S3's 1024 bytes.
  const s3Key = target.startsWith('s3://') ? target.slice(target.indexOf('/', 5)) : undefined;
  if (s3Key !== undefined && Buffer.byteLength(s3Key) > S3_KEY_MAX + 1)
    return { kind: 'name-too-long', detail: `S3 key longer than ${S3_KEY_MAX} bytes` };
  if (s3Key === undefined && Buffer.byteLength(target) > PATH_MAX)
    return { kind: 'name-too-long', detail: `path longer than ${PATH_MAX} bytes` };
  for (const part of (s3Key ?? target).split('/').slice(1)) {
    if (part === '' || part === '.' || part === '..')
      return { kind: 'invalid-name', detail: `empty, '.' or '..' path component in '${target}'` };
    if (Buffer.byteLength(part) > NAME_MAX)
      return { kind: 'name-too-long', detail: `name '${part.slice(0, 40)}…' longer than ${NAME_MAX} bytes` };
  }
  return undefined;
}

/** `p` is `dir` or below it (both absolute and resolved, or both `s3://` URIs). */
export function isInside(p: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : dir + '/';
  return p === dir || p === d.slice(0, -1) || p.startsWith(d);
}

/** `name (1).ext`, `name (2).ext`…: the first free variant of a target. */
export function suffixedTarget(target: string, taken: (p: string) => boolean): string {
  const slash = target.lastIndexOf('/');
  const dir = target.slice(0, slash + 1);
  const name = target.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = `${dir}${stem} (${n})${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

/** `source` is a suffixed variant of `target` (`name (n).ext` beside it, as suffixedTarget makes them). */
function isSuffixedVariant(source: string, target: string): boolean {
  const slash = target.lastIndexOf('/');
  if (source.slice(0, slash + 1) !== target.slice(0, slash + 1)) return false;
  const name = target.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const own = source.slice(slash + 1);
  const n = own.slice(stem.length + 2, own.length - ext.length - 1);
  return own.startsWith(stem + ' (') && own.endsWith(')' + ext) && /^[1-9]\d*$/.test(n);
}

/**
 * Plans moves, finding every conflict before anything changes: two sources to one target
 * (also when they differ only in case on a case-insensitive destination), a target that exists
 * and is not itself vacated first, cycles and swaps (a→b, b→a: refused, never done with a
 * hidden temporary name), invalid and too-long names. `onConflict` decides what a conflict does:
 * fail (kept in `conflicts`, nothing may run), skip (dropped), suffix (`name (1).ext`), overwrite
 * (an existing target is replaced; never allowed for same-target or cycles).
 */
export function planMoves(requests: readonly MoveRequest[], view: TargetView, onConflict: OnConflict): MovePlan {
  const fold = view.caseInsensitive ? (p: string) => p.toLowerCase() : (p: string) => p;
  const conflicts: Conflict[] = [];
  let unchanged = 0;
  let skipped = 0;
  const bySource = new Map<string, MoveRequest>();
  const live: MoveRequest[] = [];
  for (const r of requests) {
    if (r.source === r.target) {
      unchanged++;
      continue;
    }
    live.push(r);
    bySource.set(fold(r.source), r);
  }

  const claimed = new Map<string, MoveRequest>();
  const accepted: PlannedMove[] = [];
  const reject = (r: MoveRequest, kind: ConflictKind, detail: string): void => {
    if (onConflict === 'skip') skipped++;
    else conflicts.push({ kind, source: r.source, target: r.target, detail });
  };
  const taken = (p: string): boolean => claimed.has(fold(p)) || (view.exists(p) && !bySource.has(fold(p)));

  for (const r of live) {
    const bad = r.invalidName !== undefined ? { kind: 'invalid-name' as const, detail: r.invalidName } : nameProblem(r.target);
    if (bad) {
      reject(r, bad.kind, bad.detail);
      continue;
    }
    // Strictly below: a target that is `within` itself would replace the root, and its suffixed
    // variant (`root (1)`) would be a sibling of it.
    if (r.within !== undefined && (r.target === r.within || !isInside(r.target, r.within))) {
      reject(r, 'outside-root', `the target resolves outside ${r.within}`);
      continue;
    }
    const blocked = view.blocked?.(r.target);
    if (blocked !== undefined) {
      reject(r, 'invalid-name', blocked);
      continue;
    }
    let target = r.target;
    let overwrite = false;
    // A file already named as a suffixed variant of its target, which is taken (an earlier run's
    // suffix), keeps its name: otherwise a second run would plan it onto itself, refused as a cycle.
    if (onConflict === 'suffix' && taken(target) && isSuffixedVariant(fold(r.source), fold(target)) && !claimed.has(fold(r.source))) {
      unchanged++;
      claimed.set(fold(r.source), r);
      continue;
    }
    const prior = claimed.get(fold(target));
    if (prior) {
      const kind: ConflictKind = prior.target === target ? 'same-target' : 'case-collision';
      if (onConflict === 'suffix') target = suffixedTarget(target, taken);
      else {
        reject(r, kind, `${prior.source} is planned to the same ${kind === 'same-target' ? 'target' : 'name, differing only in case,'}`);
        continue;
      }
    } else if (view.exists(target) && !bySource.has(fold(target))) {
      if (onConflict === 'suffix') target = suffixedTarget(target, taken);
      else if (onConflict === 'overwrite') overwrite = true;
      else {
        reject(r, 'target-exists', 'the target already exists');
        continue;
      }
    }
    claimed.set(fold(target), r);
    accepted.push(overwrite ? { ...r, target, overwrite } : { ...r, target });
  }

  // A target that another request was to vacate stays taken when that request was refused.
  const acceptedSources = new Set(accepted.map((a) => a.source));
  const stays = new Set(live.filter((r) => !acceptedSources.has(r.source)).map((r) => fold(r.source)));
  let kept = accepted;
  for (let changed = true; changed;) {
    changed = false;
    kept = kept.filter((a) => {
      if (!stays.has(fold(a.target))) return true;
      reject(a, 'target-exists', `the target is ${a.target}, which stays where it is`);
      stays.add(fold(a.source));
      changed = true;
      return false;
    });
  }
  const { ordered, cycles } = orderChains(kept, fold);
  for (const c of cycles) reject(c, 'cycle', 'part of a cycle or swap of targets: rename through an intermediate name in two runs');
  return { actions: ordered, conflicts, unchanged, skipped, bytes: ordered.reduce((n, a) => n + a.size, 0) };
}

/**
 * Orders actions so that one whose target is another's source runs after that other has moved
 * out of the way (a→b after b→c). Actions on a cycle, and those waiting on one, can never run
 * without a temporary name and are returned apart.
 */
function orderChains(actions: readonly PlannedMove[], fold: (p: string) => string): { ordered: PlannedMove[]; cycles: PlannedMove[] } {
  const bySource = new Map(actions.map((a) => [fold(a.source), a]));
  const state = new Map<PlannedMove, 'visiting' | 'done' | 'cycle'>();
  const ordered: PlannedMove[] = [];
  const cycles: PlannedMove[] = [];
  for (const start of actions) {
    if (state.has(start)) continue;
    // Follow start → the action that vacates start's target → … until the chain ends or meets itself.
    const path: PlannedMove[] = [];
    let cur: PlannedMove | undefined = start;
    while (cur !== undefined && !state.has(cur)) {
      state.set(cur, 'visiting');
      path.push(cur);
      cur = bySource.get(fold(cur.target));
    }
    let blocked = cur !== undefined && state.get(cur) === 'cycle';
    if (cur !== undefined && state.get(cur) === 'visiting') {
      const first = path.indexOf(cur);
      for (const a of path.splice(first)) {
        state.set(a, 'cycle');
        cycles.push(a);
      }
      blocked = true;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const a = path[i];
      state.set(a, blocked ? 'cycle' : 'done');
      (blocked ? cycles : ordered).push(a);
    }
  }
  return { ordered, cycles };
}
