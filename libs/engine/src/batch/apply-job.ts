import type { FileOps, JobRecord, Journal, JournalAction } from './batch-types.js';

/** Outcomes are written to the journal in groups this large: the disk, not the journal, is the truth. */
const RECORD_EVERY = 256;

export interface ApplyReport {
  job: JobRecord;
  actions: JournalAction[];
  /** Set when the job stopped early (disk full): nothing after it was attempted. */
  stoppedBy?: string;
}

type Update = Parameters<Journal['record']>[1][number];

function errnoOf(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ? `${err.code}: ${err.message ?? ''}`.trim() : String(e);
}

/**
 * Applies (or resumes) a journaled job: each pending action is decided from what is on disk now,
 * so running it again after a crash finishes the job without doing anything twice:
 * - source here, target absent → act;
 * - source gone, target here → it was done;
 * - both here and one inode → the crash fell between link and unlink: drop the source name;
 * - both here with the same bytes → a copy was linked into place: drop the source (move);
 * - otherwise the target is someone else's file: fail that action, never overwrite it
 *   (unless the plan said overwrite).
 * A full disk stops the job cleanly; other per-file errors fail that file and the rest go on.
 */
export function applyJob(job: JobRecord, journal: Journal, ops: FileOps): ApplyReport {
  const actions = journal.actions(job.id);
  const pending = actions.filter((a) => a.state === 'pending');
  journal.setJobState(job.id, 'applying');
  const tmpTag = `filer-${job.id}`;
  const needCopy = pending.filter((a) => job.kind === 'copy' || crossesDevice(ops, a));
  const bytes = needCopy.reduce((n, a) => n + a.size, 0);
  if (needCopy.length > 0 && bytes > 0) {
    const free = ops.freeBytes(needCopy[0].target);
    if (bytes > free) {
      journal.setJobState(job.id, 'failed');
      return {
        job: journal.get(job.id)!,
        actions,
        stoppedBy: `not enough free space: ${bytes} bytes to copy, ${free} available at ${needCopy[0].target}`,
      };
    }
  }
  let updates: Update[] = [];
  let stoppedBy: string | undefined;
  const flush = (): void => {
    if (updates.length > 0) journal.record(job.id, updates);
    updates = [];
  };
  for (const a of pending) {
    const outcome = decideAndAct(job, a, ops, tmpTag, journal);
    updates.push({ seq: a.seq, ...outcome });
    Object.assign(a, outcome);
    if (outcome.state === 'failed' && outcome.reason?.startsWith('ENOSPC')) {
      stoppedBy = `disk full while copying to ${a.target}: the job stopped; ${pending.length - updates.length} files were not attempted (resume after freeing space)`;
      break;
    }
    if (updates.length >= RECORD_EVERY) flush();
  }
  flush();
  const failed = actions.some((a) => a.state === 'failed');
  journal.setJobState(job.id, stoppedBy !== undefined ? 'failed' : failed ? 'failed' : 'completed');
  return { job: journal.get(job.id)!, actions, stoppedBy };
}

function crossesDevice(ops: FileOps, a: JournalAction): boolean {
  const s = ops.stat(a.source);
  let dir = a.target;
  for (;;) {
    const slash = dir.lastIndexOf('/');
    dir = slash <= 0 ? '/' : dir.slice(0, slash);
    const d = ops.stat(dir);
    if (d) return s !== undefined && d.dev !== s.dev;
    if (dir === '/') return false;
  }
}

function done(ops: FileOps, target: string): Omit<Update, 'seq'> {
  const t = ops.stat(target);
  return { state: 'done', targetIno: t?.ino, targetMtimeMs: t?.mtimeMs };
}

