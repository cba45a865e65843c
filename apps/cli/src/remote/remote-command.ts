import * as path from 'node:path';
import { ExitCode, FilerError, formatSize, invalidArgument, type FileEntry, type JobSpecInput } from '@filer/core';
// Loads zod: fine here, this module is imported only for --server.
import { parseJobSpec } from '@filer/core/schema';
import {
  DUPES_CSV_HEADER,
  dupeGroupToCsv,
  dupeGroupToJson,
  dupeGroupToText,
  dupesSummaryText,
  formatRecord,
  RecordWriter,
  sortEntries,
  type DupeGroup,
  type FindFormat,
  type SortKey,
} from '@filer/engine';
import { isS3Uri } from '@filer/storage';
import { filterInputFromFlags } from '../filter-flags.js';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import { ApiClient, ApiError, type RemoteJob } from './api-client.js';
import { followJob } from './follow-job.js';
import { printDedupePlan } from './remote-dedupe.js';
import { RemoteProgressLine } from './remote-progress.js';

export type RemoteKind = 'find' | 'dupes' | 'rename' | 'copy' | 'move' | 'manifest';

export interface RemoteOptions {
  server: string;
  token?: string;
  progress: boolean;
  quiet: boolean;
}

type Flags = Record<string, unknown>;

/** A local path made absolute for the server; an `s3://` URI is sent as written. */
const absolute = (p: string): string => (isS3Uri(p) ? p : path.resolve(p));

/** A repeatable flag's values, or undefined when it was not given. */
const nonEmpty = (v: unknown): string[] | undefined => (Array.isArray(v) && v.length > 0 ? (v as string[]) : undefined);

/** The job a command line asks for, as the API takes it. Roots and --dest become absolute: the server has no working directory of ours. */
export function remoteSpec(kind: RemoteKind, roots: string[], flags: Flags): JobSpecInput {
  const options: Record<string, unknown> = {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined && value !== false) options[key] = value;
  };
  switch (kind) {
    case 'find':
      set('format', flags.format);
      break;
    case 'manifest':
      // `--hash` is a flag here: a manifest's hash column is sha256.
      set('hash', flags.hash === true ? 'sha256' : undefined);
      break;
    case 'dupes':
      set('hash', flags.hash);
      set('includeEmpty', flags.includeEmpty);
      // --action and its flags: checked by the API as the CLI checks them (roots and directories on the server's side).
      set('action', flags.action);
      set('keep', nonEmpty(flags.keep));
      set('reference', nonEmpty(flags.reference)?.map(absolute));
      set('isolate', flags.isolate);
      set('ignorePerms', flags.ignorePerms);
      set('moveTo', typeof flags.moveTo === 'string' && flags.moveTo !== '' ? absolute(flags.moveTo) : flags.moveTo);
      break;
    case 'rename':
      set('to', flags.to);
      set('replace', flags.replace);
      set('with', flags.with);
      set('onConflict', flags.onConflict);
      break;
    case 'copy':
    case 'move':
      set('dest', typeof flags.dest === 'string' && flags.dest !== '' ? absolute(flags.dest) : undefined);
      set('flatten', flags.flatten);
      set('verify', flags.verify);
      set('onConflict', flags.onConflict);
      // The cluster's workers always make a copy durable before its name appears.
      if (flags.fsync === false)
        throw invalidArgument('fsync', 'false', '--no-fsync applies to local copies: a cluster copy is always durable');
      break;
  }
  return {
    kind,
    roots: roots.map(absolute),
    filter: filterInputFromFlags(flags as never),
    options,
    apply: flags.apply === true,
  };
}

/** Submits a job, shows its progress on stderr until it settles, and prints its sample of per-path errors. */
async function submitAndFollow(input: JobSpecInput, opts: RemoteOptions, ctx: CliContext): Promise<{ client: ApiClient; job: RemoteJob }> {
  parseJobSpec(input); // bad flags fail here, before any request, naming the flag
  const client = new ApiClient(opts.server, opts.token);
  const progress = new RemoteProgressLine(ctx.stderr, opts.progress);
  let job: RemoteJob;
  try {
    const submitted = await client.submit(input);
    progress.start();
    job = await followJob(client, submitted.id, input.apply === true, progress.update);
  } catch (e) {
    if (e instanceof ApiError && e.status === 400)
      throw new FilerError('E_INVALID_ARGUMENT', e.message, { field: e.field?.replace(/^(filter|options)\./, '') });
    throw e;
  } finally {
    progress.stop();
  }
  if (!opts.quiet) for (const e of job.errorSample) reportPathFailure(ctx, e);
  return { client, job };
}

