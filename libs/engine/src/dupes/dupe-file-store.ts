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
   * Every size held by two or more files, largest size first, each group's files in walk order;
   * size 0 only when `withEmpty` (skipped empty files are only counted: see `emptyCounts`). Read
   * once, after the last `add`.
   */
  sizeGroups(withEmpty: boolean): Iterable<RankedFile[]>;
  /** Empty files: how many, their distinct inodes (dev, ino) and distinct names (dev, ino, path). */
  emptyCounts(): EmptyCounts;
}

export interface EmptyCounts {
  files: number;
  inodes: number;
  names: number;
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

  emptyCounts(): EmptyCounts {
    const empty = this.files.filter((f) => f.size === 0);
    const inodes = new Set(empty.map((f) => `${f.dev}:${f.ino}`));
    const names = new Set(empty.map((f) => `${f.dev}:${f.ino}:${f.path}`));
    return { files: empty.length, inodes: inodes.size, names: names.size };
  }

  *sizeGroups(withEmpty: boolean): Iterable<RankedFile[]> {
    const bySize = new Map<number, RankedFile[]>();
    this.files.forEach((file, rank) => {
      const g = bySize.get(file.size);
      if (g === undefined) bySize.set(file.size, [{ file, rank }]);
      else g.push({ file, rank });
    });
    const sizes = [...bySize.keys()].filter((s) => (s > 0 || withEmpty) && bySize.get(s)!.length > 1).sort((a, b) => b - a);
    for (const s of sizes) yield bySize.get(s)!;
  }
}
