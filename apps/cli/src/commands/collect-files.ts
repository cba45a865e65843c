import { PathErrorSample, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { openSource, type WalkSource } from '@filer/storage';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';

/**
 * Walks roots and gathers every matching entry with its size and mtime (and identity when asked),
 * printing per-path errors as they come and returning them (a batch job keeps them). For commands
 * that must see the whole list before acting (plans, manifests); `find` streams instead.
 */
export async function collectFiles(
  roots: readonly string[],
  spec: FilterSpec,
  ctx: CliContext,
  opts: CollectOptions,
): Promise<{ entries: FileEntry[]; errors: number; failures: PathError[] }> {
  const source = await openSource(roots, { native: opts.config.nativeScan });
  try {
    return await collectFrom(source, spec, ctx, opts);
  } finally {
    source.close();
  }
}

export interface CollectOptions {
  quiet: boolean;
  config: CliConfig;
  identity?: boolean;
  /**
   * Return the failures without reporting them: the caller does (a batch job, with its id, in JSON
   * logs). Only the first PATH_ERROR_SAMPLE are held; later ones are reported at once.
   */
  holdFailures?: boolean;
  /** Where the failures go (a plan's, shared with its own per-path failures); a new one by default. */
  failures?: PathErrorSample;
}

/** A job's per-path failures, reported as they come (the held ones, kept, are reported by the caller). */
export function pathFailures(ctx: CliContext, opts: Pick<CollectOptions, 'quiet' | 'holdFailures'>): PathErrorSample {
  return new PathErrorSample((e, kept) => {
    if (!opts.quiet && (opts.holdFailures !== true || !kept)) reportPathFailure(ctx, e);
  });
}

/** collectFiles over a source already open (its roots). */
export async function collectFrom(
  source: WalkSource,
  spec: FilterSpec,
  ctx: CliContext,
  opts: CollectOptions,
): Promise<{ entries: FileEntry[]; errors: number; failures: PathError[] }> {
  const entries: FileEntry[] = [];
  const { errors, failures } = await walkFrom(source, spec, ctx, opts, (es) => {
    for (const e of es) entries.push(e);
  });
  return { entries, errors, failures };
}

/** Walks roots and hands each batch of matching entries to `onEntries` as it comes (nothing gathered): for plans kept on disk. */
export async function walkFiles(
  roots: readonly string[],
  spec: FilterSpec,
  ctx: CliContext,
  opts: CollectOptions,
  onEntries: (entries: readonly FileEntry[]) => void,
): Promise<{ errors: number; failures: PathError[] }> {
  const source = await openSource(roots, { native: opts.config.nativeScan });
  try {
    return await walkFrom(source, spec, ctx, opts, onEntries);
  } finally {
    source.close();
  }
}

async function walkFrom(
  source: WalkSource,
  spec: FilterSpec,
  ctx: CliContext,
  opts: CollectOptions,
  onEntries: (entries: readonly FileEntry[]) => void,
): Promise<{ errors: number; failures: PathError[] }> {
  const failures = opts.failures ?? pathFailures(ctx, opts);
  await source.walk({
    spec,
    statAll: true,
    identity: opts.identity,
    output: { kind: 'entries' },
    spawnAfterMs: opts.config.spawnAfterMs,
    onEntries,
    onError: (e) => failures.add(e),
  }).done;
  // Counted whole, kept up to a bound: a walk denied a million paths holds a hundred.
  return { errors: failures.count, failures: failures.kept };
}
