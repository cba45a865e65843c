import type { FileEntry } from '@filer/core';
import { identityOfEntry, type OnConflict } from '@filer/engine';
import { RealPaths } from '../local/real-paths.js';
import { isCaseInsensitiveAt } from '../local/case-probe.js';
import type { PlanStore, StoredRequest } from '../state/plan-store.js';
import { localNaming, nameFiles, resolveNamed, rootIndexOf, type Namer, type NamingIo } from './name-files.js';
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
      // Each row made at once (no request object first): this runs once per file of the plan.
      const rows = named.map((n): StoredRequest => {
        const { source, target } = resolveNamed(n, this.real);
        this.probe(target);
        const row: StoredRequest = {
          root: 0,
          sortKey: n.entry.path,
          source,
          target,
          size: n.entry.size ?? 0,
          scope: rootIndexOf(roots, n.entry.path),
        };
        const id = identityOfEntry(n.entry);
        if (id !== undefined) row.sourceId = id;
        if (n.invalidName !== undefined) row.invalidName = n.invalidName;
        if (n.dateSource !== undefined) row.note = n.dateSource;
        return row;
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
