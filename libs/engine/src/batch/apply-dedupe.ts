import type { JobRecord, Journal, JournalAction } from './batch-types.js';
import type { DedupeFileOps } from './dedupe-ops.js';
import { sameInode, sameVersion, type FileStat } from './file-identity.js';
import { errnoOf, identity, parentOf, type Outcome } from './action-outcome.js';
import { journalActions, SampledActions } from './journal-pages.js';
import type { ApplyOptions, ApplyReport } from './apply-job.js';
import type { FaultHook } from './fault-steps.js';
import type { DedupeStep } from '../dupes/dedupe-types.js';

/**
 * Actions per batch: each batch costs two flushes (a syncfs each, 8–10 ms on this project's
 * disks), which at a move's 256 were a fifth of a 10,800-link apply. Its memory is a few records
 * per action, and its directory descriptors are trimmed between actions (trimDirs), so neither
 * grows with it; a crash redoes at most one batch's checks.
 */
export const DEDUPE_BATCH = 1024;

const CHANGED = (what: string): Outcome => ({ state: 'failed', reason: `E_CHANGED: ${what} changed since it was planned; nothing done` });

/**
 * Applies (or resumes) a dedupe job. Each action is decided from the disk against the identities
 * the journal holds, so a run after a crash finishes what an earlier one began and never acts
 * twice. Before any change, the kept file and the copy must still be the versions planned and
 * hold the same bytes (a full compare); a copy's inode goes to its target (the quarantine, or
 * --move-to) by a hard link before its name is replaced or removed, so undo can give it back.
 */
export async function applyDedupeJob(job: JobRecord, journal: Journal, ops: DedupeFileOps, opts: ApplyOptions = {}): Promise<ApplyReport> {
  const states = opts.retryFailed === true ? (['pending', 'failed'] as const) : (['pending'] as const);
  journal.setJobState(job.id, 'applying', undefined);
  opts.fault?.('after-journal');
  const tmpTag = `filer-${job.id}`;
  const failures = new SampledActions(opts.onFailure);
  // Only a run after another can find a temporary name of this job's: a first apply looks for none.
  const cx: DedupeContext = { job, journal, ops, tmpTag, fault: opts.fault, resume: opts.retryFailed === true };
  for (const batch of batches(journalActions(journal, job.id, { states }))) {
    const outcomes = await runBatch(cx, batch);
    journal.record(
      job.id,
      [...outcomes].map(([a, o]) => ({ seq: a.seq, ...o })),
    );
    for (const [a, o] of outcomes) {
      Object.assign(a, o);
      if (a.state === 'failed') failures.add(a);
    }
  }
  const anyFailed = journal.get(job.id)!.counts.failed > 0;
  journal.setJobState(job.id, anyFailed ? 'failed' : 'completed', undefined);
  return { job: journal.get(job.id)!, failures: failures.value };
}