function decideAndAct(job: JobRecord, a: JournalAction, ops: FileOps, tmpTag: string, journal: Journal): Omit<Update, 'seq'> {
  const verify = job.options.verify;
  try {
    ops.removeTemps(a.target, tmpTag);
    const s = ops.stat(a.source);
    const t = ops.stat(a.target);
    if (job.kind === 'copy') {
      if (!s) return { state: 'failed', reason: 'source missing' };
      if (t) {
        if (ops.sameContent(a.source, a.target)) return done(ops, a.target);
        if (!a.overwrite) return { state: 'failed', reason: 'target exists (not overwritten)' };
      } else journal.addCreatedDirs(job.id, ops.ensureParent(a.target));
      ops.copy(a.source, a.target, { overwrite: a.overwrite, verify, tmpTag });
      return done(ops, a.target);
    }
    if (s && !t) {
      journal.addCreatedDirs(job.id, ops.ensureParent(a.target));
      ops.move(a.source, a.target, { overwrite: false, verify, tmpTag });
      return done(ops, a.target);
    }
    if (!s && t) return done(ops, a.target);
    if (!s && !t) return { state: 'failed', reason: 'source missing' };
    if (s!.ino === t!.ino && s!.dev === t!.dev) {
      ops.unlink(a.source);
      return done(ops, a.target);
    }
    if (ops.sameContent(a.source, a.target)) {
      ops.unlink(a.source);
      return done(ops, a.target);
    }
    if (!a.overwrite) return { state: 'failed', reason: 'target exists (not overwritten)' };
    ops.move(a.source, a.target, { overwrite: true, verify, tmpTag });
    return done(ops, a.target);
  } catch (e) {
    return { state: 'failed', reason: errnoOf(e) };
  }
}

/**
 * Undoes a job's done actions in reverse order under the same rules: files go back only where
 * nothing now stands, a copy is deleted only while it is still the file this job made, and the
 * directories the job created are removed when empty. Running it again continues where it stopped.
 */
export function undoJob(job: JobRecord, journal: Journal, ops: FileOps): ApplyReport {
  const actions = journal.actions(job.id);
  journal.setJobState(job.id, 'undoing');
  const tmpTag = `filer-${job.id}-undo`;
  const updates: Update[] = [];
  for (const a of [...actions].reverse()) {
    if (a.state !== 'done') continue;
    const outcome = undoOne(job, a, ops, tmpTag);
    updates.push({ seq: a.seq, ...outcome, targetIno: a.targetIno, targetMtimeMs: a.targetMtimeMs });
    Object.assign(a, outcome);
  }
  journal.record(job.id, updates);
  for (const dir of [...job.createdDirs].reverse()) ops.removeEmptyDir(dir);
  const failed = actions.some((a) => a.state === 'done' || (a.state === 'failed' && a.reason?.startsWith('undo:')));
  journal.setJobState(job.id, failed ? 'failed' : 'undone');
  return { job: journal.get(job.id)!, actions };
}

function undoOne(job: JobRecord, a: JournalAction, ops: FileOps, tmpTag: string): { state: JournalAction['state']; reason?: string } {
  try {
    const t = ops.stat(a.target);
    if (job.kind === 'copy') {
      if (!t) return { state: 'undone' };
      if (t.ino !== a.targetIno || t.mtimeMs !== a.targetMtimeMs)
        return { state: 'done', reason: 'undo: the copy changed since it was made; kept' };
      ops.unlink(a.target);
      return { state: 'undone' };
    }
    const s = ops.stat(a.source);
    if (!t && s) return { state: 'undone' };
    if (!t) return { state: 'done', reason: 'undo: the moved file is gone' };
    if (s && s.ino === t.ino && s.dev === t.dev) {
      ops.unlink(a.target);
      return { state: 'undone' };
    }
    // A copy back across devices that was linked into place before a crash: finish it.
    if (s && ops.sameContent(a.source, a.target)) {
      ops.unlink(a.target);
      return { state: 'undone' };
    }
    if (s) return { state: 'done', reason: 'undo: something now stands at the original path; not overwritten' };
    ops.ensureParent(a.source);
    ops.move(a.target, a.source, { overwrite: false, verify: job.options.verify, tmpTag });
    return { state: 'undone' };
  } catch (e) {
    return { state: 'done', reason: `undo: ${errnoOf(e)}` };
  }
}
