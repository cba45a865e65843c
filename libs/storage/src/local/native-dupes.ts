import {
  canScanNatively,
  keepsEveryFile,
  parseFailures,
  groupingOf,
  SCAN_THREADS,
  type NativeGrouping,
  type NativeScanResult,
} from './scan-files.js';
import { availableParallelism } from 'node:os';
import type { FilterSpec, PathError } from '@filer/core';
import { normalizeRoot, WHOLE_SAMPLE_MAX, type DupePhase } from '@filer/engine';
import { SAMPLE_BLOCK } from '@filer/engine/sample-layout';
import { cacheKeyOfDirectory, type CacheRows } from '../state/cache-key.js';
import { nativeScan, type NativeScan } from './native-scan.js';

export interface NativeDupesOptions {
  /** Hash-cache rows below the root (`SqliteHashCache.rowsUnder`): their hashes are used, and the rows of what is hashed come back. */
  cacheRows?: CacheRows;
  includeEmpty: boolean;
  emptyHash: string;
  /**
   * Whether missing hashes may be made here: the addon hashes with xxh128 only. When false and the
   * cache lacks a hash the grouping needs, the scan is handed back for the engine to hash.
   */
  canHash: boolean;
  /** Hashing threads (default: one per core). */
  threads?: number;
  /** Files and bytes hashed so far ([files, bytes]), updated as the threads go, for progress. */
  progress?: Float64Array;
  /** Called (and awaited) as each phase starts, as findDuplicates calls it. */
  onPhase?: (phase: DupePhase) => void | Promise<void>;
  /** When the cache entries of this run are stored (ms since the epoch). */
  now?: () => number;
  scan?: NativeScan | null;
}

/** One directory's new cache entries, as the cache stores them (see SqliteHashCache.storeRows). */
export interface FreshRow {
  dir: string;
  entries: string;
  count: number;
}

export type NativeDupes =
  | (NativeGrouping & {
      kind: 'grouped';
      /** Files that failed or changed while hashed: left out of every group. */
      errors: PathError[];
      scanErrors: PathError[];
      /** With cache rows: per row, whether it served some file. */
      served?: Uint8Array;
      /** Cache entries of the files hashed in this run (none without cache rows). */
      rows: FreshRow[];
    })
  | { kind: 'files'; scan: NativeScanResult }
  /** Paths too many for one native scan (hundreds of MB of them): only the portable walk can list them. */
  | { kind: 'too-large' };

/**
 * The whole duplicate pipeline of one local root in the addon: the scan (matching files against
 * the cache's rows as it lists them), size groups, samples, whole hashes where samples collide,
 * and the groups in report order, with no record per file in JS. The same result as scanning and
 * running findDuplicates, faster and in a fraction of the memory. Undefined where it does not
 * apply (no addon, a spec the native scan cannot walk, name or stat filters); `kind: 'files'` when
 * hashes are missing that only the engine makes (sha256); `kind: 'too-large'` when the tree's paths
 * do not fit in one scan.
 */
export async function findDuplicatesNatively(root: string, spec: FilterSpec, opts: NativeDupesOptions): Promise<NativeDupes | undefined> {
  const scan = opts.scan === undefined ? nativeScan : opts.scan;
  if (scan === null || !canScanNatively(spec) || !keepsEveryFile(spec)) return undefined;
  const walked = normalizeRoot(root);
  const { cacheRows } = opts;
  const cache: [string, string, Buffer[]] | undefined = cacheRows && [cacheKeyOfDirectory(walked), cacheRows.keys, cacheRows.rows];
  let scanned: ReturnType<NativeScan['scanDupes']>;
  try {
    scanned = scan.scanDupes(walked, spec.hidden, spec.maxDepth ?? -1, SCAN_THREADS, cache, [opts.includeEmpty, WHOLE_SAMPLE_MAX]);
  } catch (e) {
    // A tree whose paths do not fit in one string (hundreds of MB of them) is walked portably.
    if ((e as { code?: string }).code === 'E2BIG') return { kind: 'too-large' };
    throw e;
  }
  const [handle, failed, hit] = scanned;
  const scanErrors = parseFailures(failed);
  const served = cacheRows && hit;
  if (!opts.canHash && (scan.dupesMissing(handle, 0) !== 0 || scan.dupesMissing(handle, 1) !== 0)) {
    const [joined, fields, hints] = scan.dupesFiles(handle);
    return {
      kind: 'files',
      scan: { roots: [{ joined, fields, hints }], errors: scanErrors, served, spec, matchedCache: cacheRows !== undefined },
    };
  }
  const threads = opts.threads ?? Math.max(1, availableParallelism());
  const errors: PathError[] = [];
  await opts.onPhase?.('size');
  await opts.onPhase?.('sample');
  // A warm run has nothing to hash: no phase leaves this thread.
  if (scan.dupesMissing(handle, 0) > 0)
    errors.push(...parseFailures(await scan.dupesHash(handle, 0, SAMPLE_BLOCK, threads, opts.progress)));
  await opts.onPhase?.('full');
  if (scan.dupesMissing(handle, 1) > 0) errors.push(...parseFailures(await scan.dupesHash(handle, 1, 0, threads, opts.progress)));
  await opts.onPhase?.('done');
  const result = scan.dupesResult(handle, (opts.now ?? Date.now)());
  // Both phases ran, so every live file has the hashes its grouping needs.
  if (result === null) throw new Error('dupesResult: a hash is still missing after both phases');
  const [text, s, flat] = result;
  const rows: FreshRow[] = [];
  for (let k = 0; k + 2 < flat.length; k += 3)
    rows.push({ dir: flat[k] as string, entries: flat[k + 1] as string, count: flat[k + 2] as number });
  return {
    kind: 'grouped',
    ...groupingOf(text, s, opts.emptyHash),
    errors,
    scanErrors,
    served,
    rows,
  };
}
