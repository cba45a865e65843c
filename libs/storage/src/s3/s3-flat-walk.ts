import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { isSkippedName, KIND_OF_CODE, type EntryKind, type PagedSource } from '@filer/core';
import {
  DEFAULT_LIST_CONCURRENCY,
  runListings,
  type DirTask,
  type PagedWalkControl,
  type WalkOptions,
  type WalkSink,
  type WalkStats,
} from '@filer/engine';
import { s3Error } from './s3-errors.js';
import { bareEtag } from './s3-etag.js';
import { listingPrefix, s3ChildPath } from './s3-uri.js';

/** Keys per ListObjectsV2 page (S3's maximum). */
const PAGE_KEYS = 1000;
/** Levels listed with a delimiter at most before the rest of each subtree is listed flat. */
const MAX_SPLIT_DEPTH = 3;
/** Sub-prefixes held while a level is split (beyond this many they are listed flat at once). */
const MAX_HELD = 256;

type Task = DirTask & { flat: boolean };

/**
 * The per-entry rules of the engine's paged walk (walkPaged), for one child of `parent`: hidden
 * names, excludes on the relative key, type, name, size and mtime. Returns the child's task when
 * the walk goes below it (a directory not pruned), else undefined.
 */
function visitChild(
  parent: DirTask,
  name: string,
  kind: EntryKind,
  size: number,
  mtimeMs: number,
  etag: string | undefined,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
): DirTask | undefined {
  const { filter } = options;
  const spec = filter.spec;
  if (isSkippedName(name, spec.hidden)) return undefined;
  const rel = parent.rel === '' ? name : parent.rel + '/' + name;
  if (filter.isExcluded !== undefined && filter.isExcluded(name, rel)) return undefined;
  const path = s3ChildPath(parent.path, name);
  const depth = parent.depth + 1;
  const below =
    kind === 'dir' && (spec.maxDepth === undefined || depth < spec.maxDepth)
      ? { path, rel, depth, ignores: parent.ignores, ancestors: parent.ancestors }
      : undefined;
  if (kind !== filter.type) return below;
  if (filter.matchesName !== undefined && !filter.matchesName(name)) return below;
  if (filter.sizeFilesOnly && kind !== 'file') return below;
  if (filter.matchesStat !== undefined && !filter.matchesStat(size, mtimeMs)) return below;
  stats.matched++;
  if (kind === 'file') stats.bytesMatched += size;
  // A sink's exception (a closed output) ends the walk: it is not this prefix's error.
  sink.entry(kind !== 'file' ? { path, kind } : etag === undefined ? { path, kind, size, mtimeMs } : { path, kind, size, mtimeMs, etag });
  return below;
}

/**
 * Walks S3 roots with few listing requests: the top levels are listed with Delimiter '/' (through
 * `source`, as the paged walk does), level by level, only until a level holds at least
 * `concurrency` sub-prefixes (or MAX_SPLIT_DEPTH levels were listed); each sub-prefix of that level
 * is then listed flat — no delimiter, 1,000 keys a page — `concurrency` listings at once.
 * Directories are rebuilt from the keys: S3 returns keys in order, so a prefix's keys are
 * contiguous and each directory is met once. Entries, filters and errors are those of walkPaged
 * (the same rules, applied per key segment); the one difference is cost: below the split, the
 * keys under a hidden or excluded directory are still listed (and dropped). Streams page by page:
 * a flat listing holds only its open directory chain, a split at most MAX_HELD sub-prefixes.
 * Not for --max-depth (the paged walk lists only the levels asked for).
 */
