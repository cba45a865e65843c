import { compileFilter, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { rootTask, type DirTask } from './dir-task.js';
import { DirWalker, type SyncSource } from './walk-dirs.js';
import { emptyWalkStats, type WalkStats } from './walk-stats.js';

export interface WalkResult {
  entries: FileEntry[];
  errors: PathError[];
  stats: WalkStats;
}

/** Seeds a root's task; under --follow the root's own id starts the ancestor chain. */
export function seedTask(source: SyncSource, root: string, follow: boolean): DirTask {
  const task = rootTask(root);
  if (follow) {
    const st = source.statMany(task.path, ['.'], true)[0];
    if (!('error' in st)) task.ancestors = [`${st.dev}:${st.ino}`];
  }
  return task;
}

/**
 * Walks roots on the calling thread and collects everything: for tests and small trees.
 * Large trees go through a parallel walker that streams instead.
 */
export function walkTreeSync(source: SyncSource, roots: readonly string[], spec: FilterSpec, statAll = false): WalkResult {
  const entries: FileEntry[] = [];
  const errors: PathError[] = [];
  const stats = emptyWalkStats();
  const walker = new DirWalker(
    source,
    { filter: compileFilter(spec), statAll },
    { entry: (e) => entries.push(e), error: (e) => errors.push(e) },
    stats,
  );
  for (const root of roots) walker.run([seedTask(source, root, spec.follow)]);
  return { entries, errors, stats };
}
