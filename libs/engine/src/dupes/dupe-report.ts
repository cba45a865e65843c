import { comparePaths } from '../output/sort-entries.js';
import type { DupeFile, DupeGroup } from './dupe-types.js';

/** Builds report groups: paths in byte order, groups by wasted bytes (then size, then first path). */
export function toDupeGroups(groups: readonly { files: readonly DupeFile[]; hash: string }[]): DupeGroup[] {
  return groups
    .map(({ files, hash }) => {
      const size = files[0].size;
      // The default sort compares UTF-16 code units, as comparePaths does, without a call per comparison.
      const paths = files.map((f) => f.path).sort();
      return { size, hash, paths, wasted: size * (paths.length - 1) };
    })
    .sort(compareDupeGroups);
}

/** Report order: most wasted bytes first, then larger files, then the first path. */
export function compareDupeGroups(a: DupeGroup, b: DupeGroup): number {
  return b.wasted - a.wasted || b.size - a.size || comparePaths(a.paths[0], b.paths[0]);
}
