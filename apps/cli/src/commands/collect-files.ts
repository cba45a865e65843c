import type { FileEntry, FilterSpec } from '@filer/core';
import { startParallelWalk } from '@filer/storage';
import { formatPathError, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';

/**
 * Walks roots and gathers every matching entry with its size and mtime (and identity when asked),
 * printing per-path errors as they come. For commands that must see the whole list before acting
 * (plans, manifests); `find` streams instead.
 */
export async function collectFiles(
  roots: readonly string[],
  spec: FilterSpec,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; identity?: boolean },
): Promise<{ entries: FileEntry[]; errors: number }> {
  const entries: FileEntry[] = [];
  let errors = 0;
  await startParallelWalk({
    roots,
    spec,
    statAll: true,
    identity: opts.identity,
    output: { kind: 'entries' },
    native: opts.config.nativeScan,
    spawnAfterMs: opts.config.spawnAfterMs,
    onEntries: (es) => {
      for (const e of es) entries.push(e);
    },
    onError: (e) => {
      errors++;
      if (!opts.quiet) ctx.stderr(formatPathError(e));
    },
  }).done;
  return { entries, errors };
}
