import * as path from 'node:path';

/** The hash cache's key of a directory as a path names it: absolute, normalised, ending in '/'. */
export function cacheKeyOfDirectory(dir: string): string {
  const abs = path.resolve(dir === '' ? '/' : dir);
  return abs === '/' ? '/' : abs + '/';
}

/**
 * Cache rows handed to a native scan, which matches each file in its directory's row as it lists
 * it: the directories' keys joined by NUL, each row's bytes, and when each was last seen.
 */
export interface CacheRows {
  keys: string;
  rows: Buffer[];
  lastSeen: number[];
}
