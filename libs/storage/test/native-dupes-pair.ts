import type { FilterSpec } from '@filer/core';
import { findDuplicates, type DupePhase } from '@filer/engine';
import { dupeFilesOf, findDuplicatesNatively, scanTreeNatively } from '@filer/storage';
import type { SqliteHashCache } from '@filer/storage/state';
import { LocalFileHasher } from '../src/local/local-file-hasher.js';

/**
 * The two duplicate pipelines the native-dupes tests compare, on the same scan of the same roots:
 * the engine's (the reference) and the addon's. Shared by native-dupes.test.ts (one root) and
 * native-dupes-roots.test.ts (several roots, filters).
 */
export const EMPTY = 'empty-digest';

/** The engine on the same scan (with the same cache rows): its result, and its cache writes to `cache`. */
export async function viaEngine(roots: string[], s: FilterSpec, cache: SqliteHashCache | undefined, includeEmpty: boolean) {
  const scan = scanTreeNatively(roots, s, { cacheRows: cache?.rowsUnder(roots, 'xxh128') })!;
  const hasher = new LocalFileHasher('xxh128', 2);
  try {
    return { result: await findDuplicates(dupeFilesOf(scan), { hasher, cache, includeEmpty, emptyHash: EMPTY }), scanErrors: scan.errors };
  } finally {
    await hasher.close();
  }
}

/** The addon's whole pipeline; its new cache rows are stored in `cache` as the CLI stores them. */
export async function viaNative(
  roots: string[],
  s: FilterSpec,
  cache: SqliteHashCache | undefined,
  includeEmpty: boolean,
  onPhase?: (p: DupePhase) => void,
  progress?: Float64Array,
) {
  const found = await findDuplicatesNatively(roots, s, {
    cacheRows: cache?.rowsUnder(roots, 'xxh128'),
    includeEmpty,
    emptyHash: EMPTY,
    canHash: true,
    threads: 2,
    onPhase,
    progress,
  });
  if (found?.kind !== 'grouped') throw new Error(`expected the native pipeline to run, got ${found?.kind}`);
  cache?.storeRows(found.rows, 'xxh128');
  return found;
}

/** Every cache entry below `root`: name, identity and hashes by directory (the time stored left out). */
export function entriesOf(cache: SqliteHashCache, root: string): Record<string, string[]> {
  const rows = cache.rowsUnder([root], 'xxh128')!;
  const out: Record<string, string[]> = {};
  if (rows.rows.length === 0) return out;
  rows.keys.split('\0').forEach((key, r) => {
    const fields = rows.rows[r].toString('utf8').split('\0');
    const entries: string[] = [];
    for (let k = 0; k + 4 < fields.length; k += 5) entries.push([fields[k], fields[k + 1], fields[k + 3], fields[k + 4]].join('|'));
    out[key] = entries.sort();
  });
  return out;
}
