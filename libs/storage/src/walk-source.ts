import type { FileEntry, FilterSpec } from '@filer/core';
import type { DupeFile, FileHasher, HashAlgorithm } from '@filer/engine';
import type { ParallelWalkOptions, WalkHandle } from './local/parallel-walk.js';
import type { OpenShardWalker } from './shard-walker.js';

/** What a walk asks of its source: everything the threaded local walk takes but the scanner choice, made once in openSource. */
export type SourceWalkOptions = Omit<ParallelWalkOptions, 'roots' | 'native'>;

/** A source's content hasher for the duplicate finder, with what the CLI shows and manages. */
export interface SourceHasher extends FileHasher {
  readonly filesHashed: number;
  emptyHash(): string;
  /** Starts hashing threads early, where there are any. */
  start(): void;
  close(): Promise<void>;
}

/** Walked entries as the duplicate finder's files (identity: device and inode, or a number per S3 key). */
export interface DupeFileList {
  readonly files: DupeFile[];
  add(entries: readonly FileEntry[]): void;
}

/**
 * The roots of one command as a walk source. The adapters answer the same calls: the local one
 * with the threaded walk (the native scanner, or node:fs), the S3 one with paged listings. A
 * caller never asks where the roots are; `kind` says which adapter (the native fast paths apply
 * to 'local-native' only) and names things in messages.
 */
export interface WalkSource {
  readonly kind: 'local-native' | 'local-portable' | 's3';
  readonly roots: readonly string[];
  /** Hashes can be cached between runs: files have a device and inode to tie them to (objects do not). */
  readonly cachesHashes: boolean;
  /** What the filters mean here where it differs from a disk, for a note on stderr (empty when nothing applies). */
  notes(spec: FilterSpec): string[];
  walk(opts: SourceWalkOptions): WalkHandle;
  /** A budgeted walk over a stack of tasks for one cluster scan shard (see ShardWalker). */
  shardWalker: OpenShardWalker;
  dupeFiles(): DupeFileList;
  /** Reads contents to hash them; `follow`: paths may be symlinks to the walked files (-L). Loaded on first use. */
  hasher(algorithm: HashAlgorithm, follow: boolean): Promise<SourceHasher>;
  /** Releases connections (S3); the source is not used afterwards. */
  close(): void;
}
