import type { PathError } from '@filer/core';

/** A directory's regular files as finished NDJSON records, and what the walk needs besides. */
export interface NdjsonListing {
  /** One `find --format ndjson` record per file, newline-terminated. */
  records: string;
  count: number;
  /** Total size of the files listed. */
  bytes: number;
  /** Every name in the directory, hidden ones too (the walk's `entries` statistic). */
  entries: number;
  /** Subdirectories to descend into, in listing order. */
  subdirs: string[];
  /** Files that could not be stat'ed: name and error. */
  failures: { name: string; error: Omit<PathError, 'path'> }[];
}

/**
 * Lists one directory's files as the records entryToJson makes for them, skipping hidden names
 * unless `hidden`, or answers null when that directory needs the general walk. Throws as listDir
 * does when the directory cannot be read.
 */
export type NdjsonLister = (dirPath: string, hidden: boolean, wantDirs: boolean) => NdjsonListing | null;
