import type { PathError } from '@filer/core';

/** A file as the duplicate finder sees it: content identity is checked against these values. */
export interface DupeFile {
  path: string;
  size: number;
  dev: number;
  ino: number;
  /** Modification time, exact: seconds and nanoseconds. */
  mtimeSec: number;
  mtimeNsec: number;
  /** An S3 object's ETag from its listing: with bucket, key, size and LastModified, what a shared hash index keys it by. */
  etag?: string;
  /**
   * What the hash cache holds for exactly this identity, when the source already asked it (a native
   * scan matches the cache as it lists each directory): null means it holds nothing; absent means
   * not asked yet, so the pipeline looks the file up.
   */
  cached?: CachedHashes | null;
}

/** Which bytes a hash covers: a sample (head and tail) or the whole file. */
export type HashScope = 'sample' | 'full';

export type HashAlgorithm = 'xxh128' | 'sha256';

/** One file's hash, or why it could not be hashed. `whole` means the hash covers every byte. */
export type HashOutcome = { hash: string; whole: boolean } | { error: PathError };

/** The port that reads and hashes files (a thread pool for local files). */
export interface FileHasher {
  readonly algorithm: HashAlgorithm;
  hash(files: readonly DupeFile[], scope: HashScope): Promise<HashOutcome[]>;
  /** Bytes read from files so far. */
  readonly bytesRead: number;
}

/** Hashes remembered from an earlier run; only returned while the file is unchanged. */
export interface CachedHashes {
  sample?: string;
  full?: string;
}

/** The port of the hash cache (SQLite for the CLI). */
export interface HashCache {
  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[];
  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void;
  /** Writes what `store` may still hold in memory; called once a run is done. */
  flush?(): void;
}

/** A set of files with identical content. */
export interface DupeGroup {
  size: number;
  hash: string;
  paths: string[];
  /** size × (copies − 1): what deleting all but one copy would free. */
  wasted: number;
}

export type DupePhase = 'scan' | 'size' | 'sample' | 'full' | 'done';

export interface DupeStats {
  files: number;
  /** Extra names of an inode already counted: hard links are one file, never a duplicate of itself. */
  hardLinks: number;
  emptySkipped: number;
  candidates: number;
  sampled: number;
  fullyHashed: number;
  cacheHits: number;
  bytesRead: number;
  groups: number;
  duplicateFiles: number;
  wastedBytes: number;
  errors: number;
}
