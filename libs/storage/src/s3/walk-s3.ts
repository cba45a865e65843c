import { compileFilter, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { emptyWalkStats, rootTask, walkPaged, type WalkStats } from '@filer/engine';
import { walkS3Flat } from './s3-flat-walk.js';
import type { ListedPage } from './list-xml.js';
import type { S3Lister } from './s3-lister.js';
import { S3Source } from './s3-source.js';

export interface S3WalkOptions {
  roots: readonly string[];
  spec: FilterSpec;
  /** Prefixes listed at once (default 16). */
  concurrency?: number;
  onEntry(entry: FileEntry): void;
  onError(error: PathError): void;
  shouldStop?: () => boolean;
  /** First flat pages the root check listed (checkS3Roots), taken instead of listing them again. */
  firstPages?: Map<string, ListedPage>;
}

/** Walks S3 roots (already checked), flat below the top levels (walkS3Flat) or level by level with --max-depth; resolves to the totals. */
export async function walkS3(lister: S3Lister, opts: S3WalkOptions): Promise<WalkStats> {
  const stats = emptyWalkStats();
  const source = new S3Source(lister);
  const options = { filter: compileFilter(opts.spec), statAll: true };
  const sink = { entry: opts.onEntry, error: opts.onError };
  const control = { concurrency: opts.concurrency, shouldStop: opts.shouldStop, firstPages: opts.firstPages };
  // Flat listings need far fewer requests; --max-depth keeps the level-by-level walk, which lists only those levels.
  if (opts.spec.maxDepth === undefined) await walkS3Flat(lister, source, opts.roots.map(rootTask), options, sink, stats, control);
  else await walkPaged(source, opts.roots.map(rootTask).reverse(), options, sink, stats, control);
  return stats;
}

/** What the filters mean on S3 where it differs from a disk, for a note on stderr (empty when nothing applies). */
export function s3FilterNotes(spec: FilterSpec): string[] {
  const notes: string[] = [];
  if (spec.follow) notes.push('--follow has no effect on S3: there are no symlinks');
  if (spec.type === 'symlink') notes.push('--type l matches nothing on S3: there are no symlinks');
  if (spec.type === 'dir') notes.push('--type d on S3 lists common prefixes (they have no size or mtime)');
  return notes;
}
