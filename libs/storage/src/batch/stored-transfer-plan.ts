import * as path from 'node:path';
import { FilerError, PathErrorSample, type FileEntry, type PathError } from '@filer/core';
import { MovePlanner, type OnConflict, type TargetView } from '@filer/engine';
import { ODD_SEGMENT, RealPaths } from '../local/real-paths.js';
import type { PlanStore, StoredRequest, Within } from '../state/plan-store.js';
import { rootIndexOf, sourceIdOf, transferTarget } from './name-files.js';
import { CASE_PROBES, localTargetView } from './plan-local-moves.js';
import { isCaseInsensitiveAt } from '../local/case-probe.js';
import { isS3Uri } from '../s3/s3-uri.js';

/** A copy or move (local paths or `s3://` prefixes), as far as its requests go. */
export interface TransferSpec {
  kind: 'copy' | 'move';
  roots: readonly string[];
  /** Every target must stay below it: resolved here (a local directory), or an S3 prefix (a trailing '/' dropped). */
  dest: string;
  flatten: boolean;
  /** A file the job must leave out (move --follow: a symlinked file), as the failure to report. */
  leaveOut?(entry: FileEntry): PathError | undefined;
}

/**
 * Turns walked files into a copy's or move's requests as they come, straight into a plan store:
 * the same targets batchRequests makes, resolved as resolveRequests resolves them (local paths
 * through their symlinks, `s3://` keys as written). Keeps only the few local target directories
 * it probes for case-folding, and the per-file failures.
 */
export class TransferFeed {
  private readonly real = new RealPaths();
  private readonly probed = new Set<string>();
  private caseInsensitive = false;

  private readonly spec: TransferSpec;

  constructor(
    spec: TransferSpec,
    private readonly store: PlanStore,
    /** Files found but not requested (an unsafe key, a symlink a move leaves): counted, the first few kept. */
    readonly pathErrors: PathErrorSample = new PathErrorSample(),
  ) {
    // An S3 prefix as the walk writes a root, without its trailing '/'; a local one is resolved as targets are.
    this.spec = isS3Uri(spec.dest) ? { ...spec, dest: spec.dest.replace(/\/+$/, '') } : spec;
  }

  add(entries: readonly FileEntry[]): void {
    const rows: StoredRequest[] = [];
    const { spec, real } = this;
    for (const e of entries) {
      const root = rootIndexOf(spec.roots, e.path);
      if (root < 0) continue;
      let target: string;
      try {
        target = transferTarget(spec.dest, spec.flatten, spec.roots[root], e.path);
      } catch (err) {
        if (!(err instanceof FilerError) || err.code !== 'E_UNSAFE_KEY') throw err;
        this.pathErrors.add({ path: e.path, code: err.code, message: err.message });
        continue;
      }
      const left = spec.leaveOut?.(e);
      if (left !== undefined) {
        this.pathErrors.add(left);
        continue;
      }
      const s3Target = isS3Uri(target);
      const resolved = s3Target ? target : real.file(target);
      if (!s3Target) this.probe(resolved);
      const source = isS3Uri(e.path)
        ? e.path
        : real.file(e.path.charCodeAt(0) === 47 && !ODD_SEGMENT.test(e.path) ? e.path : path.resolve(e.path));
      rows.push({ root, sortKey: e.path, source, target: resolved, size: e.size ?? 0, ...sourceIdOf(e) });
    }
    if (rows.length > 0) this.store.add(rows);
  }

  /**
   * Plans what was fed, with the rules of planMoves: see PlanStore for what stays in memory. `view`
   * is what exists at an S3 destination (its listing, stored: BatchSink.listTargets); a local one
   * is read from the disk. `pace`: see planStoredPaced.
   */
  async plan(onConflict: OnConflict, view?: TargetView, pace?: Pace): Promise<StoredPlanTotals> {
    const { dest } = this.spec;
    const s3 = isS3Uri(dest);
    this.store.seal(!s3 && this.caseInsensitive ? (p) => p.toLowerCase() : undefined);
    if (s3 && view === undefined) throw new Error('TransferFeed: an S3 destination is planned against its listing');
    const args = [this.store, view ?? localTargetView(this.caseInsensitive), onConflict, s3 ? dest : this.real.dir(dest)] as const;
    return pace === undefined ? planStored(...args) : planStoredPaced(...args, pace);
  }

  private probe(target: string): void {
    if (this.probed.size >= CASE_PROBES) return;
    const dir = target.slice(0, target.lastIndexOf('/'));
    if (this.probed.has(dir)) return;
    this.probed.add(dir);
    if (isCaseInsensitiveAt(dir + '/x')) this.caseInsensitive = true;
  }
}

export interface StoredPlanTotals {
  actions: number;
  bytes: number;
  conflicts: number;
  unchanged: number;
  skipped: number;
}

/**
 * Asked between the requests of a plan; a promise it returns is awaited first (a worker's pace,
 * timeSlices: its event loop turns every few tens of milliseconds, so its lock renewals run).
 */
export type Pace = () => Promise<void> | undefined;

/** Runs MovePlanner over a sealed plan store: one pass over the requests, then settle over the chains' actions. */
export function planStored(store: PlanStore, view: TargetView, onConflict: OnConflict, within?: Within): StoredPlanTotals {
  const planner = new MovePlanner(view, onConflict, store, (c) => store.addConflict(c));
  for (const r of store.requests(within)) planner.plan(r);
  return settleStored(store, planner, within);
}

/** planStored, pausing between requests when `pace` asks (a worker's event loop must turn). */
export async function planStoredPaced(
  store: PlanStore,
  view: TargetView,
  onConflict: OnConflict,
  within: Within | undefined,
  pace: Pace,
): Promise<StoredPlanTotals> {
  const planner = new MovePlanner(view, onConflict, store, (c) => store.addConflict(c));
  for (const r of store.requests(within)) {
    planner.plan(r);
    const turn = pace();
    if (turn !== undefined) await turn;
  }
  return settleStored(store, planner, within);
}

/** The chains' actions ordered (settle; usually there are none), and the plan's totals. */
function settleStored(store: PlanStore, planner: MovePlanner, within?: Within): StoredPlanTotals {
  const members = store.chainMembers(within);
  if (members.size > 0) {
    const { ordered } = planner.settle([...members.keys()], (key) => store.staysAt(key));
    store.reorder(members, ordered);
  }
  return { ...store.totals(), unchanged: planner.unchanged, skipped: planner.skipped };
}
