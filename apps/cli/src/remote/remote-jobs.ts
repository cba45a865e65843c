import { ExitCode, formatSize } from '@filer/core';
import { codeOfReason, reportPathFailure, type CliContext } from '../cli-context.js';
import { ApiClient, ApiError, type JobVerb, type RemoteJob } from './api-client.js';
import { findPath } from './find-path.js';
import { followJob } from './follow-job.js';
import { RemoteProgressLine } from './remote-progress.js';
import type { RemoteOptions } from './remote-command.js';

/** As many jobs as the local `jobs list` shows. */
const LIST_LIMIT = 100;

/** Codes for answers whose body named none (a proxy's, say). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'E_INVALID_ARGUMENT',
  401: 'E_UNAUTHORIZED',
  403: 'E_FORBIDDEN',
  404: 'E_NOT_FOUND',
  409: 'E_CONFLICT',
  429: 'E_TOO_MANY_REQUESTS',
};

/** One job per line, as the local list prints it; a job that was never applied shows its plan or scan counts instead. */
function line(j: RemoteJob): string {
  const when = j.createdAt ?? '';
  const a = j.apply;
  const counts =
    a !== undefined
      ? `done ${a.done}, failed ${a.failed}, pending ${a.pending}, undone ${a.undone}`
      : j.plan !== undefined
        ? `planned ${j.plan.actions}, conflicts ${j.plan.conflicts}`
        : `matched ${j.counters.matched}, errors ${j.counters.errors}`;
  return `${j.id}  ${j.kind.padEnd(6)} ${j.state.padEnd(9)} ${when}  ${counts}\n`;
}

interface ActionRecord {
  action?: string;
  source: string;
  target: string;
  state?: string;
  reason?: string;
  detail?: string;
  /** A dedupe step's kept file (its report line). */
  kept?: string;
  /** A dedupe plan's group record: its copies. */
  copies?: { action: string; copy: string; target?: string }[];
}

/**
 * A report or plan line of a rename/copy/move, as `jobs show` prints an action; a dedupe step names
 * its op and the kept file as the local `jobs show` does, and a dedupe plan's group is a line per copy.
 */
function actionLine(text: string): string {
  const a = JSON.parse(text) as ActionRecord;
  if (a.copies !== undefined)
    return a.copies
      .map((c) => `${'planned'.padEnd(8)} ${c.action} ${c.copy} ⇒ ${a.kept}${c.target ? `  (copy kept at ${c.target})` : ''}\n`)
      .join('');
  if (a.action === 'skip') return `${'skipped'.padEnd(8)} ${a.reason}\n`;
  const state = a.state ?? (a.action === 'conflict' ? 'conflict' : 'planned');
  const why = a.reason ?? a.detail;
  const what =
    a.kept === undefined
      ? `${a.source} → ${a.target}`
      : `${a.action} ${a.source} ⇒ ${a.kept}${a.target ? `  (copy kept at ${a.target})` : ''}`;
  return `${state.padEnd(8)} ${what}${why ? `  (${why})` : ''}\n`;
}

/** The record's lines, then its actions when the API has them (a plan, or the report once applied). */
async function show(client: ApiClient, job: RemoteJob, ndjson: boolean, ctx: CliContext): Promise<void> {
  const actions: string[] = [];
  if (job.plan !== undefined) {
    try {
      for await (const l of client.results(job.id)) actions.push(l);
    } catch (e) {
      // 409: no plan or report to read in this state (queued, applying, cancelled); the record is all there is.
      if (!(e instanceof ApiError && e.status === 409)) throw e;
    }
  }
  if (ndjson) {
    ctx.stdout(JSON.stringify({ job }) + '\n' + actions.map((a) => a + '\n').join(''));
    return;
  }
  ctx.stdout(
    line(job) +
      (job.message ? `${'message'.padEnd(8)} ${job.message}${job.code ? ` [${job.code}]` : ''}\n` : '') +
      job.errorSample.map((e) => `${'omitted'.padEnd(8)} ${e.path}  (${e.message} [${e.code}])\n`).join('') +
      actions.map(actionLine).join('') +
      // A find, manifest or dupes job's results are files, not actions: where to read them.
      (job.plan === undefined && job.results !== undefined
        ? `${'results'.padEnd(8)} ${job.results} at ${client.base}/v1/jobs/${job.id}/results\n`
        : ''),
  );
}

/**
 * Asks the API to resume, undo or cancel a job, follows it to its end, and reports it as the local
 * verbs do: each file that failed (for an undo: each it could not put back), then the counts.
 */
