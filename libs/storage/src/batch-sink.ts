import type { S3Client } from '@aws-sdk/client-s3';
import type { FaultHook, FileOps, TargetView } from '@filer/engine';
import type { NamingIo } from './batch/name-files.js';

/** What exists at an S3 destination, as its listing found it: keys as `s3://` URIs, compared byte for byte (S3 keys are case-sensitive). */
export interface KeyListing {
  has(key: string): boolean;
  /** A key this job wrote: the listing, taken before, has it now. */
  add(key: string): void;
}

/** Where a plan kept on disk keeps a destination's listing (storage's PlanStore). */
export interface ListingStore {
  /** Adds a page of the listing. */
  addListed(keys: readonly string[]): void;
  readonly listed: KeyListing;
}

/**
 * Where a rename, copy or move is planned and carried out: the write-side twin of a WalkSource.
 * The planner (a plan store's: TransferFeed, RenameFeed) reads what exists at the targets, the file
 * operations act on sources and targets, naming reads the files a rename names.
 */
export interface BatchSink {
  /**
   * For the plan, kept on disk: lists what exists at the S3 targets into `store`, a page at a time,
   * and has the apply's file operations read it there; returns the planner's view of it.
   * Undefined when no target is on S3 (the planner reads the disk).
   */
  listTargets?(store: ListingStore): Promise<TargetView | undefined>;
  /** The file operations for the apply (or undo); `copyFault` is the crash tests' mid-copy hook. */
  ops(copyFault?: FaultHook): FileOps;
  /** How strong the destination's no-overwrite guard is, said in the plan (S3: whether the bucket honours If-None-Match). */
  noClobber?(apply: boolean): Promise<string | undefined>;
  naming: NamingIo;
  /** Releases the S3 client when the sink made it. */
  close(): void;
}

export interface OpenSinkOptions {
  /** Local file operations through the native addon when it is built (default true); false forces node:fs. */
  native?: boolean;
  /** A HEAD before each no-overwrite put on buckets that ignore If-None-Match (FILER_S3_HEAD_GUARD). */
  headGuard?: boolean;
  /**
   * The S3 client to use (a worker's shared one, which the sink then never closes), asked for only
   * when the sink is the S3 one; made from FILER_S3_* when absent.
   */
  s3Client?: () => Promise<S3Client>;
}
