import { ExitCode, invalidArgument, parseFilterSpec, type FilterSpec, type PathError } from '@filer/core';
import { parseFailureLimit, parseOnConflict, type FailureLimit, type OnConflict } from '@filer/engine';
import { compileNamer, RenameFeed, type Namer } from '@filer/storage/batch';
import { checkLocalRoots, isS3Uri, parseS3Uri, type BatchSink } from '@filer/storage';
import { filterInputFromFlags } from '../filter-flags.js';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import type { ProgressMode } from '../progress.js';
import { runPlanned, storedPlan, withPlanStore } from './batch-runner.js';
import { pathFailures, walkFiles } from './collect-files.js';
import { openCliSink } from './open-cli-sink.js';

export interface RenameFlags {
  apply?: boolean;
  to?: string;
  replace?: string;
  with?: string;
  onConflict: string;
  format: string;
  maxFailures?: string;
  [filter: string]: unknown;
}

export interface RenamePlanRequest {
  roots: string[];
  spec: FilterSpec;
  namer: Namer;
  onConflict: OnConflict;
  format: 'text' | 'ndjson';
  apply: boolean;
  maxFailures?: FailureLimit;
}

export function resolveRenameRequest(roots: string[], flags: RenameFlags): RenamePlanRequest {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (spec.type !== 'file')
    throw invalidArgument('type', String(flags.type), `rename acts on files: --type must be f, not '${flags.type}'`);
  if (flags.to !== undefined && flags.replace !== undefined)
    throw invalidArgument('to', flags.to, '--to and --replace are alternatives: give one');
  if (flags.replace !== undefined && flags.with === undefined)
    throw invalidArgument('replace', flags.replace, '--replace needs --with STRING');
  if (flags.to === undefined && flags.replace === undefined)
    throw invalidArgument('to', '', 'say how to rename: --to TEMPLATE or --replace REGEX --with STRING');
  const namer = compileNamer(flags);
  const onConflict = parseOnConflict(flags.onConflict, 'onConflict');
  if (onConflict === 'overwrite') throw invalidArgument('onConflict', 'overwrite', 'rename never overwrites: use fail, skip or suffix');
  if (flags.format !== 'text' && flags.format !== 'ndjson')
    throw invalidArgument('format', flags.format, `invalid format '${flags.format}': expected text or ndjson`);
  // All local or all S3: a rename keeps each file where it is, so one sink serves the job.
  const s3 = roots.filter(isS3Uri);
  if (s3.length > 0 && s3.length < roots.length)
    throw invalidArgument(
      'roots',
      roots.find((r) => !isS3Uri(r))!,
      'cannot mix local and S3 roots in one rename: run one each',
    );
  if (s3.length === 0) checkLocalRoots(roots);
  else for (const r of roots) parseS3Uri(r, 'roots');
  const maxFailures = flags.maxFailures === undefined ? undefined : parseFailureLimit(flags.maxFailures);
  return { roots, spec, namer, onConflict, format: flags.format, apply: flags.apply ?? false, ...(maxFailures ? { maxFailures } : {}) };
}

/**
 * `filer rename`: plans every rename and prints the plan with its conflicts; with --apply the plan
 * is journaled and carried out. Files are taken in path order, which is also the order of `{counter}`.
 * On S3 a key is renamed below its own prefix: a server-side copy, then the verified delete.
 */
export async function runRenamePlan(
  req: RenamePlanRequest,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; progress?: ProgressMode },
): Promise<number> {
  const sink = await openCliSink(req.roots, req.roots, opts.config);
  try {
    return await renameStored(req, ctx, opts, sink);
  } finally {
    sink.close();
  }
}

/** What runPlanned needs beyond the plan, for a rename. */
function batchOptions(
  req: RenamePlanRequest,
  opts: { quiet: boolean; config: CliConfig; progress?: ProgressMode },
  sink: BatchSink,
  pathErrors: readonly PathError[],
  held: boolean,
  pathErrorCount = pathErrors.length,
) {
  return {
    kind: 'rename' as const,
    onConflict: req.onConflict,
    apply: req.apply,
    verify: false,
    format: req.format,
    config: opts.config,
    progress: opts.progress,
    maxFailures: req.maxFailures,
    io: sink,
    pathErrors,
    pathErrorCount,
    reportPathErrors: held && !opts.quiet,
  };
}

/**
 * A rename, local or S3: the walk streams into a plan store on disk, where the files are named in
 * path order a page at a time, planned (against the roots' listing, stored there too, on S3),
 * printed and journaled — no record per file or per key is held in memory.
 */
async function renameStored(
  req: RenamePlanRequest,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; progress?: ProgressMode },
  sink: BatchSink,
): Promise<number> {
  // Identities are journaled, so that apply, resume and undo can tell a changed file or a stranger.
  // With JSON logs, the walk's failures are reported once the job exists (with its id).
  const holdFailures = ctx.log !== undefined;
  // The walk's failures and the plan's own (unsafe keys) in one bounded sample.
  const failures = pathFailures(ctx, { ...opts, holdFailures });
  return withPlanStore(async (store) => {
    const feed = new RenameFeed({ roots: req.roots, namer: req.namer }, store, sink.naming, failures);
    await walkFiles(req.roots, req.spec, ctx, { ...opts, identity: true, holdFailures, failures }, (es) => feed.add(es));
    // Listed after the walk, as close to the apply as the plan allows.
    const totals = await feed.plan(req.onConflict, await sink.listTargets?.(store));
    const code = await runPlanned(
      ctx,
      storedPlan(store, totals),
      batchOptions(req, opts, sink, failures.kept, holdFailures, failures.count),
      (a) => ('note' in a && a.note !== undefined ? { dateSource: a.note } : undefined),
    );
    return code === ExitCode.Ok && failures.count > 0 ? ExitCode.PartialFailure : code;
  });
}
