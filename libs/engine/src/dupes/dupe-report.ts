import { comparePaths } from '../output/sort-entries.js';
import type { DupeFile, DupeGroup } from './dupe-types.js';

/** A group of identical files as found, before report order: their size, content hash and paths. */
export interface FoundGroup {
  size: number;
  hash: string;
  paths: string[];
}

/** Builds report groups: paths in byte order, groups by wasted bytes (then size, then first path). */
export function toDupeGroups(groups: readonly { files: readonly DupeFile[]; hash: string }[]): DupeGroup[] {
  return inReportOrder(groups.map(({ files, hash }) => ({ size: files[0].size, hash, paths: files.map((f) => f.path) })));
}

/** Report groups from found ones (whose path lists are sorted in place). */
export function inReportOrder(found: readonly FoundGroup[]): DupeGroup[] {
  return found
    .map(({ size, hash, paths }) => {
      // The default sort compares UTF-16 code units, as comparePaths does, without a call per comparison.
      paths.sort();
      return { size, hash, paths, wasted: size * (paths.length - 1) };
    })
    .sort(compareDupeGroups);
}

/** Report order: most wasted bytes first, then larger files, then the first path. */
export function compareDupeGroups(a: DupeGroup, b: DupeGroup): number {
  return b.wasted - a.wasted || b.size - a.size || comparePaths(a.paths[0], b.paths[0]);
}
