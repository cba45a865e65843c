import { FilerError } from '@filer/core';
import { JOURNAL_FORMAT, type ActionState, type FileOps, type JobRecord, type Journal, type JournalAction } from './batch-types.js';
import { journalActions, SampledActions, type ActionSample } from './journal-pages.js';
import type { FileIdentity } from './file-identity.js';
import type { FaultHook } from './fault-steps.js';
import { BATCH, done, errnoOf, parentOf, placedAt, type Outcome, type Update } from './action-outcome.js';
import { decide } from './decide-action.js';
import { ProgressCounter, type OnBatchProgress } from './batch-progress.js';
import { overFailureLimit, type FailureLimit } from './failure-limit.js';

export interface ApplyReport {
  job: JobRecord;
  /**
   * The actions that failed in this run (undo: could not be put back): how many, and the first
   * few (every one is in the journal, and was handed to `onFailure` as it came).
   */
  failures: ActionSample;
  /** Set when the job stopped early (disk full): nothing after it was attempted. */
  stoppedBy?: string;
  /**
   * Undo only: copies the job made that are still in place but were never moved into their
   * source's stead (the source changed after it was copied: apply kept both). Undo leaves them.
   */
  keptCopies?: ActionSample;
}

export interface ApplyOptions {
  /** Retry actions that failed before (a resume): deciding from the disk makes that safe. */
  retryFailed?: boolean;
  /** Called at each named step (tests kill the process there: FILER_FAULT). */
  fault?: FaultHook;
  /**
   * false skips the free-space check before the first copy (`--no-space-check`): the job then
   * stops at the first ENOSPC instead, cleanly, as it does when the disk fills up anyway.
   */
  spaceCheck?: boolean;
  /** Each action that fails, as it fails (the report keeps only a count and the first few). */
  onFailure?(a: JournalAction): void;
  /** Files and bytes done of this run's total, after each batch (the totals cost a pass over the journal). */
  onProgress?: OnBatchProgress;
  /** Stop (cleanly, after the batch) once this run's failures pass this limit; resume continues. */
  maxFailures?: FailureLimit;
  /** `jobs retry`: only the actions that failed before, not the pending ones. */
  onlyFailed?: boolean;
}

/**
 * Refuses journals this version cannot act on safely: format 1 kept a rename's paths relative to
 * the directory filer ran in and no file identities, so resuming or undoing it from elsewhere
 * could act on a stranger's file (the journal's actions are still listed by `jobs show`).
 */
export function assertJournalFormat(job: JobRecord, verb: 'resume' | 'undo'): void {
  if (job.format === JOURNAL_FORMAT) return;
  throw new FilerError(
    'E_JOURNAL_FORMAT',
    `job ${job.id} was journaled by an earlier filer (journal format ${job.format}, this filer writes ${JOURNAL_FORMAT}): ` +
      `it recorded no file identities${job.kind === 'rename' ? ' and paths relative to the directory it ran in' : ''}, ` +
      `so it cannot be ${verb === 'resume' ? 'resumed' : 'undone'} without risking someone else's files; ` +
      `\`filer jobs show ${job.id}\` lists what it did`,
    { field: 'id', value: job.id },
  );
}

/** A dedupe job's actions mean something else (applyDedupeJob, undoDedupeJob): never run as moves. */
export function assertNotDedupe(job: JobRecord): void {
  if (job.kind === 'dedupe')
    throw new FilerError('E_INVALID_ARGUMENT', `job ${job.id} is a dedupe job: it is applied and undone by applyDedupeJob/undoDedupeJob`, {
      field: 'id',
      value: job.id,
    });
}

/**
 * Applies (or resumes) a journaled job. Each pending action is decided from what is on disk now,
 * checked against the identities the journal holds, so running it again after a crash finishes
 * the job without doing anything twice and without touching a stranger's file:
 * - source here as planned, target absent → act;
 * - source here but changed since the plan → E_CHANGED, nothing done;
 * - source gone, target here and the one this job put there → it was done;
 * - both here and one inode → the crash fell between link and unlink: drop the source name;
 * - both here, the target this job's copy → a copy was linked into place: drop the source (move);
 * - otherwise the target is someone else's file: fail that action, never overwrite it
 *   (unless the plan said overwrite).
 * Work goes in batches: copies are staged under temporary names, made durable together, then
 * linked into place and journaled; the directories are flushed before any source is removed,
 * and a source is removed only while it is still the file that was copied. A full disk stops
 * the job cleanly (the reason is journaled); other per-file errors fail that file and the rest go on.
 */
