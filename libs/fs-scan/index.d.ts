/** The native scanner, or null when it was not built. */
declare const addon: {
  /** Names joined by NUL, and a kind per name: 0 unknown, 1 file, 2 dir, 3 symlink, 4 other. */
  listDir(path: string): [string, Uint8Array];
  /** count × [kind, size, mtimeMs, dev, ino, mtimeSec, mtimeNsec]; kind is −errno for a failed entry. */
  statNames(dir: string, namesJoinedByNul: string, count: number, follow: boolean): Float64Array;
} | null;
export = addon;
