import type { FileEntry } from '@filer/core';
import type { OnConflict } from '@filer/engine';
import { RealPaths } from '../local/real-paths.js';
import { isCaseInsensitiveAt } from '../local/case-probe.js';
import type { PlanStore, StoredRequest } from '../state/plan-store.js';
import { localNaming, nameFiles, renameRequests, rootIndexOf, type Namer, type NamingIo } from './name-files.js';
import { CASE_PROBES, localTargetView } from './plan-local-moves.js';
import { planStored, type StoredPlanTotals } from './stored-transfer-plan.js';

/**
 * Files named at a time: capture dates are read in parallel and hashes computed over one page, so
 * the page bounds what naming holds; `{counter}` runs on across pages.
 */
export const NAMING_PAGE = 4096;

/** A local rename, as far as its requests go. */
export interface RenameSpec {
  roots: readonly string[];
  namer: Namer;
}

/**
 * A local rename planned through a plan store: the walk's files go to disk as they come; then
 * they are read back in path order (`{counter}`'s order, as batchRequests sorts them), named a
 * page at a time (`{date}`, `{hash}` read for that page only), resolved as resolveRequests
 * resolves them, and stored as requests; MovePlanner plans them there like a local copy's.
 */
export class RenameFeed {
  private readonly real = new RealPaths();
  private readonly probed = new Set<string>();
  private caseInsensitive = false;

  constructor(
    private readonly spec: RenameSpec,
    private readonly store: PlanStore,
    private readonly naming: NamingIo = localNaming,
  ) {}

  add(entries: readonly FileEntry[]): void {
    const { roots } = this.spec;
    this.store.addFiles(entries.filter((e) => rootIndexOf(roots, e.path) >= 0));
  }

  /** Names what was fed and plans it with the rules of planMoves (each target kept inside its own root). */
  async plan(onConflict: OnConflict): Promise<StoredPlanTotals> {
    const { roots, namer } = this.spec;
    const within = roots.map((r) => this.real.dir(r));
    let counter = 1;
    for (const page of this.store.filePages(NAMING_PAGE)) {
      const named = await nameFiles(page, namer, this.naming, counter);
      counter += page.length;
      const requests = renameRequests(named, roots, this.real);
      const rows: StoredRequest[] = requests.map((r, i) => {
        this.probe(r.target);
        const n = named[i];
        return {
          root: 0,
          sortKey: n.entry.path,
          source: r.source,
          target: r.target,
          size: r.size,
          scope: rootIndexOf(roots, n.entry.path),
          ...(r.sourceId === undefined ? {} : { sourceId: r.sourceId }),
          ...(r.invalidName === undefined ? {} : { invalidName: r.invalidName }),
          ...(n.dateSource === undefined ? {} : { note: n.dateSource }),
        };
      });
      this.store.add(rows);
    }
    // Named and added in path order, which is the plan's: no index to sort them again.
    this.store.seal(this.caseInsensitive ? (p) => p.toLowerCase() : undefined, { inOrder: true });
    return planStored(this.store, localTargetView(this.caseInsensitive), onConflict, within);
  }

  private probe(target: string): void {
    if (this.probed.size >= CASE_PROBES) return;
    const dir = target.slice(0, target.lastIndexOf('/'));
    if (this.probed.has(dir)) return;
    this.probed.add(dir);
    if (isCaseInsensitiveAt(dir + '/x')) this.caseInsensitive = true;
  }
}
