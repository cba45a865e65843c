import { DEDUPE_ACTIONS, type DedupeAction } from '@filer/core';
import type { FileIdentity } from '../batch/file-identity.js';

/** What `filer dupes --action` does to each copy that is not kept (the job vocabulary's list: the API takes the same). */
export const DEDUPE_OPS = DEDUPE_ACTIONS;
export type DedupeOp = DedupeAction;

/** One file of a duplicate group as the dedupe planner sees it: its identity, owner and mode, and the root it was found under. */
export interface DedupeCandidate extends FileIdentity {
  path: string;
  /** Index into the roots as given (first-root, --reference, --isolate read it). */
  root: number;
  nlink: number;
  uid: number;
  gid: number;
  /** The permission bits (mode & 0o7777). */
  mode: number;
}

/** A group of identical files, each described (storage stats the report's paths). */
export interface DedupeGroupInput {
  size: number;
  hash: string;
  files: DedupeCandidate[];
}

/** What happens to one copy. */
export interface DedupeCopyPlan {
  copy: DedupeCandidate;
  op: DedupeOp;
  /** Where the copy's inode goes: its quarantine path (hardlink, symlink, remove), the --move-to path, or '' (reflink). */
  target: string;
  /** For symlink: the relative link text that will stand at the copy's path. */
  linkText?: string;
  /** Bytes this action frees: the size, or 0 where another name outside the scan keeps the copy's inode (nlink > 1). */
  freed: number;
}

export interface DedupeGroupPlan {
  size: number;
  hash: string;
  kept: DedupeCandidate;
  copies: DedupeCopyPlan[];
  /** Files of the group left alone: other reference files, and (with --isolate) copies in the kept file's root. */
  untouched: DedupeCandidate[];
}

export interface DedupeSummary {
  groups: number;
  /** Copies acted on. */
  files: number;
  /** Bytes the actions free. */
  bytes: number;
}

/**
 * One journaled dedupe step (JournalAction.dedupe): the kept file as planned, the op, and for a
 * symlink the link text. The action's source is the copy, its target where the copy's inode goes.
 */
export interface DedupeStep {
  op: DedupeOp;
  kept: string;
  keptId: FileIdentity;
  linkText?: string;
}
