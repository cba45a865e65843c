import {
  canScanNatively,
  keptFailures,
  parseFailures,
  groupingOf,
  SCAN_THREADS,
  type NativeGrouping,
  type NativeScanResult,
} from './scan-files.js';
import { availableParallelism } from 'node:os';
import { compileFilter, type FilterSpec, type PathError } from '@filer/core';
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
 * The whole duplicate pipeline of local roots in the addon: the scan of each root (matching files
 * against the cache's rows as it lists them), size groups across them (a path two overlapping roots
 * both list counts once, as in the engine), samples, whole hashes where samples collide, and the
 * groups in report order. The hidden, depth and (ASCII) extension filters apply as the scan lists,
 * so a file of another extension is never stat'ed; name and stat
 * filters (extensions, globs, regexes, sizes, times) are evaluated here on the scan's entries
 * before grouping, and only they become strings in JS. The same result as scanning and running
 * findDuplicates, faster and in a fraction of the memory. Undefined where it does not apply (no
 * addon, a spec the native scan cannot walk: see `canScanNatively`); `kind: 'files'` when hashes are
 * missing that only the engine makes (sha256); `kind: 'too-large'` when the paths do not fit in one scan.
 */
export async function findDuplicatesNatively(
  roots: string | readonly string[],
  spec: FilterSpec,
  opts: NativeDupesOptions,
): Promise<NativeDupes | undefined> {
  const scan = opts.scan === undefined ? nativeScan : opts.scan;
  if (scan === null || !canScanNatively(spec)) return undefined;
  const walked = (typeof roots === 'string' ? [roots] : roots).map(normalizeRoot);
  const { cacheRows } = opts;
  const caches = cacheRows && walked.map((r): [string, string, Buffer[]] => [cacheKeyOfDirectory(r), cacheRows.keys, cacheRows.rows]);
  // ASCII extensions are matched by the scan itself, before it stats a file (the JS filter still runs).
  const exts = spec.extensions.length > 0 && spec.extensions.every((e) => /^[\x20-\x7e]+$/.test(e)) ? spec.extensions : undefined;
  const group: [boolean, number, string?] = [opts.includeEmpty, WHOLE_SAMPLE_MAX];
  if (exts !== undefined) group.push(exts.map((e) => '.' + e).join('\0'));
  let scanned: ReturnType<NativeScan['scanDupes']>;
  try {
    scanned =
      walked.length === 1
        ? scan.scanDupes(walked[0], spec.hidden, spec.maxDepth ?? -1, SCAN_THREADS, caches?.[0], group)
        : scan.scanDupes(walked, spec.hidden, spec.maxDepth ?? -1, SCAN_THREADS, caches, group);
  } catch (e) {
    // A tree whose paths do not fit in one string (hundreds of MB of them) is walked portably.
    if ((e as { code?: string }).code === 'E2BIG') return { kind: 'too-large' };
    throw e;
  }
  const [handle, failed, hit] = scanned;
  const scanErrors = keptFailures(spec, parseFailures(failed));
  const served = cacheRows && hit;
  keepMatching(scan, handle, spec);
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

/**
 * Applies the spec's name and stat filters to a scanDupes handle's files (the scan applies hidden
 * and depth only): the files they reject are left out of the grouping, and so never hashed.
 */
function keepMatching(scan: NativeScan, handle: ReturnType<NativeScan['scanDupes']>[0], spec: FilterSpec): void {
  const { matchesName, matchesStat } = compileFilter(spec);
  if (matchesName === undefined && matchesStat === undefined) return;
  const [joined, f] = scan.dupesFiles(handle);
  const count = f.length / 5;
  const keep = new Uint8Array(count);
  // Names are cut out of the joined paths only when a name filter asks for them.
  let at = 0;
  for (let i = 0, o = 0; i < count; i++, o += 5) {
    let ok = matchesStat === undefined || matchesStat(f[o], f[o + 3] * 1000 + f[o + 4] / 1e6);
    if (matchesName !== undefined) {
      let end = joined.indexOf('\0', at);
      if (end < 0) end = joined.length;
      if (ok) ok = matchesName(joined.slice(joined.lastIndexOf('/', end - 1) + 1, end));
      at = end + 1;
    }
    keep[i] = ok ? 1 : 0;
  }
  scan.dupesKeep(handle, keep);
}
