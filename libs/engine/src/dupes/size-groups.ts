import type { DupeFile } from './dupe-types.js';

export interface SizeGrouping {
  /** Groups of two or more distinct inodes sharing a size, largest size first. */
  groups: DupeFile[][];
  hardLinks: number;
  emptySkipped: number;
  files: number;
}

/** The same grouping as positions in the input, which also say the order files were walked in. */
export interface SizeIndexGrouping extends Omit<SizeGrouping, 'groups'> {
  groups: number[][];
}

/**
 * Collapses hard links (one inode is one file: its smallest path stands for it, so the report
 * does not depend on walk order) and groups the rest
 * by size. Only sizes shared by two or more inodes can hold duplicates; empty files are all
 * identical, so they are grouped only when asked.
 */
export function groupBySize(files: Iterable<DupeFile>, includeEmpty: boolean): SizeGrouping {
  const list = Array.isArray(files) ? (files as DupeFile[]) : [...files];
  const r = groupIndicesBySize(list, includeEmpty);
  return { ...r, groups: r.groups.map((g) => g.map((i) => list[i])) };
}

/** `groupBySize` by position in `files`: numbers only, no object keys or string keys per file. */
export function groupIndicesBySize(files: readonly DupeFile[], includeEmpty: boolean): SizeIndexGrouping {
  // Inodes per device, keyed by number.
  const byDevice = new Map<number, Map<number, number>>();
  let hardLinks = 0;
  let lastDev = NaN;
  let byInode: Map<number, number> | undefined;
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    if (f.dev !== lastDev || byInode === undefined) {
      lastDev = f.dev;
      byInode = byDevice.get(f.dev);
      if (byInode === undefined) byDevice.set(f.dev, (byInode = new Map()));
    }
    const seen = byInode.get(f.ino);
    if (seen === undefined) byInode.set(f.ino, i);
    else if (files[seen].path !== f.path) {
      // The same path twice (overlapping roots) is one name; another path is another link.
      hardLinks++;
      if (f.path < files[seen].path) byInode.set(f.ino, i);
    }
  }
  const bySize = new Map<number, number[]>();
  let emptySkipped = 0;
  let count = 0;
  for (const inodes of byDevice.values()) {
    for (const i of inodes.values()) {
      count++;
      const size = files[i].size;
      if (size === 0 && !includeEmpty) {
        emptySkipped++;
        continue;
      }
      const list = bySize.get(size);
      if (list) list.push(i);
      else bySize.set(size, [i]);
    }
  }
  const groups: number[][] = [];
  for (const g of bySize.values()) if (g.length > 1) groups.push(g);
  groups.sort((a, b) => files[b[0]].size - files[a[0]].size);
  return { groups, hardLinks, emptySkipped, files: count };
}

/** Splits a group by a key per member, keeping only sub-groups of two or more. */
export function splitByKey<T>(members: readonly T[], keys: readonly (string | undefined)[]): T[][] {
  const byKey = new Map<string, T[]>();
  for (let i = 0; i < members.length; i++) {
    const k = keys[i];
    if (k === undefined) continue;
    const list = byKey.get(k);
    if (list) list.push(members[i]);
    else byKey.set(k, [members[i]]);
  }
  return [...byKey.values()].filter((g) => g.length > 1);
}