export async function applyJob(job: JobRecord, journal: Journal, ops: FileOps, opts: ApplyOptions = {}): Promise<ApplyReport> {
  assertNotDedupe(job);
  // A resume retries failures too (a disk that was full, a permission since fixed): deciding from
  // the disk makes that as safe as the first attempt. Read from the journal a page at a time.
  const states: ActionState[] = opts.onlyFailed === true ? ['failed'] : opts.retryFailed === true ? ['pending', 'failed'] : ['pending'];
  const pending = (): Iterable<JournalAction> => journalActions(journal, job.id, { states });
  const counts = journal.get(job.id)?.counts ?? job.counts;
  const toAttempt = states.reduce((n, s) => n + counts[s], 0);
  journal.setJobState(job.id, 'applying', undefined);
  opts.fault?.('after-journal');
  const tmpTag = `filer-${job.id}`;
  const failures = new SampledActions(opts.onFailure);
  const short = opts.spaceCheck === false ? undefined : await spaceShortfall(job, pending(), ops);
  if (short !== undefined) {
    journal.setJobState(job.id, 'failed', short);
    return { job: journal.get(job.id)!, failures: failures.value, stoppedBy: short };
  }
  let stoppedBy: string | undefined;
  let attempted = 0;
  let failedNow = 0;
  let tooMany = false;
  const progress = new ProgressCounter(opts.onProgress, pending);
  for (const batch of batches(pending())) {
    if (stoppedBy !== undefined || tooMany) break;
    const outcomes = new Map<JournalAction, Outcome>();
    try {
      stoppedBy = await runBatch({ job, ops, tmpTag, journal, fault: opts.fault }, batch, outcomes);
    } finally {
      await ops.release?.();
    }
    attempted += outcomes.size;
    const updates = [...outcomes].map(([a, o]) => ({ seq: a.seq, ...o }));
    for (const [a, o] of outcomes) Object.assign(a, o);
    journal.record(job.id, updates);
    for (const a of outcomes.keys())
      if (a.state === 'failed') {
        failures.add(a);
        failedNow++;
      }
    progress.add(outcomes.keys());
    tooMany = opts.maxFailures !== undefined && overFailureLimit(opts.maxFailures, failedNow, attempted);
  }
  if (stoppedBy !== undefined) stoppedBy += `; ${toAttempt - attempted} files were not attempted (resume after freeing space)`;
  else if (tooMany)
    stoppedBy =
      `${failedNow} of the ${attempted} actions tried failed, more than --max-failures ${opts.maxFailures!.text} allows: the job stopped; ` +
      `${toAttempt - attempted} were not attempted (filer jobs resume ${job.id} continues it)`;
  // Counted by the journal, which holds every outcome (this run's and earlier ones).
  const after = journal.get(job.id)!.counts;
  // A retry of the failed leaves the pending ones as they were: the job is not complete while any is.
  const pendingLeft =
    stoppedBy === undefined && after.pending > 0
      ? `${after.pending} actions are still pending: filer jobs resume ${job.id} carries them out`
      : undefined;
  const anyFailed = after.failed > 0;
  journal.setJobState(
    job.id,
    stoppedBy !== undefined || anyFailed || pendingLeft !== undefined ? 'failed' : 'completed',
    stoppedBy ?? pendingLeft,
  );
  return { job: journal.get(job.id)!, failures: failures.value, stoppedBy };
}

/**
 * Why the copies this job still has to make cannot fit where they go (statfs: bytes, and inodes
 * for the files and directories to create), or undefined. Hard links on one device need neither.
 */
