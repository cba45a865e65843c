import { isSkippedName, KIND_OF_CODE, type ListingPage, type PagedSource } from '@filer/core';
import type { DirTask } from './dir-task.js';
import type { WalkOptions, WalkSink } from './walk-dirs.js';
import type { WalkStats } from './walk-stats.js';

/** Listings in flight at once by default: a listing is a round trip, so many overlap well. */
export const DEFAULT_LIST_CONCURRENCY = 16;

export interface PagedWalkControl {
  /** Prefixes listed at once (default 16). */
  concurrency?: number;
  /** Checked between pages: true stops the walk (the remaining tasks stay on the stack). */
  shouldStop?: () => boolean;
  /**
   * With true, `shouldStop` only keeps new prefixes from starting: a prefix already being listed
   * is listed to its last page. A cluster shard needs this, since a half-listed prefix put back on
   * the stack would be listed again from its first page, its first entries twice.
   */
  finishStarted?: boolean;
}

function errnoOf(e: unknown): { code: string; message: string } {
  const err = e as { code?: string; message?: string };
  return { code: err.code ?? 'EIO', message: err.message ?? String(e) };
}

/**
 * Walks a paged source (S3 prefixes) from the tasks on `stack`, several listings at once, with
 * the filter semantics of DirWalker: hidden names (a leading '.'), name globs / regex / extensions
 * on the last key segment, excludes on the relative key, size and mtime from the listing itself,
 * max depth. Ignore files are not read and --follow changes nothing (there are no symlinks);
 * `--type d` lists prefixes. Entries stream to the sink page by page: at most one page per
 * listing in flight is held, never the whole listing. Children go on the shared stack as soon as
 * their page arrives, so idle listers pick them up at once.
 */
export async function walkPaged(
  source: PagedSource,
  stack: DirTask[],
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  control: PagedWalkControl = {},
): Promise<void> {
  const limit = Math.max(1, control.concurrency ?? DEFAULT_LIST_CONCURRENCY);
  const stopped = (): boolean => control.shouldStop !== undefined && control.shouldStop();
  const pageStop = control.finishStarted === true ? () => false : stopped;
  await runListings(stack, limit, stopped, (task, wake) => visit(source, task, options, sink, stats, stack, wake, pageStop));
}

/**
 * Runs `run` on tasks popped from `stack`, `limit` at once, until the stack is empty (or `stopped`)
 * and none is running; the first rejection rejects the whole. `wake` lets a running task hand
 * the tasks it just pushed to idle slots before it ends.
 */
export function runListings<T>(
  stack: T[],
  limit: number,
  stopped: () => boolean,
  run: (task: T, wake: () => void) => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let active = 0;
    let failed = false;
    const pump = (): void => {
      if (failed) return;
      while (active < limit && stack.length > 0 && !stopped()) {
        const task = stack.pop()!;
        active++;
        run(task, pump).then(
          () => {
            active--;
            pump();
          },
          (e: unknown) => {
            failed = true;
            reject(e as Error);
          },
        );
      }
      if (active === 0 && (stack.length === 0 || stopped())) resolve();
    };
    pump();
  });
}

/** Lists one prefix page by page. Only a sink's own exception (a closed output) escapes. */
async function visit(
  source: PagedSource,
  task: DirTask,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  stack: DirTask[],
  wake: () => void,
  stopped: () => boolean,
): Promise<void> {
  const { filter } = options;
  const spec = filter.spec;
  if (spec.maxDepth !== undefined && task.depth >= spec.maxDepth) return;
  const descend = spec.maxDepth === undefined || task.depth + 1 < spec.maxDepth;
  const { isExcluded, matchesName, matchesStat, sizeFilesOnly } = filter;
  const wantType = filter.type;
  const pages = source.listPages(task.path)[Symbol.asyncIterator]();
  stats.dirs++;
  for (;;) {
    let next: IteratorResult<ListingPage>;
    try {
      next = await pages.next();
    } catch (e) {
      // A listing that fails (after the client's retries) is this prefix's error; the walk goes on.
      const { code, message } = errnoOf(e);
      stats.errors++;
      sink.error({ path: task.path, code, message });
      return;
    }
    if (next.done === true) return;
    const { names, kinds, sizes, mtimesMs, etags } = next.value;
    stats.entries += names.length;
    let pushed = false;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (isSkippedName(name, spec.hidden)) continue;
      const kind = KIND_OF_CODE[kinds[i]] ?? 'other';
      const rel = task.rel === '' ? name : task.rel + '/' + name;
      if (isExcluded !== undefined && isExcluded(name, rel)) continue;
      const path = source.join(task.path, name);
      if (kind === 'dir' && descend) {
        stack.push({ path, rel, depth: task.depth + 1, ignores: task.ignores, ancestors: task.ancestors });
        pushed = true;
      }
      if (kind !== wantType) continue;
      if (matchesName !== undefined && !matchesName(name)) continue;
      if (sizeFilesOnly && kind !== 'file') continue;
      const size = sizes[i];
      const mtimeMs = mtimesMs[i];
      if (matchesStat !== undefined && !matchesStat(size, mtimeMs)) continue;
      stats.matched++;
      if (kind === 'file') stats.bytesMatched += size;
      // A sink's exception (a closed output) ends the walk: it is not this prefix's error.
      const etag = etags?.[i];
      sink.entry(
        kind === 'file' ? (etag === undefined ? { path, kind, size, mtimeMs } : { path, kind, size, mtimeMs, etag }) : { path, kind },
      );
    }
    if (pushed) wake();
    if (stopped()) {
      await pages.return?.();
      return;
    }
  }
}
