import * as path from 'node:path';
import { ExitCode, FilerError, invalidArgument, parseFilterSpec, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { isInside, parseFailureLimit, parseOnConflict, type FailureLimit, type OnConflict } from '@filer/engine';
import { TransferFeed } from '@filer/storage/batch';
import { checkLocalRoots, danglingLinkOn, isS3Uri, linkedFile, parseS3Uri, RealPaths, type BatchSink } from '@filer/storage';
import { filterInputFromFlags } from '../filter-flags.js';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import type { ProgressMode } from '../progress.js';
import { runPlanned, storedPlan, withPlanStore } from './batch-runner.js';
import { pathFailures, walkFiles } from './collect-files.js';
import { openCliSink } from './open-cli-sink.js';

export interface TransferFlags {
  dest?: string;
  flatten?: boolean;
  apply?: boolean;
  verify?: boolean;
  /** Commander's --no-fsync (copy only): false when given. */
  fsync?: boolean;
  /** Commander's --no-space-check: false when given. */
  spaceCheck?: boolean;
  onConflict: string;
  format: string;
  maxFailures?: string;
  [filter: string]: unknown;
}

export interface TransferRequest {
  kind: 'copy' | 'move';
  roots: string[];
  spec: FilterSpec;
  dest: string;
  flatten: boolean;
  apply: boolean;
  verify: boolean;
  fsync: boolean;
  spaceCheck: boolean;
  onConflict: OnConflict;
  format: 'text' | 'ndjson';
  maxFailures?: FailureLimit;
}

export function resolveTransfer(kind: 'copy' | 'move', roots: string[], flags: TransferFlags): TransferRequest {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (spec.type !== 'file')
    throw invalidArgument('type', String(flags.type), `${kind} acts on files: --type must be f, not '${flags.type}'`);
  if (flags.dest === undefined || flags.dest === '')
    throw invalidArgument('dest', '', `${kind} needs --dest DIR or --dest s3://bucket/prefix/`);
  if (flags.format !== 'text' && flags.format !== 'ndjson')
    throw invalidArgument('format', flags.format, `invalid format '${flags.format}': expected text or ndjson`);
  const remoteRoots = roots.filter(isS3Uri);
  if (remoteRoots.length > 0 && remoteRoots.length < roots.length)
    throw invalidArgument(
      'roots',
      roots.find((r) => !isS3Uri(r))!,
      `cannot mix local and S3 roots in one ${kind}: run one each`,
    );
  if (remoteRoots.length === 0) checkLocalRoots(roots);
  else for (const r of roots) parseS3Uri(r, 'roots');
  const s3Dest = isS3Uri(flags.dest);
  if (s3Dest) parseS3Uri(flags.dest, 'dest');
  const dangling = s3Dest ? undefined : danglingLinkOn(flags.dest);
  if (dangling !== undefined)
    throw invalidArgument(
      'dest',
      flags.dest,
      `${dangling.link} is a symbolic link to ${dangling.target}, which does not exist: ` +
        'filer never creates a destination through a link (create its target first, or name the real directory)',
    );
  // An S3 prefix is kept as written, without its trailing slash (the walk's own form of a root);
  // a local one is resolved through its existing symlinks, and so are the roots it is compared with.
  const real = new RealPaths();
  const dest = s3Dest ? flags.dest.replace(/\/+$/, '') : real.dir(flags.dest);
  for (const r of roots) {
    const abs = isS3Uri(r) ? r.replace(/\/+$/, '') : real.dir(r);
    if (isInside(dest, abs)) {
      const how = !s3Dest && dest !== path.resolve(flags.dest) ? ` (it resolves to ${dest})` : '';
      throw new FilerError('E_INVALID_ARGUMENT', `--dest ${flags.dest} lies inside the root ${r}${how}: its own output would be walked`, {
        field: 'dest',
        value: flags.dest,
      });
    }
  }
  return {
    kind,
    roots,
    spec,
    dest,
    flatten: flags.flatten ?? false,
    apply: flags.apply ?? false,
    verify: flags.verify ?? false,
    fsync: flags.fsync ?? true,
    spaceCheck: flags.spaceCheck ?? true,
    onConflict: parseOnConflict(flags.onConflict, 'onConflict'),
    format: flags.format,
    ...(flags.maxFailures === undefined ? {} : { maxFailures: parseFailureLimit(flags.maxFailures) }),
  };
}

/** `filer copy|move`: plan the tree onto --dest, print it, and with --apply journal and run it. */
export async function runTransfer(
  req: TransferRequest,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; progress?: ProgressMode },
): Promise<number> {
  const sink = await openCliSink(req.roots, [req.dest], opts.config);
  try {
    return await transferStored(req, ctx, opts, sink);
  } finally {
    sink.close();
  }
}

/** What runPlanned needs beyond the plan, for a transfer. */
function batchOptions(
  req: TransferRequest,
  opts: { quiet: boolean; config: CliConfig; progress?: ProgressMode },
  sink: BatchSink,
  pathErrors: readonly PathError[],
  held: boolean,
  pathErrorCount = pathErrors.length,
) {
  return {
    kind: req.kind,
    onConflict: req.onConflict,
    apply: req.apply,
    verify: req.verify,
    fsync: req.fsync,
    spaceCheck: req.spaceCheck,
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
 * A copy or move, local or S3: the walk streams into a plan store on disk (beside the state
 * database), and so does an S3 destination's listing; the plan is made, printed and journaled from
 * there — no record per file or per object is held in memory.
 */
async function transferStored(
  req: TransferRequest,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; progress?: ProgressMode },
  sink: BatchSink,
): Promise<number> {
  const holdFailures = ctx.log !== undefined;
  // The walk's failures and the plan's own (unsafe keys, links a move leaves) in one bounded sample.
  const failures = pathFailures(ctx, { ...opts, holdFailures });
  return withPlanStore(async (store) => {
    const feed = new TransferFeed(
      {
        kind: req.kind,
        roots: req.roots,
        dest: req.dest,
        flatten: req.flatten,
        // A local move --follow leaves symlinked files where they are (S3 has no links).
        leaveOut: req.kind === 'move' && req.spec.follow && !req.roots.some(isS3Uri) ? symlinkedFile : undefined,
      },
      store,
      failures,
    );
    await walkFiles(req.roots, req.spec, ctx, { ...opts, identity: true, holdFailures, failures }, (es) => feed.add(es));
    // Listed after the walk, as close to the apply as the plan allows.
    const totals = await feed.plan(req.onConflict, await sink.listTargets?.(store));
    const code = await runPlanned(
      ctx,
      storedPlan(store, totals),
      batchOptions(req, opts, sink, failures.kept, holdFailures, failures.count),
    );
    return code === ExitCode.Ok && failures.count > 0 ? ExitCode.PartialFailure : code;
  });
}

/**
 * Under --follow a walk lists a symlinked file as the file it leads to. A copy copies that file
 * (the apply follows the link); a move does not take it: removing the file a link leads to (maybe
 * outside the root) and leaving the link dangling is never what "move this tree" meant. Returns
 * the failure to report for such a link, or undefined for any other file.
 */
function symlinkedFile({ path: file }: FileEntry): PathError | undefined {
  let linked: string | undefined;
  try {
    linked = linkedFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { path: file, code: err.code ?? 'EIO', message: err.message };
  }
  if (linked === undefined) return undefined;
  return {
    path: file,
    code: 'E_SYMLINK',
    message: `a symbolic link to ${linked}: move --follow moves files, not what links lead to; the link is left in place`,
  };
}
