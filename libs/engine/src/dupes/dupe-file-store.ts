import type { DupeFile } from './dupe-types.js';

/** A walked file and its position in the walk's order. */
export interface RankedFile {
  file: DupeFile;
  rank: number;
}

/**
 * The port that holds a walk's files for the duplicate finder and gives them back one size at a
 * time, so the pipeline never needs every record at once (SQLite on disk in libs/storage for big
 * walks; `MemoryDupeFileStore` for small inputs and the tests).
 */
export interface DupeFileStore {
  /** Adds walked files in walk order: the first file added has rank 0. */
  add(files: readonly DupeFile[]): void;
  /** Files added so far. */
  readonly count: number;
  /**
   * Every size held by two or more files, and size 0 whenever held (its files are counted even
   * when skipped), largest size first; each group's files in walk order. Read once, after the
   * last `add`.
   */
  sizeGroups(): Iterable<RankedFile[]>;
}

/** `DupeFileStore` in memory: every record held, grouped by size when read. */
export class MemoryDupeFileStore implements DupeFileStore {
  private readonly files: DupeFile[] = [];

  add(files: readonly DupeFile[]): void {
    for (const f of files) this.files.push(f);
  }

  get count(): number {
    return this.files.length;
  }

  *sizeGroups(): Iterable<RankedFile[]> {
    const bySize = new Map<number, RankedFile[]>();
    this.files.forEach((file, rank) => {
      const g = bySize.get(file.size);
      if (g === undefined) bySize.set(file.size, [{ file, rank }]);
      else g.push({ file, rank });
    });
    const sizes = [...bySize.keys()].filter((s) => s === 0 || bySize.get(s)!.length > 1).sort((a, b) => b - a);
    for (const s of sizes) yield bySize.get(s)!;
  }
}
