import { ExitCode, formatSize, type PathError } from '@filer/core';
import {
  applyJob,
  type ApplyReport,
  type BatchKind,
  type FaultHook,
  type Conflict,
  type JournalAction,
  type PlannedMove,
  type OnConflict,
  type FailureLimit,
} from '@filer/engine';
import { faultHook, type BatchSink } from '@filer/storage';
import * as path from 'node:path';
import { defaultStatePath, openStateDb, PlanStore, SqliteJournal } from '@filer/storage/state';
import { codeOfReason, reportPathFailure, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { batchProgressLine, type ProgressMode } from '../progress.js';
import { Utf8Chunks } from './utf8-chunks.js';

/** Extra words shown beside an action in a plan (e.g. where a capture date came from). */
export type Annotate = (action: PlannedMove) => Record<string, unknown> | undefined;

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
  /** How many paths were left out in all, when more than `pathErrors` (which holds the first few). */
  pathErrorCount?: number;
  /** Report `pathErrors` here, once the job has an id (the caller held them back: JSON logs). */
  reportPathErrors?: boolean;
  /** How the apply shows its progress on stderr (--progress[=json], or a line when stderr is a terminal). */
  progress?: ProgressMode;
  /** --max-failures: the apply stops once its failures pass this. */
  maxFailures?: FailureLimit;
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

/** A plan as the runner prints and journals it: its totals, and its actions and conflicts streamed from a plan store. */
export interface PlanView {
  totals: { actions: number; bytes: number; conflicts: number; unchanged: number; skipped: number };
  actions(): Iterable<PlannedMove>;
  conflicts(): Iterable<Conflict>;
}

/**
 * Runs `plan` over a new plan store in `plans/` beside the state database, closed (and removed)
 * when it ends, however it ends.
 */
export async function withPlanStore<T>(plan: (store: PlanStore) => Promise<T>): Promise<T> {
  const store = PlanStore.create(path.join(path.dirname(defaultStatePath()), 'plans'));
  try {
    return await plan(store);
  } finally {
    store.close();
  }
}

/** A plan made in a plan store, read back from it as runPlanned prints and journals it. */
export function storedPlan(store: PlanStore, totals: PlanView['totals']): PlanView {
  return { totals, actions: () => store.actions(), conflicts: () => store.conflicts() };
}

/** Prints a plan made, and with --apply journals it (streamed into the journal) and carries it out. */
export async function runPlanned(ctx: CliContext, plan: PlanView, opts: BatchOptions, annotate?: Annotate): Promise<number> {
  const note = await opts.io.noClobber?.(opts.apply);
  printPlan(ctx, plan, opts, annotate, note);
  const { totals } = plan;
  const held = opts.reportPathErrors === true ? (opts.pathErrors ?? []) : [];
  // No job will be made: the held failures are reported without one.
  if (totals.conflicts > 0 || !opts.apply || totals.actions === 0) for (const e of held) reportPathFailure(ctx, e);
  if (totals.conflicts > 0) {
    ctx.stderr(`filer: ${totals.conflicts} conflicts: nothing was changed (see --on-conflict)\n`);
    return ExitCode.Aborted;
  }
  if (!opts.apply) return ExitCode.Ok;
  if (totals.actions === 0) return ExitCode.Ok;
  const db = openStateDb(opts.statePath ?? defaultStatePath());
  try {
    const journal = new SqliteJournal(db);
    const job = journal.create(
      opts.kind,
      journalRows(plan.actions()),
      { onConflict: opts.onConflict, verify: opts.verify, ...(opts.fsync === false ? { fsync: false } : {}) },
      opts.pathErrors,
      opts.pathErrorCount,
    );
    ctx.stderr(`filer: job ${job.id}: journaled ${totals.actions} actions; applying\n`);
    for (const e of held) reportPathFailure(ctx, { ...e, jobId: job.id });
    const { fault, copyFault } = faultWiring(opts.config);
    const ops = opts.io.ops(copyFault);
    const line = batchProgressLine(ctx.stderr, opts.progress ?? 'off', 'apply');
    const report = await applyJob(job, journal, ops, {
      fault,
      spaceCheck: opts.spaceCheck,
      onProgress: line.onProgress,
      maxFailures: opts.maxFailures,
      ...streamedFailures(ctx, job.id),
    }).finally(() => line.stop());
    return reportApply(ctx, report);
  } finally {
    db.close();
  }
}

function* journalRows(actions: Iterable<PlannedMove>): Generator<Omit<JournalAction, 'seq' | 'state'>> {
  for (const a of actions)
    yield {
      source: a.source,
      target: a.target,
      size: a.size,
      overwrite: a.overwrite === true,
      ...(a.sourceId === undefined ? {} : { sourceId: a.sourceId }),
    };
}

/**
 * What apply, resume and undo hand each failure to as it happens: it goes to stderr at once
 * (the report keeps only a count and a few), so a job of any size holds none of them.
 */
export function streamedFailures(ctx: CliContext, jobId: string, mode: 'apply' | 'undo' = 'apply') {
  const report =
    (message: (a: JournalAction) => string, code?: string) =>
    (a: JournalAction): void =>
      reportPathFailure(ctx, { jobId, path: a.source, target: a.target, code: code ?? codeOfReason(a.reason), message: message(a) });
  return {
    onFailure: report((a) => a.reason ?? ''),
    // A copy apply kept beside a changed source is not the undo's to delete: named, left in place.
    ...(mode === 'undo'
      ? {
          onKept: report(
            () => 'undo: the copy at the target is kept (its source changed after it was copied); remove it if it is not wanted',
            'E_CHANGED',
          ),
        }
      : {}),
  };
}

/** Summarises an applied (or resumed, or undone) job; its per-file failures were streamed (streamedFailures). */
export function reportApply(ctx: CliContext, report: ApplyReport): number {
  const c = report.job.counts;
  ctx.stderr(
    `filer: job ${report.job.id} ${report.job.state}: ${c.done} done, ${c.undone} undone, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending\n`,
  );
  if (report.stoppedBy !== undefined) {
    ctx.stderr(`filer: ${report.stoppedBy}\n`);
    return ExitCode.Aborted;
  }
  return report.failures.count > 0 || (report.keptCopies?.count ?? 0) > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

function printPlan(ctx: CliContext, plan: PlanView, opts: BatchOptions, annotate?: Annotate, note?: string): void {
  const out = new Utf8Chunks((data) => ctx.stdout(data));
  const put = (line: string): void => out.put(line + '\n');
  const { totals } = plan;
  if (opts.format === 'ndjson') {
    for (const a of plan.actions())
      put(
        JSON.stringify({
          action: opts.kind,
          source: a.source,
          target: a.target,
          size: a.size,
          ...(a.overwrite ? { overwrite: true } : {}),
          ...annotate?.(a),
        }),
      );
    for (const c of plan.conflicts()) put(JSON.stringify({ action: 'conflict', ...c }));
    if (note !== undefined) put(JSON.stringify({ action: 'note', note }));
    return out.flush();
  }
  for (const a of plan.actions()) {
    const extra = annotate?.(a);
    // Pieces, not one line: see Utf8Chunks.
    out.put(a.source);
    out.put(' → ');
    out.put(a.target);
    put(`${a.overwrite ? '  [overwrite]' : ''}${extra ? `  [${Object.values(extra).join(', ')}]` : ''}`);
  }
  for (const c of plan.conflicts()) put(`CONFLICT ${c.kind}: ${c.source} → ${c.target}: ${c.detail}`);
  if (note !== undefined) put(note);
  put(
    `plan: ${totals.actions} to ${opts.kind} (${formatSize(totals.bytes)}), ${totals.conflicts} conflicts, ${totals.unchanged} unchanged, ${totals.skipped} skipped` +
      (opts.apply ? '' : '; nothing changed (add --apply to carry it out)'),
  );
  out.flush();
}
