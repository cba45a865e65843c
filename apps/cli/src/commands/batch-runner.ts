import { ExitCode, formatSize, type PathError } from '@filer/core';
import {
  applyJob,
  type ApplyReport,
  type BatchKind,
  type FaultHook,
  type MovePlan,
  type MoveRequest,
  type OnConflict,
} from '@filer/engine';
import { faultHook, type BatchSink } from '@filer/storage';
import { defaultStatePath, openStateDb, SqliteJournal } from '@filer/storage/state';
import { codeOfReason, reportPathFailure, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';

/** Extra words shown beside an action in a plan (e.g. where a capture date came from). */
export type Annotate = (source: string) => Record<string, unknown> | undefined;

export interface BatchOptions {
  kind: BatchKind;
  onConflict: OnConflict;
  apply: boolean;
  verify: boolean;
  /** false: copies are not flushed to disk before they are reported done (`copy --no-fsync`). */
  fsync?: boolean;
  /** false: no free-space check before copying (`--no-space-check`). */
  spaceCheck?: boolean;
  format: 'text' | 'ndjson';
  statePath?: string;
  config: CliConfig;
  /** Where the plan is checked and carried out (storage's openSink: the local disk or S3). */
  io: BatchSink;
  /** Paths the walk found but could not plan (EACCES, say): journaled with the job. */
  pathErrors?: readonly PathError[];
  /** Report `pathErrors` here, once the job has an id (the caller held them back: JSON logs). */
  reportPathErrors?: boolean;
}

/**
 * The fault hook FILER_FAULT asks for (crash tests), and the one LocalFileOps gets: only for
 * `mid-copy`, the one step it reaches (armed, it copies half of each file before its copy).
 */
export function faultWiring(config: CliConfig): { fault?: FaultHook; copyFault?: FaultHook } {
  if (config.fault === undefined) return {};
  const fault = faultHook(config.fault);
  return { fault, ...(config.fault.step === 'mid-copy' ? { copyFault: fault } : {}) };
}

/** Plans, prints the plan, and with --apply journals it and carries it out. Returns the exit code. */
export async function runBatch(ctx: CliContext, requests: MoveRequest[], opts: BatchOptions, annotate?: Annotate): Promise<number> {
  const plan = await opts.io.plan(requests, opts.onConflict);
  const note = await opts.io.noClobber?.(opts.apply);
  printPlan(ctx, plan, opts, annotate, note);
  const held = opts.reportPathErrors === true ? (opts.pathErrors ?? []) : [];
  // No job will be made: the held failures are reported without one.
  if (plan.conflicts.length > 0 || !opts.apply || plan.actions.length === 0) for (const e of held) reportPathFailure(ctx, e);
  if (plan.conflicts.length > 0) {
    ctx.stderr(`filer: ${plan.conflicts.length} conflicts: nothing was changed (see --on-conflict)\n`);
    return ExitCode.Aborted;
  }
  if (!opts.apply) return ExitCode.Ok;
  if (plan.actions.length === 0) return ExitCode.Ok;
  const db = openStateDb(opts.statePath ?? defaultStatePath());
  try {
    const journal = new SqliteJournal(db);
    const job = journal.create(
      opts.kind,
      plan.actions.map((a) => ({
        source: a.source,
        target: a.target,
        size: a.size,
        overwrite: a.overwrite === true,
        ...(a.sourceId === undefined ? {} : { sourceId: a.sourceId }),
      })),
      { onConflict: opts.onConflict, verify: opts.verify, ...(opts.fsync === false ? { fsync: false } : {}) },
      opts.pathErrors,
    );
    ctx.stderr(`filer: job ${job.id}: journaled ${plan.actions.length} actions; applying\n`);
    for (const e of held) reportPathFailure(ctx, { ...e, jobId: job.id });
    const { fault, copyFault } = faultWiring(opts.config);
    const ops = opts.io.ops(copyFault);
    return reportApply(ctx, await applyJob(job, journal, ops, { fault, spaceCheck: opts.spaceCheck }));
  } finally {
    db.close();
  }
}

/** Summarises an applied (or resumed, or undone) job; per-file failures go to stderr. */
export function reportApply(ctx: CliContext, report: ApplyReport, mode: 'apply' | 'undo' = 'apply'): number {
  // An undo answers for what it could not put back, not for what failed when the job was applied.
  const failed = report.actions.filter((a) =>
    mode === 'undo' ? a.state === 'done' && (a.reason?.startsWith('undo:') ?? false) : a.state === 'failed',
  );
  for (const a of failed)
    reportPathFailure(ctx, {
      jobId: report.job.id,
      path: a.source,
      target: a.target,
      code: codeOfReason(a.reason),
      message: a.reason ?? '',
    });
  // A copy apply kept beside a changed source is not the undo's to delete: named, left in place.
  for (const a of report.keptCopies ?? [])
    reportPathFailure(ctx, {
      jobId: report.job.id,
      path: a.source,
      target: a.target,
      code: 'E_CHANGED',
      message: 'undo: the copy at the target is kept (its source changed after it was copied); remove it if it is not wanted',
    });
  const c = report.job.counts;
  ctx.stderr(
    `filer: job ${report.job.id} ${report.job.state}: ${c.done} done, ${c.undone} undone, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending\n`,
  );
  if (report.stoppedBy !== undefined) {
    ctx.stderr(`filer: ${report.stoppedBy}\n`);
    return ExitCode.Aborted;
  }
  return failed.length > 0 || (report.keptCopies?.length ?? 0) > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

function printPlan(ctx: CliContext, plan: MovePlan, opts: BatchOptions, annotate?: Annotate, note?: string): void {
  if (opts.format === 'ndjson') {
    const lines = plan.actions.map((a) =>
      JSON.stringify({
        action: opts.kind,
        source: a.source,
        target: a.target,
        size: a.size,
        ...(a.overwrite ? { overwrite: true } : {}),
        ...annotate?.(a.source),
      }),
    );
    const conflicts = plan.conflicts.map((c) => JSON.stringify({ action: 'conflict', ...c }));
    const notes = note === undefined ? [] : [JSON.stringify({ action: 'note', note })];
    ctx.stdout([...lines, ...conflicts, ...notes].map((l) => l + '\n').join(''));
    return;
  }
  const CHUNK = 2048;
  for (let i = 0; i < plan.actions.length; i += CHUNK) {
    ctx.stdout(
      plan.actions
        .slice(i, i + CHUNK)
        .map((a) => {
          const extra = annotate?.(a.source);
          return `${a.source} → ${a.target}${a.overwrite ? '  [overwrite]' : ''}${extra ? `  [${Object.values(extra).join(', ')}]` : ''}\n`;
        })
        .join(''),
    );
  }
  for (const c of plan.conflicts) ctx.stdout(`CONFLICT ${c.kind}: ${c.source} → ${c.target}: ${c.detail}\n`);
  if (note !== undefined) ctx.stdout(`${note}\n`);
  ctx.stdout(
    `plan: ${plan.actions.length} to ${opts.kind} (${formatSize(plan.bytes)}), ${plan.conflicts.length} conflicts, ${plan.unchanged} unchanged, ${plan.skipped} skipped` +
      (opts.apply ? '\n' : '; nothing changed (add --apply to carry it out)\n'),
  );
}
