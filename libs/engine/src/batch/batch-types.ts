import type { OnConflict } from './plan-moves.js';

export type BatchKind = 'rename' | 'copy' | 'move';
export type JobState = 'planned' | 'applying' | 'completed' | 'failed' | 'undoing' | 'undone';
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
  /** The target's identity once done, so undo removes only what this job made. */
  targetIno?: number;
  targetMtimeMs?: number;
}

export interface JobRecord {
  id: string;
  kind: BatchKind;
  state: JobState;
  createdAt: number;
  updatedAt: number;
  options: { onConflict: OnConflict; verify: boolean };
  /** Directories the job created, so undo can remove them again when empty. */
  createdDirs: string[];
  counts: Record<ActionState, number>;
}

/** The write-ahead journal: the plan is durable before the first file is touched. */
export interface Journal {
  create(kind: BatchKind, actions: Omit<JournalAction, 'seq' | 'state'>[], options: JobRecord['options']): JobRecord;
  get(id: string): JobRecord | undefined;
  list(limit: number): JobRecord[];
  actions(id: string): JournalAction[];
  setJobState(id: string, state: JobState): void;
  /** Records outcomes; may batch them (the disk, not the journal, is the truth on resume). */
  record(id: string, updates: Pick<JournalAction, 'seq' | 'state' | 'reason' | 'targetIno' | 'targetMtimeMs'>[]): void;
  addCreatedDirs(id: string, dirs: string[]): void;
}

/** What a file system must offer to apply a plan safely (no call ever replaces a file unless told to). */
export interface FileOps {
  /** lstat-like: undefined when absent. */
  stat(path: string): { ino: number; dev: number; size: number; mtimeMs: number } | undefined;
  /** Creates missing parent directories of `path`, returning the ones it created (shallowest first). */
  ensureParent(path: string): string[];
  /** Relocates a file without replacing an existing target (link + unlink, or a verified copy across devices). */
  move(source: string, target: string, opts: { overwrite: boolean; verify: boolean; tmpTag: string }): void;
  /** Copies a file to a temporary name, fsyncs and verifies it, then links it into place without replacing. */
  copy(source: string, target: string, opts: { overwrite: boolean; verify: boolean; tmpTag: string }): void;
  /** True when both paths hold the same bytes. */
  sameContent(a: string, b: string): boolean;
  unlink(path: string): void;
  /** Removes a directory if it is empty; false otherwise. */
  removeEmptyDir(path: string): boolean;
  /** Leftover temporary files of an interrupted copy toward `target`. */
  removeTemps(target: string, tmpTag: string): void;
  /** Free bytes where `path` would be written. */
  freeBytes(path: string): number;
}
