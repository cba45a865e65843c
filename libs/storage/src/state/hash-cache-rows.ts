import type { CachedHashes, DupeFile } from '@filer/engine';
import { cacheKeyOfDirectory } from './cache-key.js';

// The hash cache's row format (one row per directory, see entryText) and the pure work on rows:
// finding a file's entry, merging new entries into a row, grouping paths by directory.

/** NUL ends every field of an entry: no file name and no hex digest contains one. */
export const NUL = '\0';

/**
 * A directory's entries, each five NUL-terminated fields:
 *
 *     name \0 size,mtime_sec,mtime_nsec,ino,dev \0 stored_at \0 sample \0 full \0
 *
 * (`full` empty when only the sample is known). One row per directory, read in one statement and
 * matched against the walk in place, is what makes a warm run's lookup of every file of a large tree
 * cheap: a few thousand rows instead of one B-tree search by long absolute path per file.
 */
export function entryText(name: string, f: DupeFile, storedAt: number, sample: string, full: string | undefined): string {
  return `${name}\0${identityText(f)}${storedAt}\0${sample}\0${full ?? ''}\0`;
}

/** Where field `k` (0–5; 5 is the next entry) of the entry starting at `at` starts. */
export function fieldAt(row: string, at: number, k: number): number {
  for (let j = 0; j < k; j++) at = row.indexOf(NUL, at) + 1;
  return at;
}

/** Where the entry starting at `at` ends (just past its last NUL). */
const entryEnd = (row: string, at: number): number => fieldAt(row, at, 5);

/** Calls `fn` with each entry of a row, in order: its name, where it starts and where it ends. */
export function forEachEntry(row: string, fn: (name: string, at: number, end: number) => void): void {
  for (let at = 0; at < row.length;) {
    const end = entryEnd(row, at);
    fn(row.slice(at, row.indexOf(NUL, at)), at, end);
    at = end;
  }
}

/** A file's identity field as entries hold it: size, mtime (s, ns), inode and device, then its NUL. */
function identityText(f: DupeFile): string {
  return `${f.size},${f.mtimeSec},${f.mtimeNsec},${f.ino},${f.dev}\0`;
}

/**
 * Where the entry's identity field, starting at `at`, ends (just past its NUL) when it is exactly the
 * file's size, mtime (s, ns), inode and device; -1 otherwise. The text is compared whole: a field
 * written any other way (a fraction, a sign) is a miss, never a stale hit.
 */
function identityEnd(row: string, at: number, id: string): number {
  return row.startsWith(id, at) ? at + id.length : -1;
}

/** Cache keys: the absolute directory (ending in '/', resolved once per directory) and the base name. */
export interface DirGroup {
  dir: string;
  /** Positions in the caller's list, in its order. */
  indices: number[];
  names: string[];
}

/** The keys at or below a directory's key: from it, up to (not including) it with its final '/' (0x2f) raised to '0' (0x30). */
export function keyRange(prefix: string): [string, string] {
  return [prefix, prefix.slice(0, -1) + '0'];
}

export function groupByDirectory(paths: readonly string[]): DirGroup[] {
  const byKey = new Map<string, DirGroup>();
  const resolved = new Map<string, DirGroup>();
  let lastDir: string | undefined;
  let last: DirGroup | undefined;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '.' : p.slice(0, slash);
    // Walk order keeps a directory's files together: most files reuse the previous group.
    let g = dir === lastDir ? last : resolved.get(dir);
    if (g === undefined) {
      const key = cacheKeyOfDirectory(dir);
      g = byKey.get(key);
      if (g === undefined) byKey.set(key, (g = { dir: key, indices: [], names: [] }));
      resolved.set(dir, g);
    }
    lastDir = dir;
    last = g;
    g.indices.push(i);
    g.names.push(p.slice(slash + 1));
  }
  return [...byKey.values()];
}

