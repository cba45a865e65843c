import type { FileOps, JobRecord, Journal, JournalAction } from './batch-types.js';

/** Actions are carried out in batches this large: one flush makes a whole batch's copies durable. */
const BATCH = 256;

export interface ApplyReport {
  job: JobRecord;
  actions: JournalAction[];
  /** Set when the job stopped early (disk full): nothing after it was attempted. */
  stoppedBy?: string;
}

type Update = Parameters<Journal['record']>[1][number];
type Outcome = Omit<Update, 'seq'>;

function errnoOf(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
  return err.code && !message.startsWith(err.code) ? `${err.code}: ${message}` : message;
}

function parentOf(p: string): string {
  const slash = p.lastIndexOf('/');
  return slash <= 0 ? '/' : p.slice(0, slash);
}

/** What to do with one action, decided from the disk alone. */
type Step = { outcome: Outcome } | { unlinkSource: true } | { stage: true } | { link: true } | { replace: true };

/**
 * Applies (or resumes) a journaled job. Each pending action is decided from what is on disk now,
 * so running it again after a crash finishes the job without doing anything twice:
 * - source here, target absent → act;
 * - source gone, target here → it was done;
 * - both here and one inode → the crash fell between link and unlink: drop the source name;
 * - both here with the same bytes → a copy was linked into place: drop the source (move);
 * - otherwise the target is someone else's file: fail that action, never overwrite it
 *   (unless the plan said overwrite).
 * Work goes in batches: copies are staged under temporary names, made durable together, then
 * linked into place; the directories are flushed before any source is removed. A full disk stops
 * the job cleanly; other per-file errors fail that file and the rest go on.
 */
export async function applyJob(job: JobRecord, journal: Journal, ops: FileOps, opts: { retryFailed?: boolean } = {}): Promise<ApplyReport> {
  const actions = journal.actions(job.id);
  // A resume retries failures too (a disk that was full, a permission since fixed): deciding from
  // the disk makes that as safe as the first attempt.
  const pending = actions.filter((a) => a.state === 'pending' || (opts.retryFailed === true && a.state === 'failed'));
  journal.setJobState(job.id, 'applying');
  const tmpTag = `filer-${job.id}`;
  const needCopy: JournalAction[] = [];
  for (const a of pending) if (job.kind === 'copy' || (await crossesDevice(ops, a))) needCopy.push(a);
  const bytes = needCopy.reduce((n, a) => n + a.size, 0);
  if (needCopy.length > 0 && bytes > 0) {
    const free = await ops.freeBytes(needCopy[0].target);
    if (bytes > free) {
      journal.setJobState(job.id, 'failed');
      return {
        job: journal.get(job.id)!,
        actions,
        stoppedBy: `not enough free space: ${bytes} bytes to copy, ${free} available at ${parentOf(needCopy[0].target)}`,
      };
    }
  }
  let stoppedBy: string | undefined;
  let attempted = 0;
  for (const batch of batches(pending)) {
    if (stoppedBy !== undefined) break;
    const outcomes = new Map<JournalAction, Outcome>();
    stoppedBy = await runBatch(job, batch, ops, tmpTag, journal, outcomes);
    attempted += outcomes.size;
    const updates = [...outcomes].map(([a, o]) => ({ seq: a.seq, ...o }));
    for (const [a, o] of outcomes) Object.assign(a, o);
    journal.record(job.id, updates);
  }
  if (stoppedBy !== undefined) stoppedBy += `; ${pending.length - attempted} files were not attempted (resume after freeing space)`;
  const failed = actions.some((a) => a.state === 'failed');
  journal.setJobState(job.id, stoppedBy !== undefined || failed ? 'failed' : 'completed');
  return { job: journal.get(job.id)!, actions, stoppedBy };
}

async function runBatch(
  job: JobRecord,
  batch: JournalAction[],
  ops: FileOps,
  tmpTag: string,
  journal: Journal,
  outcomes: Map<JournalAction, Outcome>,
): Promise<string | undefined> {
  const toStage: JournalAction[] = [];
  const staged: { a: JournalAction; tmp: string }[] = [];
  const removeSource: JournalAction[] = [];
  const replaced: JournalAction[] = [];
  let stoppedBy: string | undefined;
  const fail = (a: JournalAction, e: unknown): void => void outcomes.set(a, { state: 'failed', reason: errnoOf(e) });
  for (const a of batch) {
    try {
      const step = await decide(job, a, ops, tmpTag);
      if ('outcome' in step) outcomes.set(a, step.outcome);
      else if ('unlinkSource' in step) removeSource.push(a);
      else {
        // Journal the directories before making them, so undo can always find them.
        const missing = await ops.missingParents(a.target);
        if (missing.length > 0) journal.addCreatedDirs(job.id, missing);
        await ops.ensureParent(a.target);
        if ('link' in step && (await ops.link(a.source, a.target))) removeSource.push(a);
        else if ('replace' in step && (await ops.replace(a.source, a.target))) {
          replaced.push(a); // a rename over the target: the source name is already gone
          outcomes.set(a, await done(ops, a.target));
        } else toStage.push(a);
      }
    } catch (e) {
      fail(a, e);
    }
  }
  // Only a copy may skip the flushes: a move removes its sources, which needs its copies durable.
  const durable = job.kind !== 'copy' || job.options.fsync !== false;
  const tmps = await ops.stageMany(toStage, tmpTag, { durable });
  tmps.forEach((tmp, k) => {
    const a = toStage[k];
    if (typeof tmp === 'string') {
      staged.push({ a, tmp });
      return;
    }
    fail(a, tmp);
    if ((tmp as { code?: string }).code === 'ENOSPC' && stoppedBy === undefined) {
      stoppedBy = `disk full while copying ${a.source} to ${a.target}: the job stopped`;
    }
  });
  // Data first, then names: a final name only ever points at durable, verified bytes.
  if (durable) await ops.flushFiles(staged.map((s) => s.tmp));
  for (const { a, tmp } of staged) {
    try {
      await ops.commit(tmp, a.source, a.target, { overwrite: a.overwrite, verify: job.options.verify });
      if (job.kind === 'copy') outcomes.set(a, await done(ops, a.target));
      else removeSource.push(a);
    } catch (e) {
      fail(a, e);
    }
  }
  if (durable) await ops.flushDirs([...new Set([...staged.map((s) => s.a), ...removeSource, ...replaced].map((a) => parentOf(a.target)))]);
  // Only now, with every target in place and durable, do sources go.
  for (const a of removeSource) {
    try {
      await ops.unlink(a.source);
      outcomes.set(a, await done(ops, a.target));
    } catch (e) {
      outcomes.set(a, {
        ...(await done(ops, a.target)),
        state: 'failed',
        reason: `copied, but the source could not be removed: ${errnoOf(e)}`,
      });
    }
  }
  await ops.flushDirs([...new Set([...removeSource, ...replaced].map((a) => parentOf(a.source)))]);
  return stoppedBy;
}

