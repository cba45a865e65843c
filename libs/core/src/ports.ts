import type { EntryKind } from './file-entry.js';

export type MaybePromise<T> = T | Promise<T>;

/** Kind codes of a listing, compact because a listing is built per directory for millions of entries. */
export const KindCode = { Unknown: 0, File: 1, Dir: 2, Symlink: 3, Other: 4 } as const;
export type KindCode = (typeof KindCode)[keyof typeof KindCode];
/** The EntryKind of each known KindCode (Unknown needs a stat to tell). */
export const KIND_OF_CODE: readonly (EntryKind | undefined)[] = [undefined, 'file', 'dir', 'symlink', 'other'];

/**
 * A directory listing as two parallel arrays: names, and a KindCode per name (`Unknown` when the
 * file system did not say, then a stat tells). No object per entry.
 */
export interface DirListing {
  names: string[];
  kinds: ArrayLike<number>;
}

/** What a stat tells the walk. `dev`/`ino` identify directories for loop detection. */
export interface EntryStat {
  kind: EntryKind;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  /** Exact modification time (seconds, nanoseconds): present when the source knows it or `precise` was asked. */
  mtimeSec?: number;
  mtimeNsec?: number;
}

/** A per-path failure from a source, with its errno-style code. */
export interface SourceFailure {
  error: { code: string; message: string };
}

/**
 * The port every tree source implements (local file system now, S3 prefixes later).
 * Calls are coarse — one per directory or per batch of names — because a promise per file
 * costs more than the stat it wraps. Local adapters answer synchronously (and run on worker
 * threads); remote ones may return promises.
 */
export interface Source {
  /** Lists a directory. Throws an error with an errno-style `code` when it cannot. */
  listDir(dirPath: string): MaybePromise<DirListing>;
  /** Stats the named entries of one directory; `follow` resolves symlinks (a dangling one stays a symlink). */
  statMany(dirPath: string, names: readonly string[], follow: boolean, precise?: boolean): MaybePromise<(EntryStat | SourceFailure)[]>;
  /** Reads a small text file (ignore files); undefined when it is absent or unreadable. */
  readText(filePath: string): MaybePromise<string | undefined>;
  /** Joins a directory path and a child name in the source's own syntax. */
  join(dirPath: string, name: string): string;
}

export function isSourceFailure(v: EntryStat | SourceFailure): v is SourceFailure {
  return (v as SourceFailure).error !== undefined;
}

/**
 * One page of a remote listing (an S3 ListObjectsV2 page with Delimiter '/'): objects and common
 * prefixes one level below a prefix, with the size and mtime the listing already carries
 * (0 for prefixes). Parallel arrays, like DirListing.
 */
export interface ListingPage {
  names: string[];
  kinds: ArrayLike<number>;
  sizes: ArrayLike<number>;
  mtimesMs: ArrayLike<number>;
  /** Objects' ETags (undefined for prefixes): part of an object's identity. */
  etags?: readonly (string | undefined)[];
}

/**
 * A tree source that lists page by page, asynchronously (S3). No stat is ever needed: the
 * listing carries size and mtime, and there are no symlinks nor ignore files to read.
 */
export interface PagedSource {
  /** Streams the listing of one directory (prefix); rejects with an errno-style `code` when it cannot list. */
  listPages(dirPath: string): AsyncIterable<ListingPage>;
  /** Joins a directory path and a child name in the source's own syntax. */
  join(dirPath: string, name: string): string;
}
