import { availableParallelism } from 'node:os';
import { compileFilter, type FilterSpec, type PathError } from '@filer/core';
import { normalizeRoot, WHOLE_SAMPLE_MAX, type DupeFile, type FoundGroup, type FoundStats } from '@filer/engine';
import { cacheKeyOfDirectory, type CacheRows } from '../state/cache-key.js';
import { nativeScan, type NativeScan } from './native-scan.js';

/** The regular files under some roots with their identity, and what could not be read. */
export interface ScannedFiles {
  files: DupeFile[];
  errors: PathError[];
  /** With cache rows: per row, whether it served some file. */
  served?: Uint8Array;
}

export interface ScanFilesOptions {
  /**
   * Hash-cache rows (`SqliteHashCache.rowsUnder`) to match each file against as its directory is
   * listed: every file then carries `cached` (its hashes, or null when the cache holds none for it).
   */
  cacheRows?: CacheRows;
  scan?: NativeScan | null;
}

/** Duplicate groups found natively, in report order, and the counts beside them. */
export interface NativeGrouping {
  groups: FoundGroup[];
  stats: FoundStats;
}

/**
 * Whether a spec can be walked by the native tree scan: it reads no ignore files (those prune
 * directories as the walk goes), excludes nothing, follows no symlinks and wants regular files.
 * Everything else it can ask (extensions, names, sizes, times, depth, hidden) is applied per file.
 */
export function canScanNatively(spec: FilterSpec): boolean {
  return !spec.ignoreFiles && !spec.follow && spec.excludes.length === 0 && spec.type === 'file';
}

/** The scan's threads: it waits on the kernel's directory and inode reads, which run in parallel. */
export const SCAN_THREADS = Math.min(4, Math.max(1, availableParallelism()));

/**
 * The scan's failures the portable walk of the same spec reports: an entry the scan could not stat
 * counts only if its name passes the filters (the walk stats no other); a directory it could not
 * list always counts.
 */
export function keptFailures(
  spec: FilterSpec,
  failures: PathError[],
  matchesName: ((name: string) => boolean) | undefined = compileFilter(spec).matchesName,
): PathError[] {
  if (matchesName === undefined) return failures;
  return failures.filter((e) => e.message.includes(", scandir '") || matchesName(e.path.slice(e.path.lastIndexOf('/') + 1)));
}

/** One root's native scan, as the addon returned it: no per-file work done in JS yet. */
interface ScannedRoot {
  joined: string;
  /** count × [size, dev, ino, mtimeSec, mtimeNsec] */
  fields: Float64Array;
  /** With cache rows: "sample\0full\0" per file. */
  hints: string;
}

/** What a native scan of some roots found, kept as the addon returned it until a consumer needs objects. */
export interface NativeScanResult {
  roots: ScannedRoot[];
  errors: PathError[];
  /** With cache rows: per row, whether it served some file. */
  served?: Uint8Array;
  spec: FilterSpec;
  matchedCache: boolean;
}

/**
 * Lists every regular file under `roots` (directories) with its size, device, inode and exact mtime
 * in one native call per root, several threads walking the tree at once: the same files and errors
 * as the portable walk of the same spec, in no fixed order. Undefined when the native scanner is not
 * built, the spec needs the portable walk (see `canScanNatively`) or the tree's paths are too many
 * for one call. `dupeFilesOf` turns the result into file records.
 */
export function scanTreeNatively(roots: readonly string[], spec: FilterSpec, opts: ScanFilesOptions = {}): NativeScanResult | undefined {
  const scan = opts.scan === undefined ? nativeScan : opts.scan;
  if (scan === null || !canScanNatively(spec)) return undefined;
  const { cacheRows } = opts;
  const { matchesName } = compileFilter(spec);
  const scanned: ScannedRoot[] = [];
  const errors: PathError[] = [];
  const served = cacheRows && new Uint8Array(cacheRows.rows.length);
  for (const root of roots) {
    const walked = normalizeRoot(root);
    let result: ReturnType<NativeScan['scanFiles']>;
    try {
      const cache: [string, string, Buffer[]] | undefined = cacheRows && [cacheKeyOfDirectory(walked), cacheRows.keys, cacheRows.rows];
      result = scan.scanFiles(walked, spec.hidden, spec.maxDepth ?? -1, SCAN_THREADS, cache);
    } catch (e) {
      // A tree whose paths do not fit in one string (hundreds of MB of them) is walked portably.
      if ((e as { code?: string }).code === 'E2BIG') return undefined;
      throw e;
    }
    const [joined, fields, failed, hints, hit] = result;
    scanned.push({ joined, fields, hints });
    if (served !== undefined) for (let r = 0; r < hit.length; r++) served[r] |= hit[r];
    errors.push(...keptFailures(spec, parseFailures(failed), matchesName));
  }
  return { roots: scanned, errors, served, spec, matchedCache: cacheRows !== undefined };
}