export async function walkS3Flat(
  client: S3Client,
  source: PagedSource,
  roots: readonly DirTask[],
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  control: PagedWalkControl = {},
): Promise<void> {
  const limit = Math.max(1, control.concurrency ?? DEFAULT_LIST_CONCURRENCY);
  const stopped = (): boolean => control.shouldStop !== undefined && control.shouldStop();
  const stack: Task[] = roots.map((r) => ({ ...r, flat: false })).reverse();
  // The split: delimiter listings of the current level still running, and the sub-prefixes they found.
  let levelActive = 0;
  let held: DirTask[] = [];
  let split = true;
  const found = (child: DirTask): void => {
    if (!split) return void stack.push({ ...child, flat: true });
    held.push(child);
    if (held.length >= MAX_HELD) endSplit();
  };
  const endSplit = (): void => {
    split = false;
    for (const t of held) stack.push({ ...t, flat: true });
    held = [];
  };
  const levelDone = (depth: number): void => {
    if (--levelActive > 0 || !split) return;
    if (held.length >= limit || depth + 1 >= MAX_SPLIT_DEPTH) return endSplit();
    for (const t of held.reverse()) stack.push({ ...t, flat: false });
    levelActive = held.length;
    held = [];
  };
  levelActive = stack.length;
  await runListings(stack, limit, stopped, (task) =>
    task.flat
      ? listFlat(client, task, options, sink, stats, stopped)
      : listLevel(source, task, options, sink, stats, found, stopped).then(() => levelDone(task.depth)),
  );
}

function reportListingError(task: DirTask, e: unknown, sink: WalkSink, stats: WalkStats): void {
  const err = e as { code?: string; message?: string };
  stats.errors++;
  sink.error({ path: task.path, code: err.code ?? 'EIO', message: err.message ?? String(e) });
}

/** One level of the split, listed with a delimiter: its sub-prefixes go to `found`. */
async function listLevel(
  source: PagedSource,
  task: DirTask,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  found: (child: DirTask) => void,
  stopped: () => boolean,
): Promise<void> {
  const pages = source.listPages(task.path)[Symbol.asyncIterator]();
  stats.dirs++;
  for (;;) {
    let next;
    try {
      next = await pages.next();
    } catch (e) {
      return reportListingError(task, e, sink, stats);
    }
    if (next.done === true) return;
    const { names, kinds, sizes, mtimesMs, etags } = next.value;
    stats.entries += names.length;
    for (let i = 0; i < names.length; i++) {
      const child = visitChild(task, names[i], KIND_OF_CODE[kinds[i]] ?? 'other', sizes[i], mtimesMs[i], etags?.[i], options, sink, stats);
      if (child !== undefined) found(child);
    }
    if (stopped()) {
      await pages.return?.();
      return;
    }
  }
}

/** A directory met in a flat listing, with the task for its subtree when the walk goes below it. */
interface OpenDir {
  segment: string;
  task: DirTask | undefined;
}

/** Lists a prefix's whole subtree flat, page by page, rebuilding directories from the keys. */
async function listFlat(
  client: S3Client,
  task: DirTask,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  stopped: () => boolean,
): Promise<void> {
  const { bucket, key: prefix } = listingPrefix(task.path);
  // The directories the previous key was in, outermost first; open[k].task undefined = pruned.
  const open: OpenDir[] = [];
  stats.dirs++;
  let token: string | undefined;
  do {
    let out;
    try {
      out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: PAGE_KEYS }));
    } catch (e) {
      reportListingError(task, s3Error(e, `cannot list s3://${bucket}/${prefix}`), sink, stats);
      return;
    }
    for (const o of out.Contents ?? []) {
      const segments = o.Key!.slice(prefix.length).split('/');
      const last = segments.length - 1;
      let same = 0;
      while (same < open.length && same < last && open[same].segment === segments[same]) same++;
      open.length = same;
      let parent: DirTask | undefined = same === 0 ? task : open[same - 1].task;
      for (let k = same; k < last; k++) {
        // A new directory: counted and filtered once, as its parent's listing would have shown it.
        let child: DirTask | undefined;
        if (parent !== undefined) {
          stats.entries++;
          child = visitChild(parent, segments[k], 'dir', 0, 0, undefined, options, sink, stats);
          if (child !== undefined) stats.dirs++;
        }
        open.push({ segment: segments[k], task: child });
        parent = child;
      }
      // A key ending in '/' (a folder marker) names its directory, not a file.
      if (parent === undefined || segments[last] === '') continue;
      stats.entries++;
      visitChild(parent, segments[last], 'file', o.Size ?? 0, o.LastModified?.getTime() ?? 0, bareEtag(o.ETag), options, sink, stats);
    }
    token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
  } while (token !== undefined && !stopped());
}