/**
 * Cuts pending actions into batches of at most BATCH. A batch also ends before an action whose
 * target is a source earlier in the same batch (a chain a→b, b→c): sources are removed only at
 * the end of a batch, so the next link must wait for that.
 */
function* batches(pending: JournalAction[]): Generator<JournalAction[]> {
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
  const s = await ops.stat(a.source);
  let dir = a.target;
  for (;;) {
    dir = parentOf(dir);
    const d = await ops.stat(dir);
    if (d) return s !== undefined && d.dev !== s.dev;
    if (dir === '/') return false;
  }
}

async function done(ops: FileOps, target: string): Promise<Outcome> {
  const t = await ops.stat(target);
  return { state: 'done', targetIno: t?.ino, targetMtimeMs: t?.mtimeMs };
}

async function decide(job: JobRecord, a: JournalAction, ops: FileOps, tmpTag: string): Promise<Step> {
  await ops.removeTemps(a.target, tmpTag);
  const s = await ops.stat(a.source);
  const t = await ops.stat(a.target);
  if (job.kind === 'copy') {
    if (!s) return { outcome: { state: 'failed', reason: 'source missing' } };
    if (t) {
      if (await ops.sameContent(a.source, a.target)) return { outcome: await done(ops, a.target) };
      if (!a.overwrite) return { outcome: { state: 'failed', reason: 'target exists (not overwritten)' } };
    }
    return { stage: true };
  }
  if (s && !t) return { link: true };
  if (!s && t) return { outcome: await done(ops, a.target) };
  if (!s && !t) return { outcome: { state: 'failed', reason: 'source missing' } };
  if (s!.ino === t!.ino && s!.dev === t!.dev) return { unlinkSource: true };
  if (await ops.sameContent(a.source, a.target)) return { unlinkSource: true };
  if (!a.overwrite) return { outcome: { state: 'failed', reason: 'target exists (not overwritten)' } };
  return { replace: true };
}

/**
 * Undoes a job's done actions in reverse order under the same rules: files go back only where
 * nothing now stands, a copy is deleted only while it is still the file this job made, and the
 * directories the job created are removed when empty. Running it again continues where it stopped.
 */
export async function undoJob(job: JobRecord, journal: Journal, ops: FileOps): Promise<ApplyReport> {
  const actions = journal.actions(job.id);
  journal.setJobState(job.id, 'undoing');
  const tmpTag = `filer-${job.id}-undo`;
  const updates: Update[] = [];
  for (const a of [...actions].reverse()) {
    if (a.state !== 'done') continue;
    const outcome = await undoOne(job, a, ops, tmpTag);
    updates.push({ seq: a.seq, ...outcome, targetIno: a.targetIno, targetMtimeMs: a.targetMtimeMs });
    Object.assign(a, outcome);
  }
  journal.record(job.id, updates);
  for (const dir of [...job.createdDirs].reverse()) await ops.removeEmptyDir(dir);
  const failed = actions.some((a) => a.state === 'done');
  journal.setJobState(job.id, failed ? 'failed' : 'undone');
  return { job: journal.get(job.id)!, actions };
}

async function undoOne(
  job: JobRecord,
  a: JournalAction,
  ops: FileOps,
  tmpTag: string,
): Promise<{ state: JournalAction['state']; reason?: string }> {
  try {
    const t = await ops.stat(a.target);
    if (job.kind === 'copy') {
      if (!t) return { state: 'undone' };
      if (t.ino !== a.targetIno || t.mtimeMs !== a.targetMtimeMs)
        return { state: 'done', reason: 'undo: the copy changed since it was made; kept' };
      await ops.unlink(a.target);
      return { state: 'undone' };
    }
    const s = await ops.stat(a.source);
    if (!t && s) return { state: 'undone' };
    if (!t) return { state: 'done', reason: 'undo: the moved file is gone' };
    if (s && s.ino === t.ino && s.dev === t.dev) {
      await ops.unlink(a.target);
      return { state: 'undone' };
    }
    // A copy back across devices that was linked into place before a crash: finish it.
    if (s && (await ops.sameContent(a.source, a.target))) {
      await ops.unlink(a.target);
      return { state: 'undone' };
    }
    if (s) return { state: 'done', reason: 'undo: something now stands at the original path; not overwritten' };
    await ops.ensureParent(a.source);
    await ops.move(a.target, a.source, { overwrite: false, verify: job.options.verify, tmpTag });
    return { state: 'undone' };
  } catch (e) {
    return { state: 'done', reason: `undo: ${errnoOf(e)}` };
  }
}
