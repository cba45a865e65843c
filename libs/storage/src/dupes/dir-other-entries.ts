import * as fs from 'node:fs';
import * as path from 'node:path';
import { QUARANTINE_NAME } from '@filer/core';
import type { DirOtherEntry, DupeGroup } from '@filer/engine';

// For `filer dupes --dirs`: what else the directories holding duplicates contain. Their entries are
// listed once more (names and types, an lstat for a file in no group); no file is read.

/**
 * Every entry no group holds in the directories that hold a grouped file, or lie between one and
 * its root: empty files as 'empty'; other files, symlinks and the like, and subdirectories with a
 * file somewhere below them, as 'unique'. Subdirectories with no file at any depth are ignored.
 * Entries the dupes filters left out (other extensions, hidden files…) count as unique: a
 * directory is equal to another only when all it holds is known to be.
 */
export function otherEntries(roots: readonly string[], groups: readonly DupeGroup[]): DirOtherEntry[] {
  const grouped = new Set<string>();
  const candidates = new Set<string>();
  const inRoot = (d: string): boolean => roots.some((r) => d === r || d.startsWith(r === '/' ? '/' : r + '/'));
  for (const g of groups)
    for (const p of g.paths) {
      grouped.add(p);
      for (let d = path.dirname(p); inRoot(d) && !candidates.has(d); d = path.dirname(d)) {
        // Up to the outermost root: a root inside another is listed as one of its directories.
        candidates.add(d);
      }
    }
  const out: DirOtherEntry[] = [];
  for (const dir of candidates) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      out.push({ path: childOf(dir, '\0unreadable'), size: 0, content: 'unique' });
      continue;
    }
    for (const e of entries) {
      if (e.name === QUARANTINE_NAME) continue;
      const p = childOf(dir, e.name);
      if (grouped.has(p) || candidates.has(p)) continue;
      if (e.isDirectory()) {
        if (holdsAnyFile(p)) out.push({ path: p, size: 0, content: 'unique' });
      } else if (e.isFile()) {
        const size = sizeOf(p);
        out.push({ path: p, size: size ?? 0, content: size === 0 ? 'empty' : 'unique' });
      } else out.push({ path: p, size: 0, content: 'unique' });
    }
  }
  return out;
}

/** `name` below `dir`, joined as the walk joins them (no normalising). */
export const childOf = (dir: string, name: string): string => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

/** The size of what `p` names (not following a link), or undefined when it cannot be stat'ed. */
export function sizeOf(p: string): number | undefined {
  try {
    return fs.lstatSync(p).size;
  } catch {
    return undefined;
  }
}

/** Whether anything but directories lies below `dir` (stops at the first such entry). */
export function holdsAnyFile(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  return entries.some((e) => e.name !== QUARANTINE_NAME && (!e.isDirectory() || holdsAnyFile(childOf(dir, e.name))));
}