/** A find record as the API streams it, back as the entry it was printed from. */
function recordToEntry(line: string): FileEntry {
  const r = JSON.parse(line) as { path: string; type: FileEntry['kind']; size: number | null; mtime: string | null };
  return { path: r.path, kind: r.type, size: r.size ?? undefined, mtimeMs: r.mtime === null ? undefined : Date.parse(r.mtime) };
}

/**
 * The listing of a manifest, made by the cluster: a manifest job's entries and its error count.
 * The CLI then sorts, renders and writes them exactly as an in-process manifest.
 */
export async function collectRemote(
  roots: string[],
  flags: Flags,
  opts: RemoteOptions,
  ctx: CliContext,
): Promise<{ entries: FileEntry[]; errors: number; sha256?: Map<string, string> }> {
  const { client, job } = await submitAndFollow(remoteSpec('manifest', roots, flags), opts, ctx);
  if (job.state !== 'completed')
    throw new FilerError('E_IO', `job ${job.id} ${job.state}${job.message ? `: ${job.message}` : ''}`, { path: roots[0] });
  const entries: FileEntry[] = [];
  // With --hash each record carries its file's sha256 (null where it could not be read: counted in the job's errors).
  const sha256 = flags.hash === true ? new Map<string, string>() : undefined;
  for await (const line of client.results(job.id)) {
    entries.push(recordToEntry(line));
    const hash = sha256 && (JSON.parse(line) as { sha256?: string | null }).sha256;
    if (hash) sha256!.set(entries[entries.length - 1].path, hash);
  }
  return { entries, errors: job.counters.errors, ...(sha256 ? { sha256 } : {}) };
}

/**
 * Runs a command through an API (`--server URL --token T`): the same job, submitted over HTTP,
 * followed on the event stream, and printed by the same formatters as the in-process run.
 */
export async function runRemote(kind: RemoteKind, roots: string[], flags: Flags, opts: RemoteOptions, ctx: CliContext): Promise<number> {
  const input = remoteSpec(kind, roots, flags);
  const { client, job } = await submitAndFollow(input, opts, ctx);
  if (job.state === 'failed' || job.state === 'cancelled') {
    ctx.stderr(`filer: job ${job.id} ${job.state}${job.message ? `: ${job.message}` : ''}\n`);
    if (job.apply === undefined) return ExitCode.Aborted;
  }
  const partial = job.counters.errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  switch (kind) {
    case 'find':
      await printFind(client, job, flags, ctx);
      return partial;
    case 'dupes':
      // With an action, a dupes job is a batch job: its plan, or once applied its report.
      if (flags.action !== undefined) {
        if (job.apply !== undefined) return printBatch(client, job, kind, flags, ctx, partial);
        return printDedupePlan(client, job, (flags.format as string | undefined) ?? 'text', flags.apply === true, ctx);
      }
      await printDupes(client, job, flags, ctx);
      return partial;
    default:
      return printBatch(client, job, kind, flags, ctx, partial);
  }
}

async function printFind(client: ApiClient, job: RemoteJob, flags: Flags, ctx: CliContext): Promise<void> {
  const format = (flags.format as FindFormat | undefined) ?? 'paths';
  const nul = flags.print0 === true;
  const sort = flags.sort as SortKey | undefined;
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (sort === undefined && limit === undefined && !nul && format !== 'json') {
    // The API renders these formats with the same record functions: its bytes are ours.
    for await (const bytes of client.resultBytes(job.id, format)) ctx.stdout(bytes);
    return;
  }
  const writer = new RecordWriter(format, ctx.stdout);
  writer.begin();
  const collected: FileEntry[] = [];
  let emitted = 0;
  let chunk = '';
  for await (const line of client.results(job.id)) {
    const e = recordToEntry(line);
    if (sort !== undefined) {
      collected.push(e);
      continue;
    }
    if (limit !== undefined && emitted >= limit) break;
    emitted++;
    chunk += formatRecord(e, format, nul);
    if (chunk.length > 65536) {
      writer.chunk(chunk);
      chunk = '';
    }
  }
  if (sort !== undefined) {
    sortEntries(collected, sort);
    for (const e of limit === undefined ? collected : collected.slice(0, limit)) chunk += formatRecord(e, format, nul);
  }
  writer.chunk(chunk);
  writer.end();
}

