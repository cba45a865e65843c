import { isSkippedName, type EntryKind } from '@filer/core';
import type { DirTask, WalkOptions, WalkSink, WalkStats } from '@filer/engine';
import { s3ChildPath } from './s3-uri.js';

/**
 * The per-entry rules of the engine's paged walk (walkPaged), for one child of `parent`: hidden
 * names, excludes on the relative key, type, name, size and mtime. Returns the child's task when
 * the walk goes below it (a directory not pruned), else undefined. With `emit` false (a directory
 * an earlier listing of the same root already reported) nothing is counted or reported: only the
 * task is worked out, by the same rules.
 */
export function visitChild(
  parent: DirTask,
  name: string,
  kind: EntryKind,
  size: number,
  mtimeMs: number,
  etag: string | undefined,
  options: WalkOptions,
  sink: WalkSink,
  stats: WalkStats,
  emit = true,
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
  if (!emit || kind !== filter.type) return below;
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
 * Whether key prefix `a` sorts before key `b` in S3's order (UTF-8 bytes). JavaScript compares
 * UTF-16 code units, which agree unless a surrogate pair meets a character from U+E000 up.
 */
export function keyBefore(a: string, b: string): boolean {
  if (!HIGH.test(a) && !HIGH.test(b)) return a < b;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) < 0;
}
const HIGH = /[\ud800-\uffff]/;
