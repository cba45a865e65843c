import type { DupeGroup } from './dupe-types.js';

// Duplicate directories, from the file groups a dupes run already has: no file is read again.
// A directory's content is its files' relative names and contents (by group hash), recursively;
// directories holding no file at any depth are ignored, as czkawka and rmlint -D do.

/** A file under a candidate directory that is in no group: empty (equal to any empty file) or unique. */
export interface DirOtherEntry {
  path: string;
  size: number;
  /** 'empty': a zero-byte file; 'unique': anything else no group holds (a unique file, a symlink, a non-empty folder without duplicates). */
  content: 'empty' | 'unique';
}

/** Directories with equal content: same relative names, same bytes, at every depth. */
export interface EqualDirGroup {
  /** Bytes of one of the directories (what removing all but one would free). */
  bytes: number;
  files: number;
  dirs: string[];
}

/** A directory every file of which has a copy outside it. */
export interface DuplicatedDir {
  dir: string;
  bytes: number;
  files: number;
}

export interface DupeDirsReport {
  equal: EqualDirGroup[];
  duplicated: DuplicatedDir[];
}

interface DirInfo {
  parent: string | undefined;
  /** Child name → content id (files: 'f' + key; dirs: 'd' + id) once known. */
  entries: [string, string][];
  unique: boolean;
  files: number;
  bytes: number;
  /** Files under it with a copy outside it. */
  covered: number;
  id?: number;
  /** In a set of two or more equal directories (reported there, not again as all duplicated). */
  equalToAnother?: boolean;
}

const trimSlash = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);

/**
 * Finds equal directories and directories whose files are all duplicated elsewhere. `groups` are
 * the run's duplicate groups, `others` every other file (or opaque entry) in a directory holding a
 * grouped file or below one. Only the outermost directories are reported: a pair inside an equal
 * pair, or a directory inside an all-duplicated one, is implied by it and left out.
 */
export function findDupeDirs(roots: readonly string[], groups: readonly DupeGroup[], others: readonly DirOtherEntry[]): DupeDirsReport {
  // The outermost root holding a path: a root inside another is one of its directories.
  const tops = roots.map(trimSlash).sort((a, b) => a.length - b.length);
  const dirs = new Map<string, DirInfo>();
  const topOf = (p: string): string | undefined => tops.find((t) => p === t || p.startsWith(t === '/' ? '/' : t + '/'));
  /** The directory holding `p` (created with its ancestors up to its root), or undefined above every root. */
  const dirOf = (p: string): DirInfo | undefined => {
    const top = topOf(p);
    if (top === undefined || p === top) return undefined;
    const d = p.slice(0, Math.max(1, p.lastIndexOf('/')));
    return ensure(d, top);
  };
  const ensure = (d: string, top: string): DirInfo => {
    let info = dirs.get(d);
    if (info !== undefined) return info;
    const parent = d === top ? undefined : d.slice(0, Math.max(1, d.lastIndexOf('/')));
    info = { parent, entries: [], unique: false, files: 0, bytes: 0, covered: 0 };
    dirs.set(d, info);
    if (parent !== undefined) ensure(parent, top);
    return info;
  };
  const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const addFile = (p: string, size: number, key: string | undefined): void => {
    const d = dirOf(p);
    if (d === undefined) return;
    if (key === undefined) d.unique = true;
    else d.entries.push([baseName(p), 'f' + key]);
    for (let a: DirInfo | undefined = d; a !== undefined; a = a.parent === undefined ? undefined : dirs.get(a.parent)) {
      a.files++;
      a.bytes += size;
      // An empty file equals every other: it never keeps a directory from being all duplicated.
      if (key === 'empty') a.covered++;
    }
  };
  for (const g of groups) {
    const key = `${g.size}:${g.hash}`;
    for (const p of g.paths) addFile(p, g.size, key);
    countCovered(g.paths, dirs, dirOf);
  }
  for (const o of others) addFile(o.path, o.size, o.content === 'empty' ? 'empty' : undefined);
  const equal = equalGroups(dirs);
  return { equal, duplicated: duplicatedDirs(dirs) };
}

/** For one group: each directory holding some but not all of its files has that many files copied elsewhere. */
function countCovered(paths: readonly string[], dirs: Map<string, DirInfo>, dirOf: (p: string) => DirInfo | undefined): void {
  const under = new Map<DirInfo, number>();
  for (const p of paths)
    for (let a = dirOf(p); a !== undefined; a = a.parent === undefined ? undefined : dirs.get(a.parent))
      under.set(a, (under.get(a) ?? 0) + 1);
  for (const [d, n] of under) if (n < paths.length) d.covered += n;
}

/** Content ids bottom-up (deepest first), interned: equal ids mean equal trees, exactly, with no hash to collide. */
function assignIds(dirs: Map<string, DirInfo>): void {
  const interned = new Map<string, number>();
  const byDepth = [...dirs.entries()].sort((a, b) => depth(b[0]) - depth(a[0]));
  for (const [d, info] of byDepth) {
    const parent = info.parent === undefined ? undefined : dirs.get(info.parent);
    if (info.unique) {
      if (parent !== undefined) parent.unique = true;
      continue;
    }
    if (info.files === 0) continue; // holds no file at any depth: ignored
    info.entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const text = info.entries.map(([n, c]) => `${n}\0${c}`).join('\n');
    let id = interned.get(text);
    if (id === undefined) interned.set(text, (id = interned.size));
    info.id = id;
    parent?.entries.push([d.slice(d.lastIndexOf('/') + 1), 'd' + id]);
  }
}

const depth = (p: string): number => p.split('/').length;
const byBytes = (a: { bytes: number; files: number }, b: { bytes: number; files: number }): number =>
  b.bytes - a.bytes || b.files - a.files;

function equalGroups(dirs: Map<string, DirInfo>): EqualDirGroup[] {
  assignIds(dirs);
  const byId = new Map<number, string[]>();
  for (const [d, info] of dirs) {
    if (info.id === undefined) continue;
    const members = byId.get(info.id);
    if (members === undefined) byId.set(info.id, [d]);
    else members.push(d);
  }
  for (const members of byId.values()) if (members.length > 1) for (const d of members) dirs.get(d)!.equalToAnother = true;
  const inPair = (d: string | undefined): boolean => (d === undefined ? false : dirs.get(d)?.equalToAnother === true);
  const out: EqualDirGroup[] = [];
  for (const members of byId.values()) {
    if (members.length < 2) continue;
    // Nested: every member's parent is itself one of an equal set, so the outer report implies it.
    if (members.every((d) => inPair(dirs.get(d)?.parent))) continue;
    const info = dirs.get(members[0])!;
    out.push({ bytes: info.bytes, files: info.files, dirs: members.sort() });
  }
  return out.sort((a, b) => byBytes(a, b) || (a.dirs[0] < b.dirs[0] ? -1 : 1));
}

function duplicatedDirs(dirs: Map<string, DirInfo>): DuplicatedDir[] {
  const all = (info: DirInfo | undefined): boolean => info !== undefined && info.files > 0 && info.covered === info.files;
  const out: DuplicatedDir[] = [];
  for (const [d, info] of dirs) {
    if (!all(info) || info.equalToAnother === true || all(info.parent === undefined ? undefined : dirs.get(info.parent))) continue;
    out.push({ dir: d, bytes: info.bytes, files: info.files });
  }
  return out.sort((a, b) => byBytes(a, b) || (a.dir < b.dir ? -1 : 1));
}
