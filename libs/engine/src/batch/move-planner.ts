import type { Conflict, ConflictKind, MoveRequest, OnConflict, PlannedMove, TargetView } from './plan-types.js';
import { isInside, isSuffixedVariant, nameProblem, suffixedTarget } from './plan-names.js';

/** Which request holds a target: its source and the target it asked for (a suffixed one asked for another). */
export interface Claim {
  source: string;
  target: string;
}

/**
 * What the planner remembers of a plan while it goes: the sources of the live requests (known in
 * full before planning starts) and the targets claimed so far. Keys are folded paths. In memory
 * for plans that fit there (MemoryTargetIndex); an indexed table for the CLI's (storage's plan
 * store), so that a plan of any size holds no record per file in memory.
 */
export interface TargetIndex {
  /** `key` is the source of a live request (one whose target is not its source). */
  isSource(key: string): boolean;
  /** Who claimed `key`, if anyone did. */
  claimOf(key: string): Claim | undefined;
  /** Claims `key`; `action` is the planned move when it is one (not a file keeping its suffixed name). */
  reserve(key: string, claim: Claim, action?: PlannedMove): void;
}

/** A TargetIndex in maps, keeping the accepted actions in order. */
export class MemoryTargetIndex implements TargetIndex {
  readonly accepted: PlannedMove[] = [];
  private readonly sources = new Set<string>();
  private readonly claims = new Map<string, Claim>();

  addSource(key: string): void {
    this.sources.add(key);
  }
  isSource(key: string): boolean {
    return this.sources.has(key);
  }
  claimOf(key: string): Claim | undefined {
    return this.claims.get(key);
  }
  reserve(key: string, claim: Claim, action?: PlannedMove): void {
    this.claims.set(key, claim);
    if (action !== undefined) this.accepted.push(action);
  }
}

export function foldOf(view: Pick<TargetView, 'caseInsensitive'>): (p: string) => string {
  return view.caseInsensitive ? (p) => p.toLowerCase() : (p) => p;
}

/** An action in its place in the plan: it runs at `anchor`'s position (the start of its chain), `k`-th there. */
export interface OrderedMove {
  action: PlannedMove;
  anchor: PlannedMove;
  k: number;
}

/**
 * The planning rules, one request at a time, in the plan's order (the order requests are given).
 * Every live request's source must be in the index before the first `plan`. Accepted actions go to
 * the index (`reserve`), conflicts to `onConflictFound` (or are counted as skipped); `settle` then
 * takes back actions a refused request blocks and orders chains and cycles.
 */
export class MovePlanner {
  unchanged = 0;
  skipped = 0;
  readonly fold: (p: string) => string;

  constructor(
    private readonly view: TargetView,
    private readonly onConflict: OnConflict,
    private readonly index: TargetIndex,
    private readonly onConflictFound: (c: Conflict) => void,
  ) {
    this.fold = foldOf(view);
  }

  private reject(r: MoveRequest, kind: ConflictKind, detail: string): void {
    if (this.onConflict === 'skip') this.skipped++;
    else this.onConflictFound({ kind, source: r.source, target: r.target, detail });
  }

  private taken = (p: string): boolean => {
    const key = this.fold(p);
    return this.index.claimOf(key) !== undefined || (this.view.exists(p) && !this.index.isSource(key));
  };

  plan(r: MoveRequest): void {
    const { fold, index, onConflict } = this;
    if (r.source === r.target) {
      this.unchanged++;
      return;
    }
    const bad = r.invalidName !== undefined ? { kind: 'invalid-name' as const, detail: r.invalidName } : nameProblem(r.target);
    if (bad) return this.reject(r, bad.kind, bad.detail);
    // Strictly below: a target that is `within` itself would replace the root, and its suffixed
    // variant (`root (1)`) would be a sibling of it.
    if (r.within !== undefined && (r.target === r.within || !isInside(r.target, r.within)))
      return this.reject(r, 'outside-root', `the target resolves outside ${r.within}`);
    const blocked = this.view.blocked?.(r.target);
    if (blocked !== undefined) return this.reject(r, 'invalid-name', blocked);
    let target = r.target;
    let overwrite = false;
    const claim = { source: r.source, target: r.target };
    // A file already named as a suffixed variant of its target, which is taken (an earlier run's
    // suffix), keeps its name: otherwise a second run would plan it onto itself, refused as a cycle.
    if (
      onConflict === 'suffix' &&
      this.taken(target) &&
      isSuffixedVariant(fold(r.source), fold(target)) &&
      index.claimOf(fold(r.source)) === undefined
    ) {
      this.unchanged++;
      index.reserve(fold(r.source), claim);
      return;
    }
    const prior = index.claimOf(fold(target));
    if (prior) {
      const kind: ConflictKind = prior.target === target ? 'same-target' : 'case-collision';
      if (onConflict !== 'suffix')
        return this.reject(
          r,
          kind,
          `${prior.source} is planned to the same ${kind === 'same-target' ? 'target' : 'name, differing only in case,'}`,
        );
      target = suffixedTarget(target, this.taken);
    } else if (this.view.exists(target) && !index.isSource(fold(target))) {
      if (onConflict === 'suffix') target = suffixedTarget(target, this.taken);
      else if (onConflict === 'overwrite') overwrite = true;
      else return this.reject(r, 'target-exists', 'the target already exists');
    }
    index.reserve(fold(target), claim, overwrite ? { ...r, target, overwrite } : { ...r, target });
  }

  /**
   * The second pass, over the accepted actions (in plan order) that take part in a chain — whose
   * target is a live request's source, or whose source another action's target; any others may be
   * given too, and are returned in place. `staysAt(key)`: `key` is the source of a live request
   * that was not accepted. An action onto a path that stays is refused (and then its own source
   * stays), and so is every action on a cycle; the rest is ordered so that an action whose target
   * another vacates runs after that other.
   */
  settle(members: readonly PlannedMove[], staysAt: (key: string) => boolean): { ordered: OrderedMove[] } {
    const { fold } = this;
    const added = new Set<string>();
    const stays = (key: string): boolean => added.has(key) || staysAt(key);
    let kept = members;
    for (let changed = true; changed;) {
      changed = false;
      kept = kept.filter((a) => {
        if (!stays(fold(a.target))) return true;
        this.reject(a, 'target-exists', `the target is ${a.target}, which stays where it is`);
        added.add(fold(a.source));
        changed = true;
        return false;
      });
    }
    const { ordered, cycles } = orderChains(kept, fold);
    for (const c of cycles) this.reject(c, 'cycle', 'part of a cycle or swap of targets: rename through an intermediate name in two runs');
    return { ordered };
  }
}

/**
 * Orders actions so that one whose target is another's source runs after that other has moved
 * out of the way (a→b after b→c). Actions on a cycle, and those waiting on one, can never run
 * without a temporary name and are returned apart.
 */
function orderChains(actions: readonly PlannedMove[], fold: (p: string) => string): { ordered: OrderedMove[]; cycles: PlannedMove[] } {
  const bySource = new Map(actions.map((a) => [fold(a.source), a]));
  const state = new Map<PlannedMove, 'visiting' | 'done' | 'cycle'>();
  const ordered: OrderedMove[] = [];
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
    let k = 0;
    for (let i = path.length - 1; i >= 0; i--) {
      const a = path[i];
      state.set(a, blocked ? 'cycle' : 'done');
      if (blocked) cycles.push(a);
      else ordered.push({ action: a, anchor: start, k: k++ });
    }
  }
  return { ordered, cycles };
}
