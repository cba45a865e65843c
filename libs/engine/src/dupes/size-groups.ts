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
  // Size first: the names of one inode share its size, so inodes are compared only within a size,
  // and a size held by one file (most of a tree) costs one map entry and nothing more.
  const bySize = new Map<number, number | number[]>();
  for (let i = 0; i < files.length; i++) {
    const size = files[i].size;
    const seen = bySize.get(size);
    if (seen === undefined) bySize.set(size, i);
    else if (typeof seen === 'number') bySize.set(size, [seen, i]);
    else seen.push(i);
  }
  const groups: number[][] = [];
  let hardLinks = 0;
  let emptySkipped = 0;
  let count = 0;
  for (const [size, seen] of bySize) {
    const inodes = typeof seen === 'number' ? [seen] : distinctInodes(files, seen);
    hardLinks += typeof seen === 'number' ? 0 : seen.length - inodes.length - samePathRepeats(files, seen, inodes);
    count += inodes.length;
    if (size === 0 && !includeEmpty) emptySkipped += inodes.length;
    else if (inodes.length > 1) groups.push(inodes);
  }
  groups.sort((a, b) => files[b[0]].size - files[a[0]].size);
  return { groups, hardLinks, emptySkipped, files: count };
}

/** One size's records (walk order) with their hard links collapsed: what `groupIndicesBySize` does per size. */
export interface CollapsedGroup {
  /** Positions in the group, one per inode (its smallest path), in order of first appearance. */
  inodes: number[];
  /** Extra names of an inode already counted. */
  hardLinks: number;
  /** Records dropped in all (hard links and names repeated by overlapping roots). */
  dropped: number;
}

/** Collapses one size group's hard links (see `groupIndicesBySize`): the spilled pipeline reads groups one at a time. */
export function collapseSizeGroup(files: readonly DupeFile[]): CollapsedGroup {
  const members = files.map((_, i) => i);
  const inodes = files.length < 2 ? members : distinctInodes(files, members);
  const dropped = files.length - inodes.length;
  return { inodes, hardLinks: dropped - samePathRepeats(files, members, inodes), dropped };
}

/**
 * One position per inode (device and inode number) among `members`, in order of first appearance:
 * the one with the smallest path, so the report does not depend on walk order.
 */
function distinctInodes(files: readonly DupeFile[], members: readonly number[]): number[] {
  const out: number[] = [];
  // Small groups (nearly all) compare pairwise; large ones index by inode.
  const index = members.length > 16 ? new Map<number, Map<number, number>>() : undefined;
  for (const i of members) {
    const f = files[i];
    let k = -1;
    if (index === undefined) {
      for (let j = 0; j < out.length; j++) {
        const o = files[out[j]];
        if (o.ino === f.ino && o.dev === f.dev) {
          k = j;
          break;
        }
      }
    } else {
      let byIno = index.get(f.dev);
      if (byIno === undefined) index.set(f.dev, (byIno = new Map()));
      k = byIno.get(f.ino) ?? -1;
      if (k < 0) byIno.set(f.ino, out.length);
    }
    if (k < 0) out.push(i);
    else if (f.path < files[out[k]].path) out[k] = i;
  }
  return out;
}

/**
 * Names among `members` that repeat an inode's path (overlapping roots list a file twice): one
 * name, not another hard link.
 */
function samePathRepeats(files: readonly DupeFile[], members: readonly number[], inodes: readonly number[]): number {
  if (members.length === inodes.length) return 0;
  const names = new Set<string>();
  let repeats = 0;
  for (const i of members) {
    const key = `${files[i].dev}:${files[i].ino}:${files[i].path}`;
    if (names.has(key)) repeats++;
    else names.add(key);
  }
  return repeats;
}

/** Splits a group by a key per member, keeping only sub-groups of two or more. */
export function splitByKey<T>(members: readonly T[], keys: readonly (string | undefined)[]): T[][] {
  const n = members.length;
  // Most groups are pairs or a few files: compared directly, without a map.
  if (n === 2) return keys[0] !== undefined && keys[0] === keys[1] ? [[members[0], members[1]]] : [];
  if (n <= 8) {
    const out: T[][] = [];
    const taken = new Array<boolean>(n).fill(false);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      if (k === undefined || taken[i]) continue;
      let sub: T[] | undefined;
      for (let j = i + 1; j < n; j++) {
        if (taken[j] || keys[j] !== k) continue;
        (sub ??= [members[i]]).push(members[j]);
        taken[j] = true;
      }
      if (sub !== undefined) out.push(sub);
    }
    return out;
  }
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