function* batches(actions: Iterable<JournalAction>): Generator<JournalAction[]> {
  let batch: JournalAction[] = [];
  for (const a of actions) {
    batch.push(a);
    if (batch.length >= DEDUPE_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * One batch in two phases, one flush each (a syncfs per file system with the addon): every copy's
 * inode is linked at its target and those links made durable before any copy's name is replaced
 * or removed; then the replacements, made durable before the outcomes are journaled.
 */
async function runBatch(cx: DedupeContext, planned: JournalAction[]): Promise<Map<JournalAction, Outcome>> {
  const { ops } = cx;
  // In path order, not the plan's group order: neighbouring actions then share directories (and
  // their quarantine's), which stay among the descriptors kept open.
  const batch = [...planned].sort((x, y) => (x.source < y.source ? -1 : x.source > y.source ? 1 : 0));
  const outcomes = new Map<JournalAction, Outcome>();
  const toFinish: JournalAction[] = [];
  const failedWith = (e: unknown): Outcome => ({ state: 'failed', reason: errnoOf(e) });
  try {
    // The directories the batch will make, journaled before any is made (one transaction), so undo
    // and purge can always find them; one that ends up unused is simply not there to remove.
    const missing = new Set<string>();
    for (const a of batch) if (a.target !== '') for (const d of await ops.missingParents(a.target)) missing.add(d);
    if (missing.size > 0) cx.journal.addCreatedDirs(cx.job.id, [...missing]);
    for (const a of batch) {
      try {
        const r = await prepareOne(cx, a, a.dedupe!);
        if (r === 'finish') toFinish.push(a);
        else outcomes.set(a, r);
      } catch (e) {
        outcomes.set(a, failedWith(e));
      }
      await ops.trimDirs?.();
    }
    if (toFinish.length === 0) return outcomes;
    await ops.flushDirs([...new Set(toFinish.map((a) => parentOf(a.target)))]);
    for (const a of toFinish) {
      try {
        outcomes.set(a, await finishOne(cx, a, a.dedupe!));
      } catch (e) {
        outcomes.set(a, failedWith(e));
      }
      await ops.trimDirs?.();
    }
    await ops.flushDirs([...new Set(toFinish.map((a) => parentOf(a.source)))]);
    return outcomes;
  } finally {
    await ops.release?.();
  }
}

/** Whether `c` is what the action leaves at the copy's path: a name of the kept inode, or the planned symlink. */
async function isResult(ops: DedupeFileOps, c: FileStat | undefined, a: JournalAction, step: DedupeStep): Promise<boolean> {
  if (c === undefined) return false;
  if (step.op === 'hardlink') return sameInode(c, step.keptId);
  if (step.op === 'symlink') return c.symlink === true && (await ops.readLink(a.source)) === step.linkText;
  return false;
}

/**
 * The checks before every change: both files the versions planned, the same bytes, and for a hard
 * link one device and (unless --ignore-perms) one owner, group and mode. An outcome when one fails.
 */
async function checkPair(job: JobRecord, a: JournalAction, step: DedupeStep, ops: DedupeFileOps): Promise<Outcome | undefined> {
  const k = await ops.stat(step.kept);
  const c = await ops.stat(a.source);
  if (k === undefined || k.symlink === true || !sameVersion(k, step.keptId)) return CHANGED(`the kept file ${step.kept}`);
  if (c === undefined || c.symlink === true || !sameVersion(c, a.sourceId!)) return CHANGED(`the copy ${a.source}`);
  if (step.op === 'hardlink') {
    if (k.dev !== c.dev)
      return { state: 'skipped', reason: `E_CROSS_DEVICE: ${a.source} and ${step.kept} are on different devices; not linked` };
    if (job.options.ignorePerms !== true) {
      const [pk, pc] = [await ops.perms(step.kept), await ops.perms(a.source)];
      if (pk === undefined || pc === undefined || pk.uid !== pc.uid || pk.gid !== pc.gid || pk.mode !== pc.mode)
        return { state: 'skipped', reason: `E_PERMS_DIFFER: owner, group or mode of ${a.source} and ${step.kept} differ; not linked` };
    }
  }
  if (step.op !== 'reflink' && !(await ops.sameContent(step.kept, a.source)))
    return { state: 'failed', reason: `E_CHANGED: ${a.source} no longer holds the same bytes as ${step.kept}; nothing done` };
  return undefined;
}

interface DedupeContext {
  resume: boolean;
  job: JobRecord;
  journal: Journal;
  ops: DedupeFileOps;
  tmpTag: string;
  fault?: FaultHook;
}

/** Decides one action from the disk, checks it, and links the copy's inode at its target: 'finish' when its name is to be replaced or removed next. */
async function prepareOne(cx: DedupeContext, a: JournalAction, step: DedupeStep): Promise<Outcome | 'finish'> {
  const { job, ops, tmpTag, fault } = cx;
  const planned = a.sourceId!;
  if (step.op === 'reflink') return reflinkOne(job, a, step, ops);
  if (cx.resume) await ops.removeTemps(a.source, tmpTag);
  const c = await ops.stat(a.source);
  const q = await ops.stat(a.target);
  const oursAtTarget = q !== undefined && (sameInode(q, planned) || (a.targetId !== undefined && sameVersion(q, a.targetId)));
  if (q !== undefined && !oursAtTarget)
    return { state: 'failed', reason: `E_CHANGED: ${a.target} holds a file this job did not put there; nothing done` };
  const relocates = step.op === 'remove' || step.op === 'move-to';
  if (oursAtTarget) {
    // The copy's inode is at its target already: a crash came after that link.
    if (relocates) {
      if (c === undefined) return { state: 'done', targetId: identity(q) };
      if (!sameInode(c, q) && !(sameVersion(c, planned) && (await ops.sameContent(a.source, a.target))))
        return { state: 'failed', reason: `E_CHANGED: ${a.source} changed since its copy was placed at ${a.target}; both kept` };
      await ops.unlinkIf(a.source, planned, sameInode(c, q) ? 'inode' : 'version');
      return { state: 'done', targetId: identity(q) };
    }
    if (await isResult(ops, c, a, step)) return { state: 'done', targetId: identity(q) };
    if (c === undefined || !sameInode(c, planned))
      return { state: 'failed', reason: `E_CHANGED: something else now stands at ${a.source}; its copy is kept at ${a.target}` };
  }
  const bad = await checkPair(job, a, step, ops);
  if (bad !== undefined) {
    // A quarantine link an earlier run made, the copy still in place: not this job's to keep.
    if (oursAtTarget && !relocates) await ops.unlinkIf(a.target, planned, 'inode');
    return bad;
  }
  if (!oursAtTarget) {
    // Journaled before they are made, so undo and purge can always find them.
    await ops.ensureParent(a.target);
    if (!(await ops.link(a.source, a.target))) {
      if (step.op !== 'move-to')
        return { state: 'skipped', reason: `E_CROSS_DEVICE: ${a.target} is on another device than ${a.source}; nothing done` };
      // --move-to another device: a durable, verified copy, then the source goes (only while still as planned).
      await ops.move(a.source, a.target, { overwrite: false, verify: true, tmpTag, expect: planned });
      return { state: 'done', targetId: identity((await ops.stat(a.target))!) };
    }
    fault?.('after-link');
  }
  return 'finish';
}

/** Replaces (hardlink, symlink) or removes (remove, move-to) the copy's name, its inode now durable at the target. */
async function finishOne(cx: DedupeContext, a: JournalAction, step: DedupeStep): Promise<Outcome> {
  const { ops, tmpTag, fault } = cx;
  fault?.('before-unlink');
  if (step.op === 'remove' || step.op === 'move-to') await ops.unlinkIf(a.source, a.sourceId!, 'inode');
  else await ops.placeOver(a.source, step.op === 'hardlink' ? { link: step.kept } : { symlink: step.linkText! }, tmpTag);
  fault?.('after-unlink');
  return { state: 'done', targetId: identity((await ops.stat(a.target))!) };
}

async function reflinkOne(job: JobRecord, a: JournalAction, step: DedupeStep, ops: DedupeFileOps): Promise<Outcome> {
  const bad = await checkPair(job, a, step, ops);
  if (bad !== undefined) return bad;
  try {
    await ops.reflinkDedupe(step.kept, a.source);
    return { state: 'done' };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'E_UNSUPPORTED') return { state: 'skipped', reason: errnoOf(e) };
    throw e;
  }
}
