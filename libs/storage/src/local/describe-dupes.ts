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
 * goes). `given` are the roots as the walk was given them (its paths start with one), `real` the
 * same roots resolved: a path is resolved by swapping its root's prefix (the walk followed no link
 * below it), or by realpath when it starts with none.
 */
export function describeDupeGroups(groups: readonly DupeGroup[], given: readonly string[], real: readonly string[]): DedupeGroupInput[] {
  return [...eachDescribedGroup(groups, given, real)];
}

/**
 * describeDupeGroups one group at a time, as they are read: a streamed plan holds one described
 * group at once. Each file is lstat'ed here (one call each): the finder's groups carry paths only,
 * and the planner needs the link count, owner and mode besides the identity, which the scan does
 * not return.
 */
export function* eachDescribedGroup(
  groups: Iterable<DupeGroup>,
  given: readonly string[],
  real: readonly string[],
): Generator<DedupeGroupInput> {
  const prefixes = given.map((g, i) => ({ from: g.replace(/\/+$/, '') + '/', to: real[i].replace(/\/+$/, '') + '/' }));
  prefixes.sort((a, b) => b.from.length - a.from.length);
  const resolve = (p: string): string | undefined => {
    const hit = prefixes.find((x) => p.startsWith(x.from));
    if (hit !== undefined) return hit.to + p.slice(hit.from.length);
    try {
      return fs.realpathSync.native(p);
    } catch {
      return undefined;
    }
  };
  // rootIndexOf with each root's prefix made once: it runs for every file.
  const realDirs = real.map((r) => (r.endsWith('/') ? r : r + '/'));
  const under = (p: string): number => {
    let best = -1;
    for (let i = 0; i < realDirs.length; i++) if (p.startsWith(realDirs[i]) && (best < 0 || real[i].length > real[best].length)) best = i;
    return best;
  };
  for (const g of groups) {
    const files: DedupeCandidate[] = [];
    for (const p of g.paths) {
      const abs = resolve(p);
      if (abs === undefined) continue;
      const root = under(abs);
      if (root < 0) continue;
      const st = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (st === undefined || !st.isFile()) continue;
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
    if (files.length > 1) yield { size: g.size, hash: g.hash, files };
  }
}