/** Start of each entry by name (its first entry), and the names that have more than one entry. */
export interface EntryIndex {
  first: Map<string, number>;
  repeated: Set<string> | undefined;
}

export function indexEntries(row: string): EntryIndex {
  const first = new Map<string, number>();
  let repeated: Set<string> | undefined;
  forEachEntry(row, (name, at) => {
    if (!first.has(name)) first.set(name, at);
    else (repeated ??= new Set()).add(name);
  });
  return { first, repeated };
}

/**
 * The entry for `f` (named `name`) whose identity matches, as [entry start, end of its identity
 * field], or undefined. Tries `cursor` first: entries written in walk order line up with the walk.
 */
export function findEntry(row: string, name: string, f: DupeFile, cursor: number, index: () => EntryIndex): [number, number] | undefined {
  const id = identityText(f);
  if (cursor < row.length && row.charCodeAt(cursor + name.length) === 0 && row.startsWith(name, cursor)) {
    const idEnd = identityEnd(row, cursor + name.length + 1, id);
    if (idEnd >= 0) return [cursor, idEnd];
  }
  const { first, repeated } = index();
  const at = first.get(name);
  if (at === undefined) return undefined;
  if (repeated?.has(name)) {
    // A name written more than once (two processes hashing one file at once): any entry with the file's identity.
    for (let i = at; i < row.length; i = entryEnd(row, i)) {
      if (row.charCodeAt(i + name.length) !== 0 || !row.startsWith(name, i)) continue;
      const idEnd = identityEnd(row, i + name.length + 1, id);
      if (idEnd >= 0) return [i, idEnd];
    }
    return undefined;
  }
  const idEnd = at === cursor ? -1 : identityEnd(row, at + name.length + 1, id);
  return idEnd >= 0 ? [at, idEnd] : undefined;
}

/**
 * Matches the files of one directory group (`files[g.indices[k]]`, named `g.names[k]`) against the
 * directory's row, filling `out` at their positions; whether any file was served from the row.
 */
export function matchRow(row: string, g: DirGroup, files: readonly DupeFile[], out: (CachedHashes | undefined)[]): boolean {
  let hit = false;
  let index: EntryIndex | undefined;
  const getIndex = (): EntryIndex => (index ??= indexEntries(row));
  // Entries written in walk order line up with the walk: the next file's entry is usually the next one.
  let cursor = 0;
  for (let k = 0; k < g.names.length; k++) {
    const i = g.indices[k];
    const found = findEntry(row, g.names[k], files[i], cursor, getIndex);
    if (found === undefined) continue;
    const sampleAt = row.indexOf(NUL, found[1]) + 1;
    const fullAt = row.indexOf(NUL, sampleAt) + 1;
    const end = row.indexOf(NUL, fullAt);
    out[i] = { sample: row.slice(sampleAt, fullAt - 1), full: end === fullAt ? undefined : row.slice(fullAt, end) };
    cursor = end + 1;
    hit = true;
  }
  return hit;
}

/**
 * A row's text with `entries` (each file's at most once) merged into `old` (undefined: no row yet),
 * and how many entries it holds. Old entries stay unless `entries` replaces them or they were hashed
 * before `cutoff`; a name written twice keeps its last entry.
 */
export function mergeRow(old: string | undefined, entries: string, cutoff: number): { text: string; count: number } {
  const fresh = new Map<string, string>();
  forEachEntry(entries, (name, at, end) => fresh.set(name, entries.slice(at, end)));
  const keptOld = new Map<string, string>();
  if (old !== undefined) {
    forEachEntry(old, (name, at, end) => {
      const storedAt = fieldAt(old, at, 2);
      if (!fresh.has(name) && Number(old.slice(storedAt, old.indexOf(NUL, storedAt))) >= cutoff) keptOld.set(name, old.slice(at, end));
    });
  }
  let text = '';
  for (const e of keptOld.values()) text += e;
  for (const e of fresh.values()) text += e;
  return { text, count: keptOld.size + fresh.size };
}
