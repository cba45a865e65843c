/**
 * The ignore files of one directory, concatenated. An entry's path relative to the walk root
 * becomes `prefix + rel.slice(strip)` relative to this directory: a directory inside the walk
 * strips its own relative path; one above the root (a repository's top) prepends the way down.
 */
export interface IgnoreSource {
  /** The directory's path: a unique key for caching compiled rules. */
  dir: string;
  text: string;
  strip: number;
  prefix: string;
}

/**
 * A directory waiting to be read. Plain data, so it can cross to another thread or become a
 * shard on a queue: the ignore rules and ancestor ids it inherits travel with it.
 */
export interface DirTask {
  /** The directory's path in the source's syntax, prefixed by the root as the user gave it. */
  path: string;
  /** Path relative to the walk root; '' for the root itself. */
  rel: string;
  /** 0 for a root, 1 for its children… */
  depth: number;
  /** Ignore files in force here, shallowest first. */
  ignores: IgnoreSource[];
  /** `dev:ino` of this directory and its ancestors; only kept with --follow, for loop detection. */
  ancestors: string[];
}

/** Strips trailing slashes the way find prints a root (`dir/` → `dir`, but `/` stays `/`). */
export function normalizeRoot(root: string): string {
  const trimmed = root.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

export function rootTask(root: string): DirTask {
  return { path: normalizeRoot(root), rel: '', depth: 0, ignores: [], ancestors: [] };
}

/** Joins a directory and a child name without doubling the slash after `/`. */
export function childPath(dir: string, name: string): string {
  return dir.charCodeAt(dir.length - 1) === 47 ? dir + name : dir + '/' + name;
}
