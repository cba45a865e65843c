import * as fs from 'node:fs';
import type { DedupeCandidate, DedupeGroupInput, DupeGroup } from '@filer/engine';

/** The root (index into `roots`, absolute and resolved) a path was found under: the longest that holds it. */
export function rootIndexOf(roots: readonly string[], p: string): number {
  let best = -1;
  for (let i = 0; i < roots.length; i++) {
    const r = roots[i].endsWith('/') ? roots[i] : roots[i] + '/';
    if (p.startsWith(r) && (best < 0 || roots[i].length > roots[best].length)) best = i;
  }
  return best;
}

/**
 * Each group's files with what the dedupe planner needs: identity, links, owner, mode, root. A file
 * gone or no longer a regular file since it was hashed is left out (a group left with one file
 * goes). Paths are resolved first, so a root given through a symlink still holds its files.
 */
export function describeDupeGroups(groups: readonly DupeGroup[], roots: readonly string[]): DedupeGroupInput[] {
  const out: DedupeGroupInput[] = [];
  for (const g of groups) {
    const files: DedupeCandidate[] = [];
    for (const p of g.paths) {
      let abs: string;
      try {
        abs = fs.realpathSync.native(p);
      } catch {
        continue;
      }
      const st = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      const root = rootIndexOf(roots, abs);
      if (st === undefined || !st.isFile() || root < 0) continue;
      files.push({
        path: abs,
        root,
        dev: Number(st.dev),
        ino: Number(st.ino),
        size: Number(st.size),
        mtimeNs: st.mtimeNs.toString(),
        nlink: Number(st.nlink),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mode: Number(st.mode) & 0o7777,
      });
    }
    if (files.length > 1) out.push({ size: g.size, hash: g.hash, files });
  }
  return out;
}
