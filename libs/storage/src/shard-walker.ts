import type { FilterSpec } from '@filer/core';
import type { DirTask, WalkSink, WalkStats } from '@filer/engine';
import type { AllowedS3 } from './s3/allowed-s3.js';

/** What a cluster scan shard's walk is asked for: its filter, the record fields, and the allow-lists a root is checked against again. */
export interface ShardWalkOptions {
  spec: FilterSpec;
  statAll: boolean;
  identity: boolean;
  /** Listings kept in flight where a listing is a round trip (S3; FILER_S3_LISTINGS); a local walk ignores it. */
  listings?: number;
  /** The workers' allowed local roots (FILER_ALLOWED_ROOTS). */
  allowedRoots: readonly string[];
  /** The workers' allowed buckets and prefixes (FILER_ALLOWED_S3). */
  allowedS3: readonly AllowedS3[];
}

/**
 * A budgeted slice of a walk over a caller-owned stack of `DirTask`s — what one cluster scan shard
 * runs. The local adapter walks directories with the engine's DirWalker, the S3 one prefixes with
 * its paged walk; the shard (libs/jobs/src/scan-shard.ts) never asks which. A directory (prefix)
 * is never split: the walk stops between them, so what is left on the stack is whole tasks for
 * other shards.
 */
export interface ShardWalker {
  /**
   * Whether a re-run of the same shard may reach different tasks before its budget runs out (paged
   * listings arrive in any order): the shard must then record its split and follow the record when
   * it runs again. A local walk is deterministic.
   */
  readonly splitVaries: boolean;
  /**
   * The first task of a root, checked again where it is opened (a local root resolved and found
   * inside the allowed roots, so a symlink swapped since the API admitted it cannot lead out; an
   * S3 root inside the allowed buckets, its bucket there). Throws a FilerError.
   */
  seed(root: string): Promise<DirTask>;
  /**
   * Walks from `stack` until it is empty or `shouldStop` says stop, delivering to the sink and
   * counting in the stats given when it was made; hands the event loop back regularly (a worker's
   * lock must be renewed). `skip`: directories (prefixes) not to list, a re-run's recorded
   * children, taken back out of `stats.dirs` — only where `splitVaries`.
   */
  walk(stack: DirTask[], shouldStop: () => boolean, skip?: ReadonlySet<string>): Promise<void>;
}

/** Makes a source's shard walker: the sink and stats it reports to are the shard's. */
export type OpenShardWalker = (opts: ShardWalkOptions, sink: WalkSink, stats: WalkStats) => ShardWalker;
