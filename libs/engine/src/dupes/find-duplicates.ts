import type { PathError } from '@filer/core';
import { toDupeGroups, type FoundGroup } from './dupe-report.js';
import { hashSizeGroups, tracked, type FinalGroup, type Tracked } from './hash-size-groups.js';
import { groupIndicesBySize } from './size-groups.js';
import type { DupeFile, DupeGroup, DupePhase, DupeStats, FileHasher, HashCache } from './dupe-types.js';

export interface FindDuplicatesOptions {
  hasher: FileHasher;
  cache?: HashCache;
  includeEmpty: boolean;
  /** Digest of zero bytes, the hash reported for a group of empty files. */
  emptyHash: string;
  /** Called (and awaited) as each phase starts. */
  onPhase?: (phase: DupePhase) => void | Promise<void>;
}

export interface DuplicatesResult {
  groups: DupeGroup[];
  errors: PathError[];
  stats: DupeStats;
}

/**
 * The duplicate pipeline: group by size → hash a sample (head and tail) of every file whose
 * size is shared → hash whole files only where samples collide → groups of identical content.
 * Hashes come from the cache while a file is unchanged; a file that fails or changes on the way
 * is reported as an error, never as a duplicate.
 */
export async function findDuplicates(files: Iterable<DupeFile>, opts: FindDuplicatesOptions): Promise<DuplicatesResult> {
  const { hasher, cache } = opts;
  const errors: PathError[] = [];
  await opts.onPhase?.('size');
  const list = Array.isArray(files) ? (files as DupeFile[]) : [...files];
  const sizes = groupIndicesBySize(list, opts.includeEmpty);
  const stats: DupeStats = {
    files: sizes.files,
    hardLinks: sizes.hardLinks,
    emptySkipped: sizes.emptySkipped,
    candidates: 0,
    sampled: 0,
    fullyHashed: 0,
    cacheHits: 0,
    bytesRead: 0,
    groups: 0,
    duplicateFiles: 0,
    wastedBytes: 0,
    errors: 0,
  };
  const final: FinalGroup[] = [];
  const sized: Tracked[][] = [];
  for (const g of sizes.groups) {
    if (list[g[0]].size === 0) final.push({ files: g.map((i) => list[i]), hash: opts.emptyHash });
    else sized.push(g.map((i) => tracked(list[i], i)));
  }
  await hashSizeGroups(sized, final, { hasher, cache, stats, errors, onPhase: opts.onPhase });
  cache?.flush?.();
  await opts.onPhase?.('done');

  stats.bytesRead = hasher.bytesRead;
  return withTotals(toDupeGroups(final), stats, errors);
}

/** The result, with the totals of its groups added to the stats. */
export function withTotals(groups: DupeGroup[], stats: DupeStats, errors: PathError[]): DuplicatesResult {
  stats.groups = groups.length;
  stats.duplicateFiles = groups.reduce((n, g) => n + g.paths.length, 0);
  stats.wastedBytes = groups.reduce((n, g) => n + g.wasted, 0);
  stats.errors = errors.length;
  return { groups, errors, stats };
}

/** The counts a grouping found before the totals of its groups are added. */
export type FoundStats = Omit<DupeStats, 'groups' | 'duplicateFiles' | 'wastedBytes' | 'errors'>;

/**
 * The result for groups found outside this pipeline (the native one, or from the cache alone), given
 * in report order (paths sorted, groups as compareDupeGroups orders them): what findDuplicates gives
 * for the same files, hashes and failures.
 */
export function duplicatesFromGroups(found: readonly FoundGroup[], stats: FoundStats, errors: PathError[] = []): DuplicatesResult {
  return withTotals(
    found.map(({ size, hash, paths }) => ({ size, hash, paths, wasted: size * (paths.length - 1) })),
    // Spelt out in findDuplicates' order: the JSON report's summary keeps its key order.
    {
      files: stats.files,
      hardLinks: stats.hardLinks,
      emptySkipped: stats.emptySkipped,
      candidates: stats.candidates,
      sampled: stats.sampled,
      fullyHashed: stats.fullyHashed,
      cacheHits: stats.cacheHits,
      bytesRead: stats.bytesRead,
      groups: 0,
      duplicateFiles: 0,
      wastedBytes: 0,
      errors: 0,
    },
    errors,
  );
}
