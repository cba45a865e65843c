import type { DupeFile } from './dupe-types.js';

export interface SizeGrouping {
  /** Groups of two or more distinct inodes sharing a size, largest size first. */
  groups: DupeFile[][];
  hardLinks: number;
  emptySkipped: number;
  files: number;
}

/**
 * Collapses hard links (one inode is one file: its smallest path stands for it, so the report
 * does not depend on walk order) and groups the rest
 * by size. Only sizes shared by two or more inodes can hold duplicates; empty files are all
 * identical, so they are grouped only when asked.
 */
export function groupBySize(files: Iterable<DupeFile>, includeEmpty: boolean): SizeGrouping {
  const byInode = new Map<string, DupeFile>();
  let hardLinks = 0;
  for (const f of files) {
    const id = `${f.dev}:${f.ino}`;
    const seen = byInode.get(id);
    if (seen === undefined) byInode.set(id, f);
    else if (seen.path !== f.path) {
      // The same path twice (overlapping roots) is one name; another path is another link.
      hardLinks++;
      if (f.path < seen.path) byInode.set(id, f);
    }
  }
  const bySize = new Map<number, DupeFile[]>();
  let emptySkipped = 0;
  let count = 0;
  for (const f of byInode.values()) {
    count++;
    if (f.size === 0 && !includeEmpty) {
      emptySkipped++;
      continue;
    }
    const list = bySize.get(f.size);
    if (list) list.push(f);
    else bySize.set(f.size, [f]);
  }
  const groups = [...bySize.values()].filter((g) => g.length > 1).sort((a, b) => b[0].size - a[0].size);
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