/** The scanned files the spec's name and stat filters keep, each with what the cache held for it when matched. */
export function dupeFilesOf(scan: NativeScanResult): DupeFile[] {
  const { matchesName, matchesStat } = compileFilter(scan.spec);
  const files: DupeFile[] = [];
  for (const { joined, fields: f, hints: hintsJoined } of scan.roots) {
    const paths = joined === '' ? [] : joined.split('\0');
    // "sample\0full\0" per file: an empty sample is a miss.
    const hints = scan.matchedCache ? hintsJoined.split('\0') : undefined;
    for (let i = 0, o = 0; i < paths.length; i++, o += 5) {
      const path = paths[i];
      if (matchesName !== undefined && !matchesName(path.slice(path.lastIndexOf('/') + 1))) continue;
      if (matchesStat !== undefined && !matchesStat(f[o], f[o + 3] * 1000 + f[o + 4] / 1e6)) continue;
      const file: DupeFile = { path, size: f[o], dev: f[o + 1], ino: f[o + 2], mtimeSec: f[o + 3], mtimeNsec: f[o + 4], cached: undefined };
      if (hints !== undefined) {
        const sample = hints[2 * i];
        file.cached = sample === '' ? null : { sample, full: hints[2 * i + 1] || undefined };
      }
      files.push(file);
    }
  }
  return files;
}

/** `scanTreeNatively`, then `dupeFilesOf`. */
export function scanFilesNatively(roots: readonly string[], spec: FilterSpec, opts: ScanFilesOptions = {}): ScannedFiles | undefined {
  const scan = scanTreeNatively(roots, spec, opts);
  return scan && { files: dupeFilesOf(scan), errors: scan.errors, served: scan.served };
}

/**
 * The duplicate groups of a scan matched against the cache, found by the addon's grouping when
 * every hash it needs came from the cache: what findDuplicates would find on the same files.
 * Undefined when a needed hash is missing, or the scan is one the native grouping leaves to the
 * engine: several roots (they may overlap), name or stat filters, no cache rows, no native scanner.
 */
export function groupCachedNatively(
  scan: NativeScanResult,
  opts: { includeEmpty: boolean; emptyHash: string; native?: NativeScan | null },
): NativeGrouping | undefined {
  const native = opts.native === undefined ? nativeScan : opts.native;
  if (native === null || !scan.matchedCache || scan.roots.length !== 1 || !keepsEveryFile(scan.spec)) return undefined;
  const [{ joined, fields, hints }] = scan.roots;
  const count = fields.length / 5;
  const found = native.groupCached(joined, count, fields, hints, opts.includeEmpty, WHOLE_SAMPLE_MAX);
  if (found === null) return undefined;
  const [text, s] = found;
  // Every hash came from the cache: each candidate was a hit, nothing was read.
  return groupingOf(text, [s[0], s[1], s[2], s[3], s[3], 0, 0, 0], opts.emptyHash);
}

/** Whether the spec's name and stat filters keep every scanned file (the native grouping applies none). */
export function keepsEveryFile(spec: FilterSpec): boolean {
  const { matchesName, matchesStat } = compileFilter(spec);
  return matchesName === undefined && matchesStat === undefined;
}

/** The addon's failures (`path\0code\0message\0` each) as path errors. */
export function parseFailures(text: string): PathError[] {
  const errors: PathError[] = [];
  const parts = text.split('\0');
  for (let k = 0; k + 2 < parts.length; k += 3) errors.push({ path: parts[k], code: parts[k + 1], message: parts[k + 2] });
  return errors;
}

/**
 * The addon's groups and counts as a grouping: `text` holds `size\0hash\0count\0path\0…` per group,
 * in report order; `s` is [files, extra hard links, empty files skipped, candidates, cache hits,
 * samples hashed, whole files hashed, bytes hashed].
 */
export function groupingOf(text: string, s: ArrayLike<number>, emptyHash: string): NativeGrouping {
  return {
    groups: parseGroups(text, emptyHash),
    stats: {
      files: s[0],
      hardLinks: s[1],
      emptySkipped: s[2],
      candidates: s[3],
      cacheHits: s[4],
      sampled: s[5],
      fullyHashed: s[6],
      bytesRead: s[7],
    },
  };
}

/** The addon's groups (`size\0hash\0count\0path\0…` each, in report order) as found groups. */
function parseGroups(text: string, emptyHash: string): FoundGroup[] {
  const parts = text.split('\0');
  const groups: FoundGroup[] = [];
  // The text ends with a NUL: one empty last part.
  for (let k = 0; k + 2 < parts.length;) {
    const n = Number(parts[k + 2]);
    const size = Number(parts[k]);
    groups.push({ size, hash: size === 0 ? emptyHash : parts[k + 1], paths: parts.slice(k + 3, k + 3 + n) });
    k += 3 + n;
  }
  return groups;
}
