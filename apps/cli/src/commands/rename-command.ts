import { ExitCode, invalidArgument, parseFilterSpec, type FilterSpec } from '@filer/core';
import { comparePaths, parseOnConflict, type MoveRequest, type OnConflict } from '@filer/engine';
import { compileNamer, type Namer } from '@filer/storage/batch';
import { checkLocalRoots } from '@filer/storage';
import { filterInputFromFlags } from '../filter-flags.js';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { runBatch } from './batch-runner.js';
import { collectFiles } from './collect-files.js';

export interface RenameFlags {
  apply?: boolean;
  to?: string;
  replace?: string;
  with?: string;
  onConflict: string;
  format: string;
  [filter: string]: unknown;
}

export interface RenamePlanRequest {
  roots: string[];
  spec: FilterSpec;
  namer: Namer;
  onConflict: OnConflict;
  format: 'text' | 'ndjson';
  apply: boolean;
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
  checkLocalRoots(roots);
  return { roots, spec, namer, onConflict, format: flags.format, apply: flags.apply ?? false };
}

/**
 * `filer rename`: plans every rename and prints the plan with its conflicts; with --apply the plan
 * is journaled and carried out. Files are taken in path order, which is also the order of `{counter}`.
 */
export async function runRenamePlan(req: RenamePlanRequest, ctx: CliContext, opts: { quiet: boolean; config: CliConfig }): Promise<number> {
  // Identities are journaled, so that apply, resume and undo can tell a changed file or a stranger.
  // With JSON logs, the walk's failures are reported once the job exists (with its id).
  const holdFailures = ctx.log !== undefined;
  const { entries, failures } = await collectFiles(req.roots, req.spec, ctx, { ...opts, identity: true, holdFailures });
  entries.sort((a, b) => comparePaths(a.path, b.path));
  const { nameFiles, renameRequests } = await import('@filer/storage/batch');
  const named = await nameFiles(entries, req.namer);
  const requests: MoveRequest[] = renameRequests(named, req.roots);
  // The planner resolves paths: annotations are found by the resolved source.
  const dateSources = new Map(named.map((n, i) => [requests[i].source, n.dateSource]));
  const code = await runBatch(
    ctx,
    requests,
    {
      kind: 'rename',
      onConflict: req.onConflict,
      apply: req.apply,
      verify: false,
      format: req.format,
      config: opts.config,
      pathErrors: failures,
      reportPathErrors: holdFailures && !opts.quiet,
    },
    (source) => {
      const d = dateSources.get(source);
      return d === undefined ? undefined : { dateSource: d };
    },
  );
  return code === ExitCode.Ok && failures.length > 0 ? ExitCode.PartialFailure : code;
}
