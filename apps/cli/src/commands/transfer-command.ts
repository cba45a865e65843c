import * as path from 'node:path';
import { ExitCode, FilerError, invalidArgument, parseFilterSpec, type FilterSpec } from '@filer/core';
import { comparePaths, parseOnConflict, type MoveRequest, type OnConflict } from '@filer/engine';
import { transferTarget } from '@filer/storage/batch';
import { checkLocalRoots, isS3Uri, parseS3Uri } from '@filer/storage';
import { filterInputFromFlags } from '../filter-flags.js';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { runBatch } from './batch-runner.js';
import { collectFiles } from './collect-files.js';

export interface TransferFlags {
  dest?: string;
  flatten?: boolean;
  apply?: boolean;
  verify?: boolean;
  /** Commander's --no-fsync (copy only): false when given. */
  fsync?: boolean;
  onConflict: string;
  format: string;
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
  onConflict: OnConflict;
  format: 'text' | 'ndjson';
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
  // An S3 prefix is kept as written, without its trailing slash (the walk's own form of a root).
  const dest = s3Dest ? flags.dest.replace(/\/+$/, '') : path.resolve(flags.dest);
  for (const r of roots) {
    const abs = isS3Uri(r) ? r.replace(/\/+$/, '') : path.resolve(r);
    if (dest === abs || dest.startsWith(abs + '/')) {
      throw new FilerError('E_INVALID_ARGUMENT', `--dest ${flags.dest} lies inside the root ${r}: its own output would be walked`, {
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
    onConflict: parseOnConflict(flags.onConflict, 'onConflict'),
    format: flags.format,
  };
}

/** `filer copy|move`: plan the tree onto --dest, print it, and with --apply journal and run it. */
export async function runTransfer(req: TransferRequest, ctx: CliContext, opts: { quiet: boolean; config: CliConfig }): Promise<number> {
  const remote = isS3Uri(req.dest) || req.roots.some(isS3Uri);
  // Only transfers that touch S3 load the AWS SDK.
  const s3 = remote ? await import('./s3-transfer.js') : undefined;
  const session = s3 ? await s3.openS3Session(req.roots, req.dest) : undefined;
  try {
    const requests: MoveRequest[] = [];
    let errors = 0;
    for (const root of req.roots) {
      const { entries, errors: failed } = session
        ? await session.collect(root, req.spec, ctx, opts)
        : await collectFiles([root], req.spec, ctx, opts);
      errors += failed;
      entries.sort((a, b) => comparePaths(a.path, b.path));
      for (const e of entries)
        requests.push({
          source: isS3Uri(e.path) ? e.path : path.resolve(e.path),
          target: transferTarget(req.dest, req.flatten, root, e.path),
          size: e.size ?? 0,
        });
    }
    const code = await runBatch(ctx, requests, {
      kind: req.kind,
      onConflict: req.onConflict,
      apply: req.apply,
      verify: req.verify,
      fsync: req.fsync,
      format: req.format,
      io: session?.io,
    });
    return code === ExitCode.Ok && errors > 0 ? ExitCode.PartialFailure : code;
  } finally {
    session?.close();
  }
}
