import { ExitCode, FilerError, formatSize } from '@filer/core';
import {
  applyJob,
  assertJournalFormat,
  csvField,
  journalActions,
  undoJob,
  parseFailureLimit,
  type FaultHook,
  type FileOps,
  type JobRecord,
  type JournalAction,
} from '@filer/engine';
import { openDedupeStore, openSink, type DedupeStore } from '@filer/storage';
import { defaultStatePath, openStateDb, SqliteJournal } from '@filer/storage/state';
import { codeOfReason, reportPathFailure, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { batchProgressLine, type ProgressMode } from '../progress.js';
import { faultWiring, reportApply, streamedFailures } from './batch-runner.js';

function line(j: JobRecord): string {
  const c = j.counts;
  return `${j.id}  ${j.kind.padEnd(6)} ${j.state.padEnd(9)} ${new Date(j.createdAt).toISOString()}  done ${c.done}, failed ${c.failed}, pending ${c.pending}, undone ${c.undone}\n`;
}

/**
 * The file operations a job's journal needs, from the sink of its sources and targets: S3's when
 * any action reads or writes an `s3://` key (they handle local paths too), else local ones.
 */
async function opsForJob(
  actions: readonly { source: string; target: string }[],
  config: CliConfig,
  copyFault?: FaultHook,
): Promise<{ ops: FileOps; close(): void }> {
  const sink = await openSink(
    actions.map((a) => a.source),
    actions.map((a) => a.target),
    { native: config.nativeScan },
  );
  return { ops: sink.ops(copyFault), close: () => sink.close() };
}

/** `filer jobs list|show|resume|undo`: the CLI's job records and their journals. */
export async function runJobs(
  ctx: CliContext,
  verb: string,
  id: string | undefined,
  opts: { statePath?: string; format: string; config: CliConfig; spaceCheck?: boolean; progress?: ProgressMode; maxFailures?: string },
): Promise<number> {
  const maxFailures = opts.maxFailures === undefined ? undefined : parseFailureLimit(opts.maxFailures);
  // A local job runs in its own process: only a cluster's job is cancelled by a verb.
  const cancelHint = 'jobs cancel steers a cluster job: give --server URL (or FILER_SERVER); a local job stops with Ctrl-C';
  if (verb === 'cancel') throw new FilerError('E_INVALID_ARGUMENT', cancelHint, { field: 'jobs', value: verb });
  // The index of every per-item outcome is the cluster's job database; the CLI's journal has no such index.
  if (verb === 'find-path')
    throw new FilerError('E_INVALID_ARGUMENT', 'jobs find-path asks a cluster with a job database: give --server URL (or FILER_SERVER)', {
      field: 'jobs',
      value: verb,
    });
  const db = openStateDb(opts.statePath ?? defaultStatePath());
  try {
    const journal = new SqliteJournal(db);
    if (verb !== 'show' && opts.format === 'csv')
      throw new FilerError('E_INVALID_ARGUMENT', `--format csv is the per-item report of jobs show, not of jobs ${verb}`, {
        field: 'format',
        value: 'csv',
      });
    if (verb === 'list') {
      ctx.stdout(
        journal
          .list(100)
          .map((j) => (opts.format === 'ndjson' ? JSON.stringify(j) + '\n' : line(j)))
          .join(''),
      );
      return ExitCode.Ok;
    }
    if (id === undefined) throw new FilerError('E_INVALID_ARGUMENT', `jobs ${verb} needs a job id (see filer jobs list)`, { field: 'id' });
    const job = journal.get(id);
    if (job === undefined) throw new FilerError('E_NOT_FOUND', `no job '${id}' (see filer jobs list)`, { field: 'id', value: id });
    switch (verb) {
      case 'show': {
        // The actions a page at a time (journalActions): a job of millions is never held whole.
        const each = (fmt: (a: JournalAction) => string): void => {
          let chunk = '';
          for (const a of journalActions(journal, id)) {
            chunk += fmt(a);
            if (chunk.length >= 1 << 16) {
              ctx.stdout(chunk);
              chunk = '';
            }
          }
          if (chunk !== '') ctx.stdout(chunk);
        };
        if (opts.format === 'ndjson') {
          ctx.stdout(JSON.stringify({ job }) + '\n');
          each((a) => JSON.stringify(a) + '\n');
        } else if (opts.format === 'csv') {
          // The per-item report: every action with its outcome and, where it did not succeed, the code.
          ctx.stdout('seq,kind,state,code,source,target,size,reason\n');
          each(
            (a) =>
              [a.seq, job.kind, a.state, a.reason === undefined ? '' : codeOfReason(a.reason), a.source, a.target, a.size, a.reason ?? '']
                .map((v) => csvField(String(v)))
                .join(',') + '\n',
          );
        } else {
          ctx.stdout(
            line(job) +
              (job.pathErrors ?? []).map((e) => `${'omitted'.padEnd(8)} ${e.path}  (${e.message} [${e.code}])\n`).join('') +
              (job.pathErrorCount === undefined
                ? ''
                : `${'omitted'.padEnd(8)} … ${job.pathErrorCount - (job.pathErrors?.length ?? 0)} more paths (reported when the job was planned)\n`),
          );
          each((a) => `${a.state.padEnd(8)} ${describeAction(a)}${a.reason ? `  (${a.reason})` : ''}\n`);
        }
        return ExitCode.Ok;
      }
      case 'purge':
        return await purge(ctx, job, journal, opts.config);
      case 'resume':
      case 'retry':
      case 'undo': {
        const again = verb === 'resume' ? 'resumed' : 'retried';
        if (verb !== 'undo' && (job.state === 'undone' || job.state === 'undoing'))
          throw new FilerError('E_INVALID_ARGUMENT', `job ${id} was undone; it cannot be ${again}`, { field: 'id', value: id });
        if (verb !== 'undo' && job.state === 'purged')
          throw new FilerError('E_INVALID_ARGUMENT', `job ${id} had its quarantine purged; it cannot be ${again}`, {
            field: 'id',
            value: id,
          });
        if (verb === 'retry' && job.state === 'applying')
          throw new FilerError('E_INVALID_ARGUMENT', `job ${id} was cut short while it was applied: resume it (filer jobs resume ${id})`, {
            field: 'id',
            value: id,
          });
        if (verb === 'retry' && job.kind === 'dedupe')
          throw new FilerError('E_INVALID_ARGUMENT', `job ${id} is a dedupe job: filer jobs resume ${id} tries its failed actions again`, {
            field: 'id',
            value: id,
          });
        assertJournalFormat(job, verb === 'undo' ? 'undo' : 'resume');
        const { fault, copyFault } = faultWiring(opts.config);
        if (job.kind === 'dedupe') {
          const store = await dedupeStoreOf(journal, id, opts.config, copyFault);
          try {
            return verb === 'resume'
              ? reportApply(ctx, await store.apply(job, journal, { retryFailed: true, fault, ...streamedFailures(ctx, id) }))
              : reportApply(ctx, await store.undo(job, journal, { fault, ...streamedFailures(ctx, id, 'undo') }));
          } finally {
            store.close();
          }
        }
        // A job is all local or reaches S3 in every action (one sink per job): its first action says which.
        const { ops, close } = await opsForJob(journal.actionPage(id, { limit: 1 }), opts.config, copyFault);
        const line = batchProgressLine(ctx.stderr, opts.progress ?? 'off', verb);
        try {
          return verb !== 'undo'
            ? reportApply(
                ctx,
                await applyJob(job, journal, ops, {
                  retryFailed: true,
                  onlyFailed: verb === 'retry',
                  maxFailures,
                  fault,
                  spaceCheck: opts.spaceCheck,
                  onProgress: line.onProgress,
                  ...streamedFailures(ctx, id),
                }),
              )
            : reportApply(
                ctx,
                await undoJob(job, journal, ops, { fault, onProgress: line.onProgress, ...streamedFailures(ctx, id, 'undo') }),
              );
        } finally {
          line.stop();
          close();
        }
      }
      default:
        throw new FilerError('E_INVALID_ARGUMENT', `unknown jobs command '${verb}': expected list, show, resume, retry, undo or purge`, {
          field: 'jobs',
          value: verb,
        });
    }
  } finally {
    db.close();
  }
}

/** One action as `jobs show` lists it: a dedupe step names its op and the kept file. */
function describeAction(a: JournalAction): string {
  if (a.dedupe === undefined) return `${a.source} → ${a.target}`;
  const where = a.target === '' ? '' : `  (copy kept at ${a.target})`;
  return `${a.dedupe.op} ${a.source} ⇒ ${a.dedupe.kept}${where}`;
}

/** A dedupe job's files are all local or all on S3: its first action's copy says which. */
function dedupeStoreOf(journal: SqliteJournal, id: string, config: CliConfig, copyFault?: FaultHook): Promise<DedupeStore> {
  const first = journal.actionPage(id, { limit: 1 });
  return openDedupeStore(
    first.map((a) => a.source),
    { native: config.nativeScan, copyFault },
  );
}

/** `filer jobs purge ID`: deletes a dedupe job's quarantined copies, naming each one. */
async function purge(ctx: CliContext, job: JobRecord, journal: SqliteJournal, config: CliConfig): Promise<number> {
  const store = await dedupeStoreOf(journal, job.id, config);
  let report;
  try {
    report = await store.purge(job, journal, {
      onRemoved: (p, size) => ctx.stdout(`removed ${p}  (${formatSize(size)})\n`),
      onLeft: (p, why) => reportPathFailure(ctx, { jobId: job.id, path: p, code: 'E_CHANGED', message: `purge: ${why}` }),
    });
  } finally {
    store.close();
  }
  ctx.stderr(
    `filer: job ${job.id} purged: ${report.removed} quarantined copies deleted (${formatSize(report.bytes)}), ${report.left} left\n`,
  );
  return report.left > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}
