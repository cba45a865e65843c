/** What a directory entry is, as far as the walk knows it. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** One result of a walk. `size` and `mtimeMs` are present only when something needed a stat. */
export interface FileEntry {
  path: string;
  kind: EntryKind;
  size?: number;
  mtimeMs?: number;
  /** Identity, present when the walk was asked for it (duplicate finding, caches). */
  dev?: number;
  ino?: number;
  mtimeSec?: number;
  mtimeNsec?: number;
  /** An object's ETag (S3 listings), part of its identity. */
  etag?: string;
}

/** A per-path failure collected during a walk; it never aborts the walk. */
export interface PathError {
  path: string;
  /** The errno code (EACCES, ENOENT, ELOOP, ENAMETOOLONG, EIO, …) or a Filer code. */
  code: string;
  message: string;
}
