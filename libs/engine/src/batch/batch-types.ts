import type { MaybePromise, PathError } from '@filer/core';
import type { FileIdentity, FileStat } from './file-identity.js';
import type { OnConflict } from './plan-moves.js';
import type { DedupeStep } from '../dupes/dedupe-types.js';

/** `dedupe`: `filer dupes --action …` (each action's `dedupe` says what it does to its copy). */
export type BatchKind = 'rename' | 'copy' | 'move' | 'dedupe';
/** `purged`: a dedupe job whose quarantine `filer jobs purge` emptied (it can no longer be undone). */
export type JobState = 'planned' | 'applying' | 'completed' | 'failed' | 'undoing' | 'undone' | 'purged';
export type ActionState = 'pending' | 'done' | 'failed' | 'skipped' | 'undone';

/** One journaled step: a file relocated (rename, move) or duplicated (copy). */
export interface JournalAction {
  seq: number;
  source: string;
  target: string;
  size: number;
  overwrite: boolean;
  state: ActionState;
  reason?: string;
  /** The source as planned: acting on a source with another identity fails the action (E_CHANGED). */
  sourceId?: FileIdentity;
  /**
   * What this job put at the target, recorded as soon as it is there (before a moved source is
   * removed): resume and undo touch only a file with this identity.
   */
  targetId?: FileIdentity;
  /** Dedupe jobs only: the op, the kept file as planned (and a symlink's text); the source is the copy, the target where its inode goes. */
  dedupe?: DedupeStep;
}

/**
 * The journal's format. 2: absolute paths with resolved parents, source identities from the plan,
 * target identities once done. Journals of format 1 held renames' paths relative to the directory
 * filer ran in, and no identities: they are refused for resume and undo (see assertJournalFormat).
 */
export const JOURNAL_FORMAT = 2;

export interface JobRecord {
  id: string;
  kind: BatchKind;
  state: JobState;
  createdAt: number;
  updatedAt: number;
  /**
   * `fsync: false` (copy only) leaves a copy's data to the kernel's writeback, as cp and rsync do:
   * a crash of the process loses nothing, a power cut may leave finished copies short (their
   * sources are untouched). Absent means true: every copy is durable before its name appears.
   */
  options: { onConflict: OnConflict; verify: boolean; fsync?: boolean; ignorePerms?: boolean };
  /** JOURNAL_FORMAT when the job was journaled. */
  format: number;
  /** Why the job stopped or failed as a whole (a full disk, say); per-file reasons are on the actions. */
  reason?: string;
  /** Directories the job created, so undo can remove them again when empty. */
  createdDirs: string[];
  /**
   * Paths found while planning that could not be planned — a directory or file the walk was
   * denied (EACCES), an unsafe key, a symlink move --follow leaves: never acted on, kept with
   * the job so that its record names every path it left out. Absent when there were none.
   */
  pathErrors?: PathError[];
  /** How many paths were left out in all, when more than `pathErrors` holds (the first few; the rest were reported when planned). */
  pathErrorCount?: number;
  counts: Record<ActionState, number>;
}

/** One copy to stage: `expect` is the source's planned identity. */
export interface StageItem {
  source: string;
  target: string;
  overwrite?: boolean;
  expect?: FileIdentity;
}

/** Which page of a journal's actions `Journal.actionPage` reads. */
export interface ActionPageQuery {
  /** Ascending from the first seq above this one (0: from the start). */
  after?: number;
  /** Descending from the first seq below this one (Infinity: from the end); wins over `after`. */
  before?: number;
  states?: readonly ActionState[];
  limit: number;
}

/** The write-ahead journal: the plan is durable before the first file is touched. */
export interface Journal {
  create(
    kind: BatchKind,
    /** Read once, in order (a plan store's rows streamed): never held by the journal. */
    actions: Iterable<Omit<JournalAction, 'seq' | 'state'>>,
    options: JobRecord['options'],
    pathErrors?: readonly PathError[],
    /** How many paths were left out in all, when more than the `pathErrors` kept. */
    pathErrorCount?: number,
    /** The job's id when the caller chose it (newJobId): a dedupe plan names its quarantine after it. */
    id?: string,
  ): JobRecord;
  get(id: string): JobRecord | undefined;
  list(limit: number): JobRecord[];
  actions(id: string): JournalAction[];
  /**
   * One page of a job's actions by seq: those after `after` ascending, or before `before`
   * descending; only those in `states` when given. Apply, resume and undo read a journal so.
   */
  actionPage(id: string, page: ActionPageQuery): JournalAction[];
  /** Sets the job's state and, when given, the reason it stopped (undefined clears an earlier one). */
  setJobState(id: string, state: JobState, reason?: string): void;
  /** Records outcomes; may batch them (the disk, not the journal, is the truth on resume). */
  record(id: string, updates: Pick<JournalAction, 'seq' | 'state' | 'reason' | 'targetId'>[]): void;
  addCreatedDirs(id: string, dirs: string[]): void;
}

