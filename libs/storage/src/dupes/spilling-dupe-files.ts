import type { DupeFile } from '@filer/engine';
import { SqliteDupeFileStore } from '../state/sqlite-dupe-file-store.js';

/**
 * Walked files above this many go to disk (see SpillingDupeFiles). A record costs about 200–300
 * bytes of heap (object, path string, array slot), so 200,000 of them are ~50 MB: below it a tree
 * keeps today's in-memory pipeline and its speed; above it the records stop growing the heap.
 * FILER_DUPES_SPILL_AFTER overrides it (the tests use a tiny bound).
 */
export const DUPES_SPILL_AFTER = 200_000;

/**
 * A dupes walk's files: held in memory up to `spillAfter`, then moved to a SqliteDupeFileStore in
 * `dir` with every file after them. `files` is the list while nothing has spilled; `spilled` the
 * store after.
 */
export class SpillingDupeFiles {
  readonly files: DupeFile[] = [];
  private store?: SqliteDupeFileStore;

  constructor(
    private readonly spillAfter: number,
    private readonly dir: string,
  ) {}

  get count(): number {
    return this.store?.count ?? this.files.length;
  }

  get spilled(): SqliteDupeFileStore | undefined {
    return this.store;
  }

  add(files: readonly DupeFile[]): void {
    if (this.store !== undefined) return this.store.add(files);
    for (const f of files) this.files.push(f);
    if (this.files.length <= this.spillAfter) return;
    this.store = SqliteDupeFileStore.create(this.dir);
    this.store.add(this.files);
    this.files.length = 0;
  }

  /** Removes the store, if any. */
  close(): void {
    this.store?.close();
  }
}
