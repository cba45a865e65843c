import { ExitCode, invalidArgument, parseFilterSpec, type FilterSpec } from '@filer/core';
import { csvField, isoFromMs } from '@filer/engine';
import { checkManifestOutName, runManifestJob, type ManifestListing, type ManifestRow } from '@filer/storage/manifest';
import { checkRootKinds } from './root-kinds.js';
import { filterInputFromFlags } from '../filter-flags.js';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';

export interface ManifestFlags {
  out?: string;
  hash?: boolean;
  format: string;
  [filter: string]: unknown;
}

export interface ManifestRequest {
  roots: string[];
  spec: FilterSpec;
  out: string;
  hash: boolean;
  format: 'csv' | 'ndjson' | 'json';
}

/** `remote`: the roots are the server's (checked by its API), so they are not looked up here. */
export function resolveManifest(roots: string[], flags: ManifestFlags, opts: { remote?: boolean } = {}): ManifestRequest {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (flags.out === undefined || flags.out === '') throw invalidArgument('out', '', 'manifest needs --out FILE (or --out - for stdout)');
  if (!['csv', 'ndjson', 'json'].includes(flags.format))
    throw invalidArgument('format', flags.format, `invalid format '${flags.format}': expected csv, ndjson or json`);
  checkManifestOutName(flags.out);
  if (opts.remote !== true) checkRootKinds(roots, 'manifest');
  return { roots, spec, out: flags.out, hash: flags.hash ?? false, format: flags.format as ManifestRequest['format'] };
}

function render(rows: readonly ManifestRow[], req: ManifestRequest): string {
  const obj = (r: ManifestRow): Record<string, unknown> => ({
    path: r.entry.path,
    type: r.entry.kind,
    size: r.entry.size,
    mtime: r.entry.mtimeMs === undefined ? null : isoFromMs(r.entry.mtimeMs),
    ...(req.hash ? { sha256: r.sha256 ?? null } : {}),
  });
  switch (req.format) {
    case 'ndjson':
      return rows.map((r) => JSON.stringify(obj(r)) + '\n').join('');
    case 'json':
      return '[' + rows.map((r) => '\n' + JSON.stringify(obj(r))).join(',') + (rows.length ? '\n' : '') + ']\n';
    case 'csv':
      return (
        `path,type,size,mtime${req.hash ? ',sha256' : ''}\n` +
        rows
          .map(
            (r) =>
              `${csvField(r.entry.path)},${r.entry.kind},${r.entry.size ?? ''},${r.entry.mtimeMs === undefined ? '' : isoFromMs(r.entry.mtimeMs)}${req.hash ? ',' + (r.sha256 ?? '') : ''}\n`,
          )
          .join('')
      );
  }
}

/** Lists (and with --hash hashes) a manifest's roots somewhere else: `filer --server` has the cluster do it. */
export type ManifestCollector = () => Promise<ManifestListing>;

/**
 * `filer manifest`: every matching file with size, mtime (and sha256 with --hash), in path order —
 * the use case `runManifestJob` (`@filer/storage/manifest`) lists, hashes and writes; this prints.
 * With `collect` the listing comes from there (a cluster job) and is rendered and written here.
 */
export async function runManifest(
  req: ManifestRequest,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; collect?: ManifestCollector },
): Promise<number> {
  const result = await runManifestJob(
    { roots: req.roots, spec: req.spec, hash: req.hash, ...(req.out === '-' ? {} : { out: req.out }) },
    { native: opts.config.nativeScan, spawnAfterMs: opts.config.spawnAfterMs, listing: opts.collect },
    {
      onError: (e) => {
        if (!opts.quiet) reportPathFailure(ctx, e);
      },
      render: (rows) => render(rows, req),
    },
  );
  if (result.text !== undefined) ctx.stdout(result.text);
  else ctx.stderr(`filer: wrote ${result.rows} entries to ${req.out}\n`);
  return result.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}
