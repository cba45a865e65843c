import { FilerError } from '@filer/core';
import type { JobRecord, Journal, JournalAction } from './batch-types.js';
import type { DedupeStep } from '../dupes/dedupe-types.js';
import type { DedupeFileOps } from './dedupe-ops.js';
import { sameInode, sameVersion, type FileStat } from './file-identity.js';
import { errnoOf, type Outcome } from './action-outcome.js';
import type { ApplyReport } from './apply-job.js';
import { undoDoneActions, type UndoOptions } from './undo-job.js';

/**
 * Undoes a dedupe job, newest action first. Every copy's own inode was kept (in the quarantine,
 * or at --move-to), so undo puts that inode back at the copy's path: its bytes, mode, owner,
 * mtime and inode number are the original's. A link or symlink the job left there is replaced
 * atomically (rename over it), and only while it is still what the job made; a path something
 * else now occupies is reported and left. A reflinked copy (its inode never moved) is rewritten
 * with extents of its own, once the kept file is found unchanged since the job (undoReflink).
 */
export async function undoDedupeJob(job: JobRecord, journal: Journal, ops: DedupeFileOps, opts: UndoOptions = {}): Promise<ApplyReport> {
  assertUndoable(job);
  journal.setJobState(job.id, 'undoing', undefined);
  const tmpTag = `filer-${job.id}-undo`;
  const notBack = await undoDoneActions(
    job,
    journal,
    async (a) => {
      try {
        return await undoOne(a, ops, tmpTag);
      } catch (e) {
        return { state: 'done', reason: `undo: ${errnoOf(e)}` };
      }
    },
    { ...opts, release: ops.release?.bind(ops) },
  );
  try {
    for (const dir of [...job.createdDirs].reverse()) await ops.removeEmptyDir(dir);
  } finally {
    await ops.release?.();
  }
  const left = journal.get(job.id)!.counts.done > 0;
  journal.setJobState(job.id, left ? 'failed' : 'undone', left ? 'some copies could not be put back (see each action)' : undefined);
  return { job: journal.get(job.id)!, failures: notBack };
}

function assertUndoable(job: JobRecord): void {
  const why =
    job.state === 'applying'
      ? `was cut short while it was applied (or is being applied now): resume it first (\`filer jobs resume ${job.id}\`), then undo it`
      : job.state === 'purged'
        ? 'had its quarantine purged: the copies it replaced or removed are gone, so it cannot be undone'
        : undefined;
  if (why !== undefined) throw new FilerError('E_INVALID_ARGUMENT', `job ${job.id} ${why}`, { field: 'id', value: job.id });
}

async function undoOne(a: JournalAction, ops: DedupeFileOps, tmpTag: string): Promise<Outcome> {
  const step = a.dedupe!;
  const planned = a.sourceId!;
  await ops.removeTemps(a.source, tmpTag);
  if (step.op === 'reflink') return undoReflink(a, step, ops, tmpTag);
  const c = await ops.stat(a.source);
  const q = await ops.stat(a.target);
  const ours = (s: FileStat | undefined): boolean =>
    s !== undefined && (sameInode(s, planned) || (a.targetId !== undefined && sameVersion(s, a.targetId)));
  if (c !== undefined && sameInode(c, planned)) {
    // Put back already (a crash after the rename, or before the quarantine name was dropped).
    if (q !== undefined && sameInode(q, c)) await ops.unlinkIf(a.target, planned, 'inode');
    return { state: 'undone' };
  }
  if (!ours(q)) return { state: 'done', reason: `undo: the copy kept at ${a.target} is gone or changed; nothing put back` };
  if (c === undefined) {
    // remove, move-to (or a link the user deleted since): the copy goes back to its name.
    await ops.ensureParent(a.source);
    await ops.move(a.target, a.source, { overwrite: false, verify: true, tmpTag, expect: q! });
    return { state: 'undone' };
  }
  const made =
    step.op === 'hardlink'
      ? sameInode(c, step.keptId)
      : step.op === 'symlink' && c.symlink === true && (await ops.readLink(a.source)) === step.linkText;
  if (!made)
    return { state: 'done', reason: `undo: something else now stands at ${a.source}; not overwritten (its copy is at ${a.target})` };
  // The job's link or symlink is replaced by the original inode in one rename.
  await ops.replace(a.target, a.source);
  return { state: 'undone' };
}

/**
 * A reflinked copy gets extents of its own again: only while it is as the job left it (same
 * inode, size and mtime: FIDEDUPERANGE changes none) and the kept file is unchanged since the
 * job (E_CHANGED otherwise: left sharing). Its bytes, owner, mode and mtime stay; its inode is new.
 */
async function undoReflink(a: JournalAction, step: DedupeStep, ops: DedupeFileOps, tmpTag: string): Promise<Outcome> {
  const planned = a.sourceId!;
  const c = await ops.stat(a.source);
  // Rewritten by an undo cut short before it was journaled: a new inode, the same size and mtime.
  const rewritten = c !== undefined && c.symlink !== true && c.dev === planned.dev && c.ino !== planned.ino;
  if (rewritten && c.size === planned.size && c.mtimeNs === planned.mtimeNs) return { state: 'undone' };
  if (c === undefined || c.symlink === true || !sameVersion(c, planned))
    return { state: 'done', reason: `undo: E_CHANGED: ${a.source} changed since the job shared its extents; left as it is` };
  const k = await ops.stat(step.kept);
  if (k === undefined || k.symlink === true || !sameVersion(k, step.keptId))
    return {
      state: 'done',
      reason: `undo: E_CHANGED: the kept file ${step.kept} changed since the job; ${a.source} left sharing its extents`,
    };
  if ((await ops.unshare(a.source, planned, tmpTag)) === 'unshared') return { state: 'undone' };
  return {
    state: 'undone',
    reason: `undo: ${a.source} has other hard links, which a fresh copy would split from it: it still shares the kept file's extents (inode, bytes and mtime as before)`,
  };
}
