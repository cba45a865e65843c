import { KIND_OF_CODE } from '@filer/core';
import {
  DEFAULT_LIST_CONCURRENCY,
  runListings,
  type DirTask,
  type PagedWalkControl,
  type WalkOptions,
  type WalkSink,
  type WalkStats,
} from '@filer/engine';
import { firstPageKey } from './check-s3-roots.js';
import type { ListedPage } from './list-xml.js';
import { s3Error } from './s3-errors.js';
import { PAGE_KEYS, type S3Lister } from './s3-lister.js';
import type { S3Source } from './s3-source.js';
import { listingPrefix } from './s3-uri.js';
import { keyBefore, visitChild } from './s3-visit.js';

/** Levels listed with a delimiter at most before the rest of each subtree is listed flat. */
const MAX_SPLIT_DEPTH = 3;
/** Sub-prefixes held while a level is split (beyond this many they are listed flat at once). */
const MAX_HELD = 256;
/**
 * Pages a root is listed flat, one request after another as `rclone lsf -R` does, before what is
 * left of it is split into parallel listings: a prefix of up to 10,000 keys costs its 10 requests
 * and nothing more, where the split would spend delimiter requests, level after level, first.
 */
export const HEAD_PAGES = 10;

export interface FlatWalkControl extends PagedWalkControl {
  /** Pages of each root listed flat before the rest is split (default HEAD_PAGES; 0: split from the start). */
  headPages?: number;
  /** Keys per flat page (default PAGE_KEYS, S3's maximum; smaller only in tests). */
  pageKeys?: number;
  /** First flat pages the root check listed, by firstPageKey (taken once, instead of listing them again). */
  firstPages?: Map<string, ListedPage>;
}

/**
 * A listing task. `after`: the last key its root's head listing reached — everything up to it was
 * listed and reported, so listings of prefixes it lies in start after it, and directories that
 * sort before it are not reported again.
 */
type Task = DirTask & { flat: boolean; after?: string };

/**
 * Whether the directory whose key prefix is `prefix` (ending in '/') was reported by its root's
 * head listing: it sorts before the head's last key or is that key (a folder marker) — either it
 * is one of the key's directories, or all of its keys came before it.
 */
const seen = (prefix: string, after: string | undefined): boolean => after !== undefined && !keyBefore(after, prefix);

/**
 * Walks S3 roots with few listing requests. Each root is first listed flat — no delimiter, 1,000
 * keys a page — for up to `headPages` pages; a root with more keys than that is then split from
 * its last key on: the top levels are listed with Delimiter '/' (through `source`, as the paged
 * walk does), level by level, only until a level holds at least `concurrency` sub-prefixes (or
 * MAX_SPLIT_DEPTH levels were listed); each sub-prefix of that level is then listed flat,
 * `concurrency` listings at once. Listings of the prefixes the head's last key lies in start
 * after that key (StartAfter), so no key is listed twice.
 * Directories are rebuilt from the keys: S3 returns keys in order, so a prefix's keys are
 * contiguous and each directory is met once. Entries, filters and errors are those of walkPaged
 * (the same rules, applied per key segment); the one difference is cost: in flat listings, the
 * keys under a hidden or excluded directory are still listed (and dropped). Streams page by page:
 * a flat listing holds only its open directory chain, a split at most MAX_HELD sub-prefixes.
 * Not for --max-depth (the paged walk lists only the levels asked for).
 */
