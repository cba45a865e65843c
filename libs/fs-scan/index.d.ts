/** A scanDupes result held in native memory (an opaque external value). */
type DupesHandle = { readonly __scanDupesHandle: never };

/** What dedupeRange came to (see there); sizes are those fstat gave when both files were open. */
type DedupeResult = { deduped: number; srcSize: number; destSize: number } & (
  | { status: 'same' | 'sizes' | 'one-file' }
  | { status: 'differs'; offset: number }
  | { status: 'unsupported'; offset: number; code: string }
  | { status: 'not-file'; path: string }
);

/** The native scanner, or null when it was not built. */
declare const addon: {
  /** Names joined by NUL, and a kind per name: 0 unknown, 1 file, 2 dir, 3 symlink, 4 other. */
  listDir(path: string): [string, Uint8Array];
  /** count × [kind, size, mtimeMs, dev, ino, mtimeSec, mtimeNsec]; kind is −errno for a failed entry. */
  statNames(dir: string, namesJoinedByNul: string, count: number, follow: boolean): Float64Array;
  /**
   * One directory's regular files that pass the filters, as the records `filer find` prints for them
   * (entryToJson's bytes for ndjson, `path\n` or `path\0` for paths, entryToCsvRow's for csv), each
   * file fstatat()'ed relative to the directory when the format prints size and mtime or a bound is
   * finite (no symlink followed; names starting with '.' skipped unless `hidden`): the records, their
   * count and total size (0 when nothing was stat'ed), the entries listed (every name, hidden ones
   * too), the subdirectories' names (each ending in NUL; '' unless `wantDirs`) and the failed files as
   * `name\0errno\0` pairs. Without `format` and what follows: ndjson, every file.
   * `format`: 0 ndjson, 1 paths with '\n', 2 paths with '\0', 3 csv. `exts` (lower-case ASCII, each
   * with its dot, joined by NUL; '' for any): a file whose name ends in none of them (ASCII case
   * ignored) is left out before it is stat'ed. `bounds`: [minSize, maxSize] inclusive and [newerMs,
   * olderMs] exclusive (mtime as statNames computes mtimeMs), ±Infinity where unset.
   * Null when the directory needs the general walk: an entry of unknown type, a name in `ignoreNames`
   * (joined by NUL), a listed file's name that is not UTF-8 or its mtime outside years 1000–9999.
   */
  listRecords(
    dir: string,
    hidden: boolean,
    wantDirs: boolean,
    format?: 0 | 1 | 2 | 3 | 4,
    exts?: string,
    bounds?: Float64Array,
    ignoreNames?: string,
  ): [records: string, count: number, bytes: number, entries: number, subdirs: string, failures: string] | null;
  /**
   * Reads the head and tail `block` bytes of each file (whole when ≤ 2 × block) into `out` at
   * i × 2 × block, then fstats it: count × [errno (−1 short read), size, dev, ino, mtimeSec, mtimeNsec, bytes].
   */
  readSamples(pathsJoinedByNul: string, count: number, sizes: Float64Array, block: number, follow: boolean, out: Uint8Array): Float64Array;
  /**
   * Every regular file under `root` (symlinks neither followed nor reported; names starting with '.'
   * skipped unless `hidden`; maxDepth < 0 is no limit), walked by `threads` threads: paths joined by
   * NUL, count × [size, dev, ino, mtimeSec, mtimeNsec], and failures as `path\0code\0message\0` triples.
   * With `cache` (the root's cache key, directory keys joined by NUL, their rows as matchEntries reads
   * them) each file is matched in its directory's row as it is listed: hints holds `sample\0full\0`
   * per file (both empty on a miss) and a flag per row says it served a file; without, '' and an
   * empty array.
   */
  scanFiles(
    root: string,
    hidden: boolean,
    maxDepth: number,
    threads: number,
    cache?: [rootKey: string, keys: string, rows: Buffer[]],
  ): [string, Float64Array, string, string, Uint8Array];
  /**
   * scanFiles' scan, its files kept in native memory for the duplicate pipeline: grouped by size (hard
   * links collapsed to their smallest path as JS orders strings; empty files only with includeEmpty),
   * then by sample and whole hash as dupesHash or the cache's hints give them. Returns the handle
   * the dupes* calls take, the scan's failures and its row flags. Several roots are scanned one
   * after another (each with its own cache triple: the same rows, the root's own key) and grouped
   * as one scan; a path two overlapping roots both list counts once (not as a hard link).
   * `extensions` (lower-case ASCII, each with its dot, joined by NUL): a regular file whose name ends
   * in none of them (ASCII case ignored) is skipped before it is stat'ed.
   */
  scanDupes(
    root: string | readonly string[],
    hidden: boolean,
    maxDepth: number,
    threads: number,
    cache: [rootKey: string, keys: string, rows: Buffer[]] | [rootKey: string, keys: string, rows: Buffer[]][] | undefined,
    group: [includeEmpty: boolean, wholeSampleMax: number, extensions?: string],
  ): [DupesHandle, string, Uint8Array];
  /**
   * Hashes (XXH3-128, as hashBatch, on `threads` threads off the JS thread) what a phase still lacks:
   * scope 0 the candidates' samples (head and tail `block` bytes), scope 1 the whole files larger
   * than their sample whose samples collide. A file that fails or is no longer what the scan
   * recorded is left out of every group; failures come back as `path\0code\0message\0` triples.
   * `progress` ([files, bytes] hashed, counting on from what it holds) is updated as it goes.
   */
  dupesHash(handle: DupesHandle, scope: 0 | 1, block: number, threads: number, progress?: Float64Array): Promise<string>;
  /** How many files dupesHash would hash for the scope now; −1 for scope 1 while samples are missing. */
  dupesMissing(handle: DupesHandle, scope: 0 | 1): number;
  /** The scan's paths, fields and hints as scanFiles returns them (for the engine's pipeline). */
  dupesFiles(handle: DupesHandle): [string, Float64Array, string];
  /**
   * Groups the scan's files again, leaving out those whose flag in `keep` (one per file, in
   * dupesFiles' order) is 0: filters the scan does not apply. Only before dupesHash.
   */
  dupesKeep(handle: DupesHandle, keep: Uint8Array): void;
  /**
   * The groups (as groupCached gives them), stats [files, extra hard links, empty files skipped,
   * candidates, cache hits, samples hashed, whole files hashed, bytes hashed] and the cache rows of
   * the files hashed in this run, flat: [directory key, entries, count, …] (entries as the cache
   * stores them, stored at `storedAt`; none when the scan had no cache rows). Null while a hash the
   * grouping needs is missing.
   */
  dupesResult(handle: DupesHandle, storedAt: number): [string, Float64Array, (string | number)[]] | null;
  /**
   * Copies `source` to `target`, which must not exist (created with the source's mode), on the
   * thread pool: copy_file_range in 8 MiB chunks (read/write where it cannot go). With `flush`,
   * each chunk's writeback starts as it is written and the promise resolves once the data is
   * durable (fdatasync). On failure `target` is removed and the error carries code, errno, syscall.
   */
  copyStaged(source: string, target: string, flush: boolean): Promise<void>;
  /**
   * As copyStaged(source, target, true), but the bytes are read and written, never shared
   * (copy_file_range reflinks on XFS and btrfs), and `target` gets the source's owner, group,
   * mode, atime and mtime to the nanosecond before it is made durable. Root or the owner only.
   */
  copyUnshared(source: string, target: string): Promise<void>;
  /**
   * Shares `dest`'s extents with `src`'s through the kernel's FIDEDUPERANGE, on the thread pool: src
   * opened read-only, dest read-write (both O_NOFOLLOW: a symlink at the end is ELOOP), both regular
   * files of one size, then 16 MiB per ioctl, each range compared by the kernel before it is shared.
   * `status`: `same` (deduped = the size), `differs` (a range at `offset` differs: nothing of it
   * shared, the ranges before it are, their bytes equal), `unsupported` (the file system or the pair
   * cannot: `code` EOPNOTSUPP, EINVAL, ENOTTY or EXDEV), `sizes` (srcSize ≠ destSize, nothing done),
   * `not-file` (`path` is not a regular file), `one-file` (one inode: nothing to share). Any other
   * failure rejects with an errno Error carrying code, errno, syscall and path (dest for the ioctl).
   */
  dedupeRange(src: string, dest: string): Promise<DedupeResult>;
  /** The distinct directories of some paths (what precedes each one's last '/') joined by NUL, and each path's directory number. */
  splitDirs(pathsJoinedByNul: string, count: number): [string, Int32Array];
  /**
   * Hash-cache matching: path i (identity ids[5i…5i+4] = size, dev, ino, mtimeSec, mtimeNsec) is looked up
   * by base name in rows[dirOf[i]] (the row's UTF-8 bytes; entries of five NUL-terminated fields: name, identity, stored_at,
   * sample, full). Answers `sample\0full\0` per path (both empty on a miss) and a hit flag per row.
   */
  matchEntries(
    pathsJoinedByNul: string,
    count: number,
    ids: Float64Array,
    dirOf: Int32Array,
    rows: (Buffer | undefined)[],
  ): [string, Uint8Array];
  /**
   * XXH3-128 of each file's sample (block > 0: the bytes readSamples reads, head ‖ tail) or of exactly
   * sizes[i] bytes of the whole file (block 0; fewer is errno −1), hashed by `threads` threads started
   * for the batch, off the JS thread: the same count × 7 fields as readSamples (bytes = what was
   * hashed), and 16 canonical (big-endian) digest bytes per file, zeros where it failed.
   */
  hashBatch(
    pathsJoinedByNul: string,
    count: number,
    sizes: Float64Array,
    block: number,
    follow: boolean,
    threads: number,
  ): Promise<[Float64Array, Uint8Array]>;
  /**
   * The duplicate groups of one scanFiles result (its paths, fields and cache hints) when every hash
   * the grouping needs is among the hints: hard links collapsed to their smallest path (as JS orders
   * strings), sizes shared by two or more inodes (empty files only with includeEmpty), split by
   * sample, then by whole hash above wholeSampleMax bytes. Groups as `size\0hash\0count\0path\0…`
   * (the empty files' hash left empty) in report order (paths sorted as JS sorts strings; most
   * wasted bytes first, then larger, then by first path) and [files, extra hard links, empty files skipped,
   * candidates]; null when a needed hash is missing.
   */
  groupCached(
    pathsJoinedByNul: string,
    count: number,
    fields: Float64Array,
    hints: string,
    includeEmpty: boolean,
    wholeSampleMax: number,
  ): [string, Float64Array] | null;
  /** syncfs(2) on the file system holding `path`. */
  syncFs(path: string): void;
  /**
   * Opens the absolute directory `path` as an O_PATH descriptor without following a symlink on the
   * way (one openat2 with RESOLVE_NO_SYMLINKS; where that is not available, or to create, one
   * component at a time from "/" with O_NOFOLLOW): a symlink on the way fails (ELOOP; a file on the way ENOTDIR), a missing component fails
   * (ENOENT) unless `create`, when it is made relative to its opened parent. Returns the
   * descriptor (close it with fs.closeSync) and how many trailing components were created.
   */
  openDir(path: string, create: boolean): [number, number];
  /**
   * fstatat(2) of one name in an open directory (a symlink is not followed unless `follow`):
   * [kind (1 file, 2 dir, 3 symlink, 4 other), size, dev, ino, mtimeSec, mtimeNsec, mode (permission
   * bits), uid, gid]; null when absent.
   */
  statAt(dirFd: number, name: string, follow: boolean): Float64Array | null;
  /** linkat(2) between open directories, never following a symlink named; EEXIST when the target exists. */
  linkAt(fromDirFd: number, fromName: string, toDirFd: number, toName: string): void;
  /** renameat(2) between open directories (replaces the target, as rename does). */
  renameAt(fromDirFd: number, fromName: string, toDirFd: number, toName: string): void;
  /** unlinkat(2) in an open directory; with `dir`, removes an empty directory. */
  unlinkAt(dirFd: number, name: string, dir: boolean): void;
  /**
   * Whether two names in open directories hold regular files of the same size and bytes (read in
   * 256 KiB chunks); false where either is a symlink (not followed) or not a regular file; throws
   * (ENOENT…) where a name cannot be opened.
   */
  sameBytesAt(dirFdA: number, nameA: string, dirFdB: number, nameB: string): boolean;
} | null;
export = addon;