/**
 * What a file system must offer to apply a plan safely: no call ever replaces a file unless told
 * to. The batch primitives let a job make a whole batch of copies durable with one flush. Local
 * file systems answer synchronously; object stores (S3) with promises, so the engine awaits each.
 */
export interface FileOps {
  /**
   * lstat-like (a symlink is not followed) unless `follow`: undefined when absent. Only a copy's
   * source is ever followed (`copy -L` copies what a link leads to); targets never are.
   */
  stat(path: string, follow?: boolean): MaybePromise<FileStat | undefined>;
  /**
   * Of the given directories, those that no longer resolve to themselves: a component was
   * replaced by a symlink (or removed) since the plan resolved it. Missing trailing components
   * are fine (the job creates them); their nearest existing ancestor must resolve to itself.
   */
  movedDirs(dirs: readonly string[]): MaybePromise<ReadonlySet<string>>;
  /** The parent directories of `path` that do not exist yet, shallowest first. */
  missingParents(path: string): MaybePromise<string[]>;
  /** Creates missing parent directories of `path`, returning the ones it created (shallowest first). */
  ensureParent(path: string): MaybePromise<string[]>;
  /** Hard-links `source` at `target`, never replacing it (EEXIST); false when they are on different devices. */
  link(source: string, target: string): MaybePromise<boolean>;
  /** Renames `source` over `target` (the overwrite policy); false when they are on different devices. */
  replace(source: string, target: string): MaybePromise<boolean>;
  /**
   * Copies each source to a temporary name beside its target (mtime kept, size checked), several
   * at once; returns each temporary name or the error that stopped it. Not yet durable; with
   * `durable: false` no writeback is started early either (nothing will wait for it). A source
   * whose identity is not `expect` before or after its copy fails with E_CHANGED (no temp left).
   */
  stageMany(items: readonly StageItem[], tmpTag: string, opts?: { durable?: boolean }): Promise<(string | Error)[]>;
  /** Makes staged files' data durable: one syncfs per file system, or an fsync each. */
  flushFiles(paths: readonly string[]): MaybePromise<void>;
  /** Puts a staged file in place: linked (or renamed, with overwrite), after a sha256 comparison with `verify`. */
  commit(tmp: string, source: string, target: string, opts: { overwrite: boolean; verify: boolean }): MaybePromise<void>;
  /** Makes directory entries durable (fsync of each directory once). */
  flushDirs(dirs: readonly string[]): MaybePromise<void>;
  /**
   * Relocates one file durably: link + unlink, or stage, flush, commit, unlink across devices.
   * The source must be `expect` (checked before, and again before it is removed: E_CHANGED).
   */
  move(source: string, target: string, opts: { overwrite: boolean; verify: boolean; tmpTag: string; expect: FileIdentity }): Promise<void>;
  /** True when both paths hold the same bytes (false when either is not a regular file). */
  sameContent(a: string, b: string): MaybePromise<boolean>;
  /**
   * Removes `path` only while it is still `expected` — the same inode (`'inode'`: a hard link of
   * it) or the same version (`'version'`: inode, size and mtime, or an object's ETag) — checked on
   * the open file (a HEAD for an object) right before; otherwise E_CHANGED and nothing is removed.
   */
  unlinkIf(path: string, expected: FileIdentity, match: 'inode' | 'version'): MaybePromise<void>;
  /** Removes a directory if it is empty; false otherwise. */
  removeEmptyDir(path: string): MaybePromise<boolean>;
  /** Leftover temporary files of an interrupted copy toward `target`. */
  removeTemps(target: string, tmpTag: string): MaybePromise<void>;
  /** Free bytes where `path` would be written. */
  freeBytes(path: string): MaybePromise<number>;
  /** Free inodes where `path` would be written; undefined where the file system sets no limit (or has no inodes). */
  freeInodes?(path: string): MaybePromise<number | undefined>;
  /**
   * Whether relocating `source` to `target` needs a copy (another device, or an object store);
   * when absent, the engine compares the devices of the source and the target's nearest directory.
   */
  needsCopy?(source: string, target: string): MaybePromise<boolean>;
  /**
   * Lets go of what the operations held for one batch (directory descriptors, opened once per
   * batch so that a directory swapped for a symlink cannot redirect them): called after each.
   */
  release?(): MaybePromise<void>;
}