async function act(client: ApiClient, id: string, verb: JobVerb, opts: RemoteOptions, ctx: CliContext): Promise<number> {
  const progress = new RemoteProgressLine(ctx.stderr, opts.progress);
  let job: RemoteJob;
  try {
    await client.act(id, verb);
    progress.start();
    job = await followJob(client, id, verb !== 'cancel', progress.update);
  } finally {
    progress.stop();
  }
  if (!opts.quiet) for (const e of job.errorSample) reportPathFailure(ctx, e);
  let failed = 0;
  if (job.apply !== undefined && verb !== 'purge' && ['completed', 'failed', 'undone'].includes(job.state)) {
    for await (const l of client.results(id)) {
      const a = JSON.parse(l) as { source: string; target: string; state: string; reason?: string };
      // An undo answers for what it could not put back, not for what failed when the job was applied.
      const bad = verb === 'undo' ? a.state === 'done' && (a.reason?.startsWith('undo:') ?? false) : a.state === 'failed';
      if (!bad) continue;
      failed++;
      if (!opts.quiet)
        reportPathFailure(ctx, { jobId: id, path: a.source, target: a.target, code: codeOfReason(a.reason), message: a.reason ?? '' });
    }
  }
  const c = job.apply;
  const p = job.purge;
  ctx.stderr(
    `filer: job ${id} ${job.state}` +
      (verb === 'purge' && p
        ? `: ${p.removed} quarantined copies (${formatSize(p.bytes)}) deleted, ${p.left} left`
        : c
          ? `: ${c.done} done, ${c.undone} undone, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending`
          : '') +
      '\n',
  );
  const wanted = verb === 'undo' ? 'undone' : verb === 'cancel' ? 'cancelled' : verb === 'purge' ? 'purged' : 'completed';
  if (job.state !== wanted) {
    // Stopped (a full disk, Redis' state lost) or cancelled meanwhile: as a local job stopped midway.
    if (job.message) ctx.stderr(`filer: ${job.message}${job.code ? ` [${job.code}]` : ''}\n`);
    return ExitCode.Aborted;
  }
  return failed > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

/** An answer of the API that refused the request, as one line with its code; bad input (id, token, scope) is exit 2. */
function refused(e: ApiError, id: string | undefined, server: string, ctx: CliContext): number {
  const code = e.code ?? CODE_BY_STATUS[e.status] ?? 'E_API';
  const text =
    e.status === 404 && id !== undefined && !id.includes('/')
      ? `no job '${id}' on ${server} (see filer --server ${server} jobs list)`
      : e.message;
  ctx.stderr(`filer: ${text} [${code}]\n`);
  return [400, 401, 403, 404].includes(e.status) ? ExitCode.InvalidInput : ExitCode.Aborted;
}

/**
 * `filer --server URL jobs list|show|resume|undo|cancel|delete|find-path`: the cluster's jobs through its API,
 * with the same verbs, lines and exit codes as the jobs of this machine's journal (`delete [--force]`:
 * the cluster's only, it removes a finished job's record, results and journals; `find-path PATH`:
 * the cluster's only, what its jobs did to a path).
 */
export async function runRemoteJobs(
  ctx: CliContext,
  verb: string,
  id: string | undefined,
  format: string,
  opts: RemoteOptions,
  flags: { force?: boolean } = {},
): Promise<number> {
  const verbs = ['list', 'show', 'resume', 'undo', 'purge', 'cancel', 'delete', 'find-path'];
  if (!verbs.includes(verb)) {
    ctx.stderr(`filer: jobs: unknown jobs command '${verb}': expected ${verbs.join(', ')}\n`);
    return ExitCode.InvalidInput;
  }
  if (verb !== 'list' && (id === undefined || id === '')) {
    ctx.stderr(
      verb === 'find-path'
        ? 'filer: path: jobs find-path needs the path of a file\n'
        : `filer: id: jobs ${verb} needs a job id (see filer --server URL jobs list)\n`,
    );
    return ExitCode.InvalidInput;
  }
  const client = new ApiClient(opts.server, opts.token);
  try {
    if (verb === 'list') {
      const jobs = await client.list(LIST_LIMIT);
      ctx.stdout(jobs.map((j) => (format === 'ndjson' ? JSON.stringify(j) + '\n' : line(j))).join(''));
      return ExitCode.Ok;
    }
    if (verb === 'show') {
      await show(client, await client.get(id!), format === 'ndjson', ctx);
      return ExitCode.Ok;
    }
    if (verb === 'find-path') return await findPath(client, id!, format === 'ndjson', ctx);
    if (verb === 'delete') {
      await client.remove(id!, flags.force === true);
      if (!opts.quiet) ctx.stderr(`filer: job ${id} deleted (record, results and journals)\n`);
      return ExitCode.Ok;
    }
    return await act(client, id!, verb as JobVerb, opts, ctx);
  } catch (e) {
    if (e instanceof ApiError && e.status !== 0) return refused(e, id, client.base, ctx);
    throw e;
  }
}