async function printDupes(client: ApiClient, job: RemoteJob, flags: Flags, ctx: CliContext): Promise<void> {
  const format = (flags.format as string | undefined) ?? 'text';
  const algorithm = (flags.hash as string | undefined) ?? 'xxh128';
  let i = 0;
  if (format === 'csv') ctx.stdout(DUPES_CSV_HEADER);
  if (format === 'json') ctx.stdout('{"groups":[');
  for await (const line of client.results(job.id)) {
    const g = JSON.parse(line) as DupeGroup;
    if (format === 'text') ctx.stdout(dupeGroupToText(g));
    else if (format === 'ndjson') ctx.stdout(dupeGroupToJson(g) + '\n');
    else if (format === 'csv') ctx.stdout(dupeGroupToCsv(g, i));
    else ctx.stdout((i > 0 ? ',' : '') + dupeGroupToJson(g));
    i++;
  }
  const d = job.dupes ?? { groups: 0, duplicateFiles: 0, wastedBytes: 0, filesHashed: 0, bytesHashed: 0 };
  const stats = {
    files: job.counters.matched,
    hardLinks: 0,
    emptySkipped: 0,
    candidates: 0,
    sampled: d.filesHashed,
    fullyHashed: 0,
    cacheHits: 0,
    bytesRead: d.bytesHashed,
    groups: d.groups,
    duplicateFiles: d.duplicateFiles,
    wastedBytes: d.wastedBytes,
    errors: job.counters.errors,
  };
  if (format === 'text') ctx.stdout(dupesSummaryText(stats, algorithm));
  if (format === 'json') ctx.stdout(`],"summary":${JSON.stringify({ ...stats, hash: algorithm })}}\n`);
}

async function printBatch(
  client: ApiClient,
  job: RemoteJob,
  kind: RemoteKind,
  flags: Flags,
  ctx: CliContext,
  partial: number,
): Promise<number> {
  const ndjson = flags.format === 'ndjson';
  const applied = job.apply !== undefined;
  if (!applied) {
    // The plan: the same lines the in-process command prints.
    let conflicts = 0;
    for await (const line of client.results(job.id)) {
      const a = JSON.parse(line) as {
        action: string;
        source: string;
        target: string;
        overwrite?: boolean;
        dateSource?: string;
        kind?: string;
        detail?: string;
      };
      if (ndjson) ctx.stdout(line + '\n');
      else if (a.action === 'conflict') {
        conflicts++;
        ctx.stdout(`CONFLICT ${a.kind}: ${a.source} → ${a.target}: ${a.detail}\n`);
      } else ctx.stdout(`${a.source} → ${a.target}${a.overwrite ? '  [overwrite]' : ''}${a.dateSource ? `  [${a.dateSource}]` : ''}\n`);
    }
    const p = job.plan ?? { actions: 0, conflicts, bytes: 0, unchanged: 0, skipped: 0 };
    if (!ndjson)
      ctx.stdout(
        `plan: ${p.actions} to ${kind} (${formatSize(p.bytes)}), ${p.conflicts} conflicts, ${p.unchanged} unchanged, ${p.skipped} skipped` +
          (flags.apply === true ? '\n' : '; nothing changed (add --apply to carry it out)\n'),
      );
    if (p.conflicts > 0) {
      ctx.stderr(`filer: ${p.conflicts} conflicts: nothing was changed (see --on-conflict)\n`);
      return ExitCode.Aborted;
    }
    return partial;
  }
  let failed = 0;
  for await (const line of client.results(job.id)) {
    const a = JSON.parse(line) as { source: string; target: string; state: string; reason?: string };
    if (ndjson) ctx.stdout(line + '\n');
    if (a.state === 'failed') {
      failed++;
      ctx.stderr(`filer: ${a.source} → ${a.target}: ${a.reason}\n`);
    }
  }
  const c = job.apply!;
  ctx.stderr(
    `filer: job ${job.id} ${job.state}: ${c.done} done, ${c.undone} undone, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending\n`,
  );
  if (job.state === 'failed') return ExitCode.Aborted;
  return failed > 0 ? ExitCode.PartialFailure : partial;
}
