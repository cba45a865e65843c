import { availableParallelism } from 'node:os';
import { compileFilter, type FilterSpec, type PathError } from '@filer/core';
import { normalizeRoot, type DupeFile } from '@filer/engine';
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

/**
 * Whether a spec can be walked by the native tree scan: it reads no ignore files (those prune
 * directories as the walk goes), excludes nothing, follows no symlinks and wants regular files.
 * Everything else it can ask (extensions, names, sizes, times, depth, hidden) is applied per file.
 */
export function canScanNatively(spec: FilterSpec): boolean {
  return !spec.ignoreFiles && !spec.follow && spec.excludes.length === 0 && spec.type === 'file';
}

/** The scan's threads: it waits on the kernel's directory and inode reads, which run in parallel. */
const SCAN_THREADS = Math.min(4, Math.max(1, availableParallelism()));

/**
 * Lists every regular file under `roots` (directories) with its size, device, inode and exact mtime
 * in one native call per root, several threads walking the tree at once: the same files and errors
 * as the portable walk of the same spec, in no fixed order. Undefined when the native scanner is not
 * built, the spec needs the portable walk (see `canScanNatively`) or the tree's paths are too many
 * for one call.
 */
export function scanFilesNatively(roots: readonly string[], spec: FilterSpec, opts: ScanFilesOptions = {}): ScannedFiles | undefined {
  const scan = opts.scan === undefined ? nativeScan : opts.scan;
  if (scan === null || !canScanNatively(spec)) return undefined;
  const { matchesName, matchesStat } = compileFilter(spec);
  const { cacheRows } = opts;
  const files: DupeFile[] = [];
  const errors: PathError[] = [];
  const served = cacheRows && new Uint8Array(cacheRows.rows.length);
  for (const root of roots) {
    const walked = normalizeRoot(root);
    let result: [string, Float64Array, string, string, Uint8Array];
    try {
      const cache: [string, string, Buffer[]] | undefined = cacheRows && [cacheKeyOfDirectory(walked), cacheRows.keys, cacheRows.rows];
      result = scan.scanFiles(walked, spec.hidden, spec.maxDepth ?? -1, SCAN_THREADS, cache);
    } catch (e) {
      // A tree whose paths do not fit in one string (hundreds of MB of them) is walked portably.
      if ((e as { code?: string }).code === 'E2BIG') return undefined;
      throw e;
    }
    const [joined, f, failed, hintsJoined, hit] = result;
    const paths = joined === '' ? [] : joined.split('\0');
    // "sample\0full\0" per file: an empty sample is a miss.
    const hints = cacheRows ? hintsJoined.split('\0') : undefined;
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
    if (served !== undefined) for (let r = 0; r < hit.length; r++) served[r] |= hit[r];
    const parts = failed.split('\0');
    for (let k = 0; k + 2 < parts.length; k += 3) errors.push({ path: parts[k], code: parts[k + 1], message: parts[k + 2] });
  }
  return { files, errors, served };
}
