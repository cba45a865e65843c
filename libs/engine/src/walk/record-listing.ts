import type { PathError } from '@filer/core';

/**
 * The record formats a source's lister can make: find's ndjson (json's records too), paths ended by
 * '\n' or '\0', csv; and `ndjson-nostat`, find's ndjson of a walk that stats nothing (size and mtime
 * null unless a bound made it stat: a cluster `paths` job's parts).
 */
export type RecordFormat = 'ndjson' | 'ndjson-nostat' | 'paths' | 'paths0' | 'csv';

/**
 * What a directory is listed for: the records' format and the filters the source applies itself,
 * before the walk sees anything. Only filters a source can test exactly as compileFilter does
 * (see recordQuery); anything else keeps the walk on its general path.
 */
export interface RecordQuery {
  format: RecordFormat;
  /** `--ext` values as FilterSpec holds them (lower-case ASCII, no dot); empty: any name. */
  extensions: readonly string[];
  /** Inclusive size bounds, as compileSizeFilter tests them. */
  minSize?: number;
  maxSize?: number;
  /** Exclusive mtime bounds (epoch ms), as compileTimeFilter tests them. */
  newerThanMs?: number;
  olderThanMs?: number;
  /** A directory holding one of these names (the ignore files the walk would read) takes the general path. */
  ignoreNames: readonly string[];
}

/** A directory's matching regular files as finished records, and what the walk needs besides. */
export interface RecordListing {
  /** One record per file, terminator included. */
  records: string;
  count: number;
  /** Total size of the files listed (0 when the query needed no stat). */
  bytes: number;
  /** Every name in the directory, hidden ones too (the walk's `entries` statistic). */
  entries: number;
  /** Subdirectories to descend into, in listing order. */
  subdirs: string[];
  /** Files that could not be stat'ed: name and error. */
  failures: { name: string; error: Omit<PathError, 'path'> }[];
}

/**
 * Lists one directory's regular files that pass `query` as the records find prints for them
 * (without a query: ndjson, every file), skipping hidden names unless `hidden`, or answers null
 * when that directory needs the general walk. Throws as listDir does when the directory cannot be
 * read.
 */
export type RecordLister = (dirPath: string, hidden: boolean, wantDirs: boolean, query?: RecordQuery) => RecordListing | null;
