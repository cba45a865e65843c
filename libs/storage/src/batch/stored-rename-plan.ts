import { assertSafeKey, FilerError, PathErrorSample, type FileEntry } from '@filer/core';
import { identityOfEntry, normalizeRoot, type OnConflict, type TargetView } from '@filer/engine';
import { RealPaths } from '../local/real-paths.js';
import { isCaseInsensitiveAt } from '../local/case-probe.js';
import type { PlanStore, StoredRequest } from '../state/plan-store.js';
import { localNaming, nameFiles, resolveNamed, rootIndexOf, type Namer, type NamingIo } from './name-files.js';
import { CASE_PROBES, localTargetView } from './plan-local-moves.js';
import { planStored, planStoredPaced, type Pace, type StoredPlanTotals } from './stored-transfer-plan.js';
import { isS3Uri } from '../s3/s3-uri.js';

/**
 * Files named at a time: capture dates are read in parallel and hashes computed over one page, so
 * the page bounds what naming holds; `{counter}` runs on across pages.
 */
export const NAMING_PAGE = 4096;

/** A rename (local roots, or `s3://` prefixes: each key renamed below its own prefix), as far as its requests go. */
export interface RenameSpec {
  roots: readonly string[];
  namer: Namer;
}

/**
 * A local rename planned through a plan store: the walk's files go to disk as they come; then
 * they are read back in path order (`{counter}`'s order, as batchRequests sorts them), named a
 * page at a time (`{date}`, `{hash}` read for that page only), resolved as resolveRequests
 * resolves them, and stored as requests; MovePlanner plans them there like a local copy's. On
 * S3, a key whose part below its prefix could not name a file there (`..`, an empty segment…)
 * fails alone (E_UNSAFE_KEY, in `pathErrors`) before it is named, as batchRequests has it.
 */
export class RenameFeed {
  private readonly real = new RealPaths();
  private readonly probed = new Set<string>();
  private caseInsensitive = false;

  constructor(
    private readonly spec: RenameSpec,
    private readonly store: PlanStore,
    private readonly naming: NamingIo = localNaming,
    /** Keys found but not requested (unsafe on S3): counted, the first few kept. */
    readonly pathErrors: PathErrorSample = new PathErrorSample(),
  ) {}

  add(entries: readonly FileEntry[]): void {
    const { roots } = this.spec;
    this.store.addFiles(entries.filter((e) => this.safe(e, rootIndexOf(roots, e.path))));
  }

  private safe(e: FileEntry, root: number): boolean {
    if (root < 0) return false;
    if (!isS3Uri(e.path)) return true;
    try {
      // A key's place below its prefix is untrusted text: its directory part is kept in the new key.
      assertSafeKey(e.path.slice(normalizeRoot(this.spec.roots[root]).length + 1), e.path);
      return true;
    } catch (err) {
      if (!(err instanceof FilerError) || err.code !== 'E_UNSAFE_KEY') throw err;
      this.pathErrors.add({ path: e.path, code: err.code, message: err.message });
      return false;
    }
  }

  /**
   * Names what was fed and plans it with the rules of planMoves (each target kept inside its own
   * root). `view`: what exists at S3 roots (their listing, stored: BatchSink.listTargets); local
   * roots are read from the disk. `pace`: see planStoredPaced.
   */
  async plan(onConflict: OnConflict, view?: TargetView, pace?: Pace): Promise<StoredPlanTotals> {
    const { roots, namer } = this.spec;
    const s3 = roots.some(isS3Uri);
    if (s3 && view === undefined) throw new Error('RenameFeed: S3 roots are planned against their listing');
    const within = roots.map((r) => (isS3Uri(r) ? normalizeRoot(r) : this.real.dir(r)));
    let counter = 1;
    for (const page of this.store.filePages(NAMING_PAGE)) {
      const named = await nameFiles(page, namer, this.naming, counter);
      counter += page.length;
      // Each row made at once (no request object first): this runs once per file of the plan.
      const rows = named.map((n): StoredRequest => {
        const { source, target } = resolveNamed(n, this.real);
        if (!s3) this.probe(target);
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
      const turn = pace?.();
      if (turn !== undefined) await turn;
    }
    // Named and added in path order, which is the plan's: no index to sort them again.
    this.store.seal(this.caseInsensitive ? (p) => p.toLowerCase() : undefined, { inOrder: true });
    const args = [this.store, view ?? localTargetView(this.caseInsensitive), onConflict, within] as const;
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
