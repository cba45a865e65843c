import { FilerError } from '@filer/core';
import type { FileOps, JobRecord, Journal, JournalAction } from './batch-types.js';
import { sameInode, sameVersion, type FileStat } from './file-identity.js';
import type { FaultHook } from './fault-steps.js';
import { BATCH, errnoOf, type Outcome, type Update } from './action-outcome.js';
import { assertNotDedupe, type ApplyReport } from './apply-job.js';
import { journalActions, SampledActions, type ActionSample } from './journal-pages.js';
import { ProgressCounter, type OnBatchProgress } from './batch-progress.js';

/** The stat of `p`, or undefined where it cannot be reached now (a directory on its path swapped). */
async function statOrNone(ops: FileOps, p: string): Promise<FileStat | undefined> {
  try {
    return await ops.stat(p);
  } catch {
    return undefined;
  }
}

export interface UndoOptions {
  fault?: FaultHook;
  /** Each action that could not be put back, as it is met (the report keeps a count and the first few). */
  onFailure?(a: JournalAction): void;
  /** Each copy kept beside a source that changed after it was copied (see ApplyReport.keptCopies). */
  onKept?(a: JournalAction): void;
  /** Files and bytes put back (or tried) of the done actions' total, after each one. */
  onProgress?: OnBatchProgress;
}

/**
 * Puts back a job's done actions, newest first and a page at a time (an action put back is behind
 * the cursor), with `undoOne`; outcomes are journaled BATCH at a time, each batch's resources then
 * released. Returns the actions still done (not put back): a count and the first few.
 */
export async function undoDoneActions(
  job: JobRecord,
  journal: Journal,
  undoOne: (a: JournalAction) => Promise<Outcome>,
  opts: Pick<UndoOptions, 'fault' | 'onFailure' | 'onProgress'> & { release?: () => Promise<void> | void },
): Promise<ActionSample> {
  const notBack = new SampledActions(opts.onFailure);
  let updates: Update[] = [];
  const progress = new ProgressCounter(opts.onProgress, () => journalActions(journal, job.id, { states: ['done'] }));
  for (const a of journalActions(journal, job.id, { states: ['done'], reverse: true })) {
    const outcome = await undoOne(a);
    progress.add([a]);
    updates.push({ seq: a.seq, ...outcome, targetId: a.targetId });
    Object.assign(a, outcome);
    if (a.state === 'done') notBack.add(a);
    opts.fault?.('mid-undo');
    if (updates.length >= BATCH) {
      journal.record(job.id, updates);
      updates = [];
      await opts.release?.();
    }
  }
  journal.record(job.id, updates);
  return notBack.value;
}

/**
 * Undoes a job's done actions in reverse order under the same rules: files go back only where
 * nothing now stands, and only a file this job put at a target (its recorded identity) is moved
 * back or deleted — a file changed since, or a stranger, is reported and left in place. The
 * directories the job created are removed when empty. Running it again continues where it stopped.
 */
export async function undoJob(job: JobRecord, journal: Journal, ops: FileOps, opts: UndoOptions = {}): Promise<ApplyReport> {
  assertNotDedupe(job);
  // An apply cut short (or still running) has done things its journal does not show yet — a name
  // linked but its source not yet removed, say: undo acts on done actions only, so it would leave
  // those behind and mark the job undone, after which it could not be resumed either.
  if (job.state === 'applying')
    throw new FilerError(
      'E_INVALID_ARGUMENT',
      `job ${job.id} was cut short while it was applied (or is being applied now): resume it first (\`filer jobs resume ${job.id}\`), then undo it`,
      { field: 'id', value: job.id },
    );
  journal.setJobState(job.id, 'undoing', undefined);
  const tmpTag = `filer-${job.id}-undo`;
  const notBack = await undoDoneActions(job, journal, (a) => undoOne(job, a, ops, tmpTag), { ...opts, release: ops.release?.bind(ops) });
  const kept = new SampledActions(opts.onKept);
  try {
    for (const a of journalActions(journal, job.id, { states: ['failed'] })) {
      if (a.targetId === undefined) continue;
      const t = await statOrNone(ops, a.target);
      if (t !== undefined && sameVersion(t, a.targetId)) kept.add(a);
    }
    for (const dir of [...job.createdDirs].reverse()) await ops.removeEmptyDir(dir);
  } finally {
    await ops.release?.();
  }
  const keptCopies = kept.value;
  const left = journal.get(job.id)!.counts.done > 0;
  const reason = left
    ? 'some files could not be put back (see each action)'
    : keptCopies.count > 0
      ? `${keptCopies.count} copies the job made are kept: their sources changed after they were copied`
      : undefined;
  journal.setJobState(job.id, left ? 'failed' : 'undone', reason);
  return { job: journal.get(job.id)!, failures: notBack, ...(keptCopies.count > 0 ? { keptCopies } : {}) };
}

async function undoOne(
  job: JobRecord,
  a: JournalAction,
  ops: FileOps,
  tmpTag: string,
): Promise<{ state: JournalAction['state']; reason?: string }> {
  try {
    const t = await ops.stat(a.target);
    const ours = t !== undefined && a.targetId !== undefined && sameVersion(t, a.targetId);
    if (job.kind === 'copy') {
      if (!t) return { state: 'undone' };
      if (!ours) return { state: 'done', reason: 'undo: the copy changed since it was made; kept' };
      await ops.unlinkIf(a.target, a.targetId!, 'version');
      return { state: 'undone' };
    }
    const s = await ops.stat(a.source);
    if (!t) {
      // Put back before a crash: the file at the original path is the one this job moved.
      const back = s !== undefined && a.targetId !== undefined && (sameInode(s, a.targetId) || s.size === a.targetId.size);
      return back ? { state: 'undone' } : { state: 'done', reason: 'undo: the moved file is gone' };
    }
    if (!ours)
      return {
        state: 'done',
        reason: 'undo: the file at the target changed since it was moved there (or is not this job’s); left in place',
      };
    if (s && sameInode(s, t)) {
      await ops.unlinkIf(a.target, a.targetId!, 'inode');
      return { state: 'undone' };
    }
    // A copy back across devices that was linked into place before a crash: finish it.
    if (s && !s.symlink && (await ops.sameContent(a.source, a.target))) {
      await ops.unlinkIf(a.target, a.targetId!, 'version');
      return { state: 'undone' };
    }
    if (s) return { state: 'done', reason: 'undo: something now stands at the original path; not overwritten' };
    // A copy back cut short by a crash left its temporary name: start that copy again.
    await ops.removeTemps(a.source, tmpTag);
    await ops.ensureParent(a.source);
    await ops.move(a.target, a.source, { overwrite: false, verify: job.options.verify, tmpTag, expect: a.targetId! });
    return { state: 'undone' };
  } catch (e) {
    return { state: 'done', reason: `undo: ${errnoOf(e)}` };
  }
}