async function spaceShortfall(job: JobRecord, pending: Iterable<JournalAction>, ops: FileOps): Promise<string | undefined> {
  let files = 0;
  let bytes = 0;
  let where: string | undefined;
  // Directories to create, counted once each: remembered up to a bound (a tree of more
  // directories than that may count a shared ancestor twice: a stricter check, never a looser one).
  const dirs = new Set<string>();
  let dirCount = 0;
  const checkInodes = (): boolean => ops.freeInodes !== undefined;
  let lastParent: string | undefined;
  for (const a of pending) {
    if (!(job.kind === 'copy' || (await crossesDevice(ops, a)))) continue;
    files++;
    bytes += a.size;
    where ??= a.target;
    const parent = parentOf(a.target);
    if (!checkInodes() || parent === lastParent) continue;
    lastParent = parent;
    for (const d of await ops.missingParents(parent + '/x')) {
      if (dirs.has(d)) continue;
      if (dirs.size >= DIR_MEMO) dirs.clear();
      dirs.add(d);
      dirCount++;
    }
  }
  if (where === undefined) return undefined;
  const free = bytes > 0 ? await ops.freeBytes(where) : Infinity;
  if (bytes > free) return `not enough free space: ${bytes} bytes to copy, ${free} available at ${parentOf(where)} [ENOSPC]`;
  const freeInodes = await ops.freeInodes?.(where);
  if (freeInodes === undefined) return undefined;
  const inodes = files + dirCount;
  if (inodes > freeInodes)
    return `not enough free inodes: ${files} files and ${dirCount} directories to create, ${freeInodes} inodes available at ${parentOf(where)} [ENOSPC]`;
  return undefined;
}

/** Directories spaceShortfall remembers as counted: per directory, so bounded whatever the file count. */
const DIR_MEMO = 65_536;

/** A full file system (no space or no inodes left), by the errno an operation failed with. */
const isDiskFull = (e: unknown): boolean => ['ENOSPC', 'EDQUOT'].includes((e as { code?: string }).code ?? '');

interface BatchContext {
  job: JobRecord;
  ops: FileOps;
  tmpTag: string;
  journal: Journal;
  fault?: FaultHook;
}

interface Removal {
  a: JournalAction;
  match: 'inode' | 'version';
  expect: FileIdentity;
}