export async function walkS3Flat(
  lister: S3Lister,
  source: S3Source,
  roots: readonly DirTask[],
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  control: FlatWalkControl = {},
): Promise<void> {
  const limit = Math.max(1, control.concurrency ?? DEFAULT_LIST_CONCURRENCY);
  const stopped = (): boolean => control.shouldStop !== undefined && control.shouldStop();
  const headPages = control.headPages ?? HEAD_PAGES;
  const pageKeys = control.pageKeys ?? PAGE_KEYS;
  // The heads, then the roots they did not finish, split from their last key.
  const stack: Task[] = headPages > 0 ? [] : roots.map((r) => ({ ...r, flat: false })).reverse();
  if (headPages > 0)
    await runListings(roots.map((r) => ({ ...r, flat: true })).reverse(), limit, stopped, async (root: Task) => {
      const after = await listFlat(lister, root, pageKeys, options, sink, stats, stopped, headPages, control.firstPages);
      if (after !== undefined) stack.push({ ...root, flat: false, after });
    });
  stack.sort((a, b) => (a.path < b.path ? 1 : -1));
  // The split: delimiter listings of the current level still running, and the sub-prefixes they found.
  let levelActive = 0;
  let held: Task[] = [];
  let split = true;
  const found = (child: Task): void => {
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
      ? listFlat(lister, task, pageKeys, options, sink, stats, stopped).then(() => undefined)
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
  source: S3Source,
  task: Task,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  found: (child: Task) => void,
  stopped: () => boolean,
): Promise<void> {
  const { after } = task;
  const prefix = listingPrefix(task.path).key;
  const pages = source.listPages(task.path, after !== undefined && after.startsWith(prefix) ? after : undefined)[Symbol.asyncIterator]();
  if (!seen(prefix, after)) stats.dirs++;
  for (;;) {
    let next;
    try {
      next = await pages.next();
    } catch (e) {
      return reportListingError(task, e, sink, stats);
    }
    if (next.done === true) return;
    const { names, kinds, sizes, mtimesMs, etags } = next.value;
    for (let i = 0; i < names.length; i++) {
      const kind = KIND_OF_CODE[kinds[i]] ?? 'other';
      // Keys come after `after` (StartAfter): only a directory the head's last key lies in can be one it reported.
      const fresh = kind !== 'dir' || !seen(prefix + names[i] + '/', after);
      if (fresh) stats.entries++;
      const child = visitChild(task, names[i], kind, sizes[i], mtimesMs[i], etags?.[i], options, sink, stats, fresh);
      if (child !== undefined) found({ ...child, flat: false, after });
    }
    if (stopped()) {
      await pages.return(undefined);
      return;
    }
  }
}

/** A directory met in a flat listing, with the task for its subtree when the walk goes below it. */
interface OpenDir {
  segment: string;
  task: DirTask | undefined;
}

/**
 * Lists a prefix's subtree flat, page by page, rebuilding directories from the keys. With
 * `maxPages`, stops after that many pages and returns the last key listed when keys remain
 * (undefined when the prefix was listed to its end, failed or the walk stopped).
 */
async function listFlat(
  lister: S3Lister,
  task: Task,
  pageKeys: number,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  stopped: () => boolean,
  maxPages = Infinity,
  firstPages?: Map<string, ListedPage>,
): Promise<string | undefined> {
  const { bucket, key: prefix } = listingPrefix(task.path);
  const { after } = task;
  // The directories the previous key was in, outermost first; open[k].task undefined = pruned.
  const open: OpenDir[] = [];
  if (!seen(prefix, after)) stats.dirs++;
  let lastKey: string | undefined;
  // The page being asked for: the root check's listing when it was this one (used once), or the next one,
  // requested before this page's keys are gone through, so that the server works on it meanwhile.
  const first = firstPages?.get(firstPageKey(bucket, prefix));
  firstPages?.delete(firstPageKey(bucket, prefix));
  const startAfter = after !== undefined && after.startsWith(prefix) ? after : undefined;
  let next = first !== undefined ? Promise.resolve(first) : quiet(lister.list({ bucket, prefix, startAfter, maxKeys: pageKeys }));
  for (let pages = 1; ; pages++) {
    let out: ListedPage;
    try {
      out = await next;
    } catch (e) {
      reportListingError(task, s3Error(e, `cannot list s3://${bucket}/${prefix}`), sink, stats);
      return undefined;
    }
    const token = out.truncated ? out.nextToken : undefined;
    if (out.keys.length > 0) lastKey = out.keys[out.keys.length - 1];
    // The head goes on past maxPages only while it has no key to split after.
    const more = token !== undefined && !stopped() && (pages < maxPages || lastKey === undefined);
    if (more) {
      next = quiet(lister.list({ bucket, prefix, token, maxKeys: pageKeys }));
      // Lets the request reach its socket before this page's keys hold the thread.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { keys, sizes, mtimesMs, etags } = out;
    for (let i = 0; i < keys.length; i++) {
      const segments = keys[i].slice(prefix.length).split('/');
      const last = segments.length - 1;
      let same = 0;
      while (same < open.length && same < last && open[same].segment === segments[same]) same++;
      open.length = same;
      let parent: DirTask | undefined = same === 0 ? task : open[same - 1].task;
      for (let k = same; k < last; k++) {
        // A new directory: counted and filtered once, as its parent's listing would have shown it.
        let child: DirTask | undefined;
        if (parent !== undefined) {
          const fresh = after === undefined || !seen(prefix + segments.slice(0, k + 1).join('/') + '/', after);
          if (fresh) stats.entries++;
          child = visitChild(parent, segments[k], 'dir', 0, 0, undefined, options, sink, stats, fresh);
          if (child !== undefined && fresh) stats.dirs++;
        }
        open.push({ segment: segments[k], task: child });
        parent = child;
      }
      // A key ending in '/' (a folder marker) names its directory, not a file.
      if (parent === undefined || segments[last] === '') continue;
      stats.entries++;
      visitChild(parent, segments[last], 'file', sizes[i], mtimesMs[i], etags[i], options, sink, stats);
    }
    if (more) continue;
    // The head's end: what is left of the root is split from its last key.
    return token !== undefined && !stopped() ? lastKey : undefined;
  }
}

/** A request awaited later: its rejection is handled there, not reported as unhandled meanwhile. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
