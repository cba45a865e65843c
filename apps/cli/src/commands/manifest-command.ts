import { ExitCode, FilerError, invalidArgument, parseFilterSpec, type FileEntry, type FilterSpec } from '@filer/core';
import { comparePaths, csvField, isoFromMs, type HashOutcome } from '@filer/engine';
import { isS3Uri, openSource, parseS3Uri, type WalkSource } from '@filer/storage';
import { nameTaken, writeNewFile } from '@filer/storage/output';
import { checkRootKinds } from './root-kinds.js';
import { collectFrom } from './collect-files.js';
import type { S3ManifestOut } from './s3-manifest.js';
import { filterInputFromFlags } from '../filter-flags.js';
import { reportPathFailure, formatPathError, type CliContext } from '../cli-context.js';
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
  if (isS3Uri(flags.out)) {
    const { key } = parseS3Uri(flags.out, 'out');
    if (key === '' || key.endsWith('/'))
      throw invalidArgument('out', flags.out, `'${flags.out}' names a prefix: give the manifest's key (s3://bucket/path/manifest.csv)`);
  } else if (flags.out !== '-' && nameTaken(flags.out)) {
    throw new FilerError('E_INVALID_ARGUMENT', `'${flags.out}' already exists: filer never overwrites it; choose another name`, {
      field: 'out',
      value: flags.out,
    });
  }
  if (opts.remote !== true) checkRootKinds(roots, 'manifest');
  return { roots, spec, out: flags.out, hash: flags.hash ?? false, format: flags.format as ManifestRequest['format'] };
}

interface Row {
  entry: FileEntry;
  sha256?: string;
}

function render(rows: Row[], req: ManifestRequest): string {
  const obj = (r: Row): Record<string, unknown> => ({
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
export type ManifestCollector = () => Promise<{ entries: FileEntry[]; errors: number; sha256?: ReadonlyMap<string, string> }>;

/**
 * `filer manifest`: every matching file with size, mtime (and sha256 with --hash), in path order.
 * With `collect` the listing comes from there (a cluster job) and is rendered and written here.
 */
export async function runManifest(
  req: ManifestRequest,
  ctx: CliContext,
  opts: { quiet: boolean; config: CliConfig; collect?: ManifestCollector },
): Promise<number> {
  // Where the roots are is decided once, by openSource (it checks S3 roots); an S3 --out is the write side.
  const source = opts.collect === undefined ? await openSource(req.roots, { native: opts.config.nativeScan }) : undefined;
  let s3: S3ManifestOut | undefined;
  try {
    // Only manifests that read or write S3 load the AWS SDK.
    if (isS3Uri(req.out)) s3 = await (await import('./s3-manifest.js')).openS3Manifest(req.out);
    const walked =
      opts.collect !== undefined ? await opts.collect() : await collectFrom(source!, req.spec, ctx, { ...opts, identity: req.hash });
    const entries = walked.entries;
    let errors = walked.errors;
    const report = (e: Parameters<typeof formatPathError>[0]): void => {
      errors++;
      if (!opts.quiet) reportPathFailure(ctx, e);
    };
    entries.sort((a, b) => comparePaths(a.path, b.path));
    const rows: Row[] = entries.map((entry) => ({ entry }));
    const hashed = opts.collect !== undefined ? (walked as Awaited<ReturnType<ManifestCollector>>).sha256 : undefined;
    if (req.hash && hashed !== undefined) {
      // Hashed where they were listed; their failures are in the collector's error count.
      for (const r of rows) if (r.entry.kind === 'file') r.sha256 = hashed.get(r.entry.path);
    } else if (req.hash) {
      const files = rows.filter((r) => r.entry.kind === 'file');
      // A cluster's listing (collect) is hashed here from local paths, as before.
      const from = source ?? (await openSource([], { native: opts.config.nativeScan }));
      const outcomes = await hashFiles(from, files, req);
      outcomes.forEach((o, i) => {
        if ('error' in o) report(o.error);
        else files[i].sha256 = o.hash;
      });
    }
    const text = render(rows, req);
    if (req.out === '-') ctx.stdout(text);
    else {
      if (isS3Uri(req.out)) await s3!.write(req.out, text);
      else {
        try {
          writeNewFile(req.out, text);
        } catch (e) {
          throw new FilerError('E_IO', `cannot write the manifest: ${(e as Error).message}`, { path: req.out, cause: e });
        }
      }
      ctx.stderr(`filer: wrote ${rows.length} entries to ${req.out}\n`);
    }
    return errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  } finally {
    s3?.close();
    source?.close();
  }
}

/** sha256 of the listed files, read from their source (local files on the hashing threads, objects streamed). */
async function hashFiles(source: WalkSource, files: Row[], req: ManifestRequest): Promise<HashOutcome[]> {
  const list = source.dupeFiles();
  list.add(files.map((r) => r.entry));
  const hasher = await source.hasher('sha256', req.spec.follow);
  try {
    return await hasher.hash(list.files, 'full');
  } finally {
    await hasher.close();
  }
}
