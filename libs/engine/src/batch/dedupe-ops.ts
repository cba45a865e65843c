import type { MaybePromise } from '@filer/core';
import type { FileOps } from './batch-types.js';
import type { FileIdentity } from './file-identity.js';

/** Owner, group and permission bits of a file (a hard link shares them, so they must be equal). */
export interface FilePerms {
  uid: number;
  gid: number;
  mode: number;
}

/**
 * What a dedupe job needs beyond a move's file operations: owner and mode, an atomic replacement
 * of a name by a link, a link's text, and the kernel's compare-and-share (reflink). Local only.
 */
export interface DedupeFileOps extends FileOps {
  /** Owner, group and mode of `path` (not following a link); undefined when absent. */
  perms(path: string): MaybePromise<FilePerms | undefined>;
  /**
   * Makes `path` name something else atomically: a hard link of `what.link` (or a symlink with the
   * text `what.symlink`) is made at a temporary name beside `path` (tagged `tmpTag`, so
   * removeTemps(path, tmpTag) finds a leftover), then renamed over `path`.
   */
  placeOver(path: string, what: { link: string } | { symlink: string }, tmpTag: string): MaybePromise<void>;
  /** The text of the symlink at `path`; undefined when it is not a symlink. */
  readLink(path: string): MaybePromise<string | undefined>;
  /**
   * Shares `copy`'s extents with `kept`'s (FIDEDUPERANGE: the kernel compares the bytes first).
   * Throws a FilerError E_UNSUPPORTED where the file system cannot, E_CHANGED where bytes differ.
   */
  reflinkDedupe(kept: string, copy: string): Promise<{ deduped: number }>;
  /**
   * Gives `copy` extents of its own again (a reflink's undo): a plain, durable copy of its bytes,
   * owner, mode and mtime at a temporary name beside it (tagged `tmpTag`), renamed over it only
   * while `copy` is still `expect`; E_CHANGED otherwise, E_UNSUPPORTED without the native addon.
   * 'linked' (nothing done) where `copy` has other hard links: a new inode would split them.
   */
  unshare(copy: string, expect: FileIdentity, tmpTag: string): Promise<'unshared' | 'linked'>;
  /**
   * Called between two actions, when nothing the operations handed out is in use: lets go of what
   * they hold beyond a fixed bound (directory descriptors, least recently used first), so a batch
   * of any size holds a fixed number.
   */
  trimDirs?(): MaybePromise<void>;
}
