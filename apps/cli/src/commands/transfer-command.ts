import * as path from 'node:path';
import { ExitCode, FilerError, invalidArgument, parseFilterSpec, type FilterSpec } from '@filer/core';
import { comparePaths, parseOnConflict, type MoveRequest, type OnConflict } from '@filer/engine';
import { transferTarget } from '@filer/storage/batch';
import { checkLocalRoots } from '@filer/storage';
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
  onConflict: OnConflict;
  format: 'text' | 'ndjson';
}

export function resolveTransfer(kind: 'copy' | 'move', roots: string[], flags: TransferFlags): TransferRequest {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (spec.type !== 'file')
    throw invalidArgument('type', String(flags.type), `${kind} acts on files: --type must be f, not '${flags.type}'`);
  if (flags.dest === undefined || flags.dest === '') throw invalidArgument('dest', '', `${kind} needs --dest DIR`);
  if (flags.format !== 'text' && flags.format !== 'ndjson')
    throw invalidArgument('format', flags.format, `invalid format '${flags.format}': expected text or ndjson`);
  checkLocalRoots(roots);
  const dest = path.resolve(flags.dest);
  for (const r of roots) {
    const abs = path.resolve(r);
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
    onConflict: parseOnConflict(flags.onConflict, 'onConflict'),
    format: flags.format,
  };
}

/** `filer copy|move`: plan the tree onto --dest, print it, and with --apply journal and run it. */
export async function runTransfer(req: TransferRequest, ctx: CliContext, opts: { quiet: boolean; config: CliConfig }): Promise<number> {
  const requests: MoveRequest[] = [];
  let errors = 0;
  for (const root of req.roots) {
    const { entries, errors: failed } = await collectFiles([root], req.spec, ctx, opts);
    errors += failed;
    entries.sort((a, b) => comparePaths(a.path, b.path));
    for (const e of entries)
      requests.push({ source: path.resolve(e.path), target: transferTarget(req.dest, req.flatten, root, e.path), size: e.size ?? 0 });
  }
  const code = await runBatch(ctx, requests, {
    kind: req.kind,
    onConflict: req.onConflict,
    apply: req.apply,
    verify: req.verify,
    format: req.format,
  });
  return code === ExitCode.Ok && errors > 0 ? ExitCode.PartialFailure : code;
}