async function runBatch(c: BatchContext, batch: JournalAction[], outcomes: Map<JournalAction, Outcome>): Promise<string | undefined> {
  const { job, ops, tmpTag, journal, fault } = c;
  const toStage: JournalAction[] = [];
  const staged: { a: JournalAction; tmp: string }[] = [];
  const removeSource: Removal[] = [];
  const replaced: JournalAction[] = [];
  // Copies placed for a move, journaled as this job's before any source goes (see after-commit).
  const copiedForMove: Update[] = [];
  let stoppedBy: string | undefined;
  // A full disk (space or inodes) stops the job after this batch, wherever it was met: making a
  // directory, copying, linking into place. The actions not attempted yet stay pending.
  const fail = (a: JournalAction, e: unknown): void => {
    outcomes.set(a, { state: 'failed', reason: errnoOf(e) });
    if (isDiskFull(e)) stoppedBy ??= `disk full while copying ${a.source} to ${a.target}: the job stopped`;
  };
  // A directory on a path that no longer resolves to itself was swapped (for a symlink, say)
  // since the plan resolved it: nothing is done through it.
  const moved = await ops.movedDirs([...new Set(batch.flatMap((a) => [parentOf(a.source), parentOf(a.target)]))]);
  for (const a of batch) {
    if (stoppedBy !== undefined) break;
    try {
      const swapped = [parentOf(a.source), parentOf(a.target)].find((d) => moved.has(d));
      if (swapped !== undefined) {
        outcomes.set(a, {
          state: 'failed',
          reason: `E_PATH_CHANGED: ${swapped} no longer resolves to itself (a directory was replaced since the plan); nothing done`,
        });
        continue;
      }
      const step = await decide(job, a, ops, tmpTag);
      if ('outcome' in step) outcomes.set(a, step.outcome);
      else if ('unlinkSource' in step) {
        removeSource.push({ a, match: step.unlinkSource, expect: step.expect });
        // A copy an earlier run placed but did not journal, known by its bytes: journaled as ours
        // before its source goes, or a crash after the unlink leaves a target no run can claim.
        if (step.unlinkSource === 'version' && a.targetId === undefined) {
          const placed = await done(ops, a.target);
          copiedForMove.push({ seq: a.seq, state: 'pending', targetId: placed.targetId });
          a.targetId = placed.targetId;
        }
      } else {
        // Journal the directories before making them, so undo can always find them.
        const missing = await ops.missingParents(a.target);
        if (missing.length > 0) journal.addCreatedDirs(job.id, missing);
        await ops.ensureParent(a.target);
        if ('link' in step && (await ops.link(a.source, a.target))) {
          fault?.('after-link');
          removeSource.push({ a, match: 'inode', expect: step.link });
        } else if ('replace' in step && (await ops.replace(a.source, a.target))) {
          fault?.('after-link');
          replaced.push(a); // a rename over the target: the source name is already gone
          outcomes.set(a, await done(ops, a.target));
        } else toStage.push(a);
      }
    } catch (e) {
      fail(a, e);
    }
  }
  if (toStage.length > 0) fault?.('before-copy');
  // Only a copy may skip the flushes: a move removes its sources, which needs its copies durable.
  const durable = job.kind !== 'copy' || job.options.fsync !== false;
  const tmps = await ops.stageMany(
    toStage.map((a) => ({ source: a.source, target: a.target, overwrite: a.overwrite, expect: a.sourceId })),
    tmpTag,
    { durable },
  );
  tmps.forEach((tmp, k) => {
    const a = toStage[k];
    if (typeof tmp === 'string') {
      staged.push({ a, tmp });
      return;
    }
    fail(a, tmp);
  });
  if (staged.length > 0) fault?.('after-stage');
  // Data first, then names: a final name only ever points at durable, verified bytes.
  if (durable) await ops.flushFiles(staged.map((s) => s.tmp));
  if (staged.length > 0) fault?.('after-fsync');
  for (const { a, tmp } of staged) {
    try {
      await ops.commit(tmp, a.source, a.target, { overwrite: a.overwrite, verify: job.options.verify });
      fault?.('after-link');
      const placed = await done(ops, a.target);
      if (job.kind === 'copy') outcomes.set(a, placed);
      else {
        removeSource.push({ a, match: 'version', expect: a.sourceId ?? (await ops.stat(a.source))! });
        copiedForMove.push({ seq: a.seq, state: 'pending', targetId: placed.targetId });
        a.targetId = placed.targetId;
      }
    } catch (e) {
      fail(a, e);
    }
  }
  // A moved file's copy is journaled as this job's before its source goes: after a crash, resume
  // and undo know the file at the target by its identity, not by its name.
  if (copiedForMove.length > 0) {
    journal.record(job.id, copiedForMove);
    fault?.('after-commit');
  }
  if (durable)
    await ops.flushDirs([
      ...new Set([...staged.map((s) => s.a), ...removeSource.map((r) => r.a), ...replaced].map((a) => parentOf(a.target))),
    ]);
  // Only now, with every target in place and durable, do sources go — each only while it is
  // still the file that was copied or linked (a write since would be lost with it).
  for (const { a, match, expect } of removeSource) {
    try {
      fault?.('before-unlink');
      await ops.unlinkIf(a.source, expect, match);
      fault?.('after-unlink');
      outcomes.set(a, await placedAt(ops, a));
    } catch (e) {
      // Both are kept: the copy holds the version planned (the only one left if the change was a
      // truncation), the source whatever was written since. Neither is the job's to drop.
      outcomes.set(a, { ...(await placedAt(ops, a)), state: 'failed', reason: `copied, but the source was not removed: ${errnoOf(e)}` });
    }
  }
  await ops.flushDirs([...new Set([...removeSource.map((r) => r.a), ...replaced].map((a) => parentOf(a.source)))]);
  return stoppedBy;
}

/**
 * Cuts pending actions into batches of at most BATCH. A batch also ends before an action whose
 * target is a source earlier in the same batch (a chain a→b, b→c): sources are removed only at
 * the end of a batch, so the next link must wait for that.
 */
function* batches(pending: Iterable<JournalAction>): Generator<JournalAction[]> {
  let batch: JournalAction[] = [];
  let sources = new Set<string>();
  for (const a of pending) {
    if (batch.length >= BATCH || sources.has(a.target)) {
      yield batch;
      batch = [];
      sources = new Set();
    }
    batch.push(a);
    sources.add(a.source);
  }
  if (batch.length > 0) yield batch;
}

async function crossesDevice(ops: FileOps, a: JournalAction): Promise<boolean> {
  if (ops.needsCopy !== undefined) return ops.needsCopy(a.source, a.target);
  try {
    return await devicesDiffer(ops, a);
  } catch {
    // A path that cannot be reached now (E_PATH_CHANGED, say) fails its own action later.
    return false;
  }
}

async function devicesDiffer(ops: FileOps, a: JournalAction): Promise<boolean> {
  const s = await ops.stat(a.source);
  let dir = a.target;
  for (;;) {
    dir = parentOf(dir);
    const d = await ops.stat(dir);
    if (d) return s !== undefined && d.dev !== s.dev;
    if (dir === '/') return false;
  }
}
