import { ExitCode, invalidArgument, parseFilterSpec } from '@filer/core';
import { parseDupesFormat } from '@filer/engine';
import { runDupesJob } from '@filer/storage/dupes';
import { defaultStatePath } from '@filer/storage/state';
import { filterInputFromFlags } from '../filter-flags.js';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import { formatCount, ProgressLine } from '../progress.js';
import { checkRootKinds } from './root-kinds.js';
import { PHASE_LABEL, writeDupesReport } from './dupes-output.js';
import type { DupesPlan } from './dupes-plan.js';
import type { CliConfig } from '../config.js';

export interface DupesFlags {
  format: string;
  hash: string;
  cache: string | boolean;
  includeEmpty?: boolean;
  /** Report directories (equal ones, wholly duplicated ones) instead of file groups. */
  dirs?: boolean;
  [filter: string]: unknown;
}

export function resolveDupesPlan(roots: string[], flags: DupesFlags): DupesPlan {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (spec.type !== 'file')
    throw invalidArgument('type', String(flags.type), `dupes compares files: --type must be f, not '${flags.type}'`);
  if (flags.hash !== 'xxh128' && flags.hash !== 'sha256')
    throw invalidArgument('hash', flags.hash, `invalid hash '${flags.hash}': expected xxh128 or sha256`);
  const plan: DupesPlan = {
    roots,
    spec,
    format: parseDupesFormat(flags.format),
    algorithm: flags.hash,
    cachePath: flags.cache === false ? undefined : typeof flags.cache === 'string' ? flags.cache : defaultStatePath(),
    includeEmpty: flags.includeEmpty ?? false,
  };
  checkRootKinds(roots, 'dupes');
  return plan;
}

/**
 * Runs `filer dupes`: the dupes use case (`runDupesJob`, which picks the native or the engine's
 * pipeline) with a progress line and errors on stderr, then the report. On S3 the listing gives the
 * sizes and objects are hashed by ranged GETs of head and tail, then whole where samples collide;
 * contents are hashed, never ETags.
 */
export async function runDupes(
  plan: DupesPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  const result = await searchDupes(plan, ctx, opts);
  writeDupesReport(ctx, plan, result);
  return result.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

/** The duplicate search of `filer dupes` (with or without --action), its progress line and errors on stderr. */
export async function searchDupes(
  plan: DupesPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<Awaited<ReturnType<typeof runDupesJob>>> {
  let progress: ProgressLine | undefined;
  try {
    const result = await runDupesJob(
      plan,
      { native: opts.config.nativeScan, spawnAfterMs: opts.config.spawnAfterMs, spillAfter: opts.config.dupesSpillAfter },
      {
        onNote: (note) => {
          if (!opts.quiet) ctx.stderr(`filer: note: ${note}\n`);
        },
        onError: (e) => {
          if (!opts.quiet) reportPathFailure(ctx, e);
        },
        onStart: (p) => {
          if (!opts.progress) return;
          const [scanning, items] = p.sourceKind === 's3' ? ['listing', 'objects'] : ['scanning', 'files'];
          progress = new ProgressLine(ctx.stderr, (secs) =>
            p.phase === 'scan'
              ? `${scanning} · ${formatCount(p.scanned)} ${items}`
              : `${PHASE_LABEL[p.phase]} · ${formatCount(p.filesHashed)} ${items} hashed · ${formatCount(Math.round(p.bytesHashed / 1e6 / secs))} MB/s`,
          );
          progress.start();
        },
      },
    );
    progress?.stop();
    return result;
  } finally {
    progress?.stop();
  }
}
