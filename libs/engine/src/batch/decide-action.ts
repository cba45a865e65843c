import type { FileOps, JobRecord, JournalAction } from './batch-types.js';
import { sameInode, sameVersion, type FileIdentity, type FileStat } from './file-identity.js';
import { done, failed, identity, type Outcome } from './action-outcome.js';

/** What to do with one action, decided from the disk alone. */
export type Step =
  | { outcome: Outcome }
  | { unlinkSource: 'inode' | 'version'; expect: FileIdentity }
  | { stage: true }
  | { link: FileIdentity }
  | { replace: FileIdentity };

const CHANGED = 'E_CHANGED: the source changed since it was planned; nothing done';
const COPIED_CHANGED = 'E_CHANGED: the source changed after it was copied; both kept (the copy is the version planned)';
const SYMLINK = 'the target is a symbolic link: filer never writes through or replaces a link';

/** The source as planned: what the journal recorded, or (format-less callers) what is there now. */
const planned = (a: JournalAction, s: FileStat): FileIdentity => a.sourceId ?? identity(s);

/**
 * What to do with one pending action, decided from what is on disk now against the identities the
 * journal holds (see applyJob for the cases).
 */
export async function decide(job: JobRecord, a: JournalAction, ops: FileOps, tmpTag: string): Promise<Step> {
  await ops.removeTemps(a.target, tmpTag);
  const named = await ops.stat(a.source);
  // A copy copies what a source link leads to (a walk with -L listed it as that file).
  const s = job.kind === 'copy' && named?.symlink ? await ops.stat(a.source, true) : named;
  const t = await ops.stat(a.target);
  const sourceAsPlanned = s !== undefined && (a.sourceId === undefined || sameVersion(s, a.sourceId));
  const ours = t !== undefined && a.targetId !== undefined && sameVersion(t, a.targetId);
  if (job.kind === 'copy') {
    if (!s) return failed('ENOENT: source missing');
    if (ours) return { outcome: { state: 'done', targetId: a.targetId } };
    if (!sourceAsPlanned) return failed(CHANGED);
    if (t) {
      if (t.symlink) return failed(SYMLINK);
      if (await ops.sameContent(a.source, a.target)) return { outcome: await done(ops, a.target) };
      if (!a.overwrite) return failed('target exists (not overwritten)');
    }
    return { stage: true };
  }
  if (s && !t) return sourceAsPlanned ? { link: planned(a, s) } : failed(CHANGED);
  if (!s && t) {
    // Done, if the target is this job's: the moved inode itself, or the copy journaled as ours.
    if (ours || (a.sourceId !== undefined && sameInode(t, a.sourceId))) return { outcome: await done(ops, a.target) };
    return failed('ENOENT: source missing, and the file at the target is not one this job put there');
  }
  if (!s || !t) return failed('ENOENT: source missing');
  if (sameInode(s, t)) {
    // The crash fell between link and unlink; the name to drop is still the planned inode.
    return a.sourceId === undefined || sameInode(s, a.sourceId) ? { unlinkSource: 'inode', expect: identity(s) } : failed(CHANGED);
  }
  // Our copy stays journaled as ours (targetId), so an undo can name it.
  if (!sourceAsPlanned) return ours ? { outcome: { state: 'failed', reason: COPIED_CHANGED, targetId: a.targetId } } : failed(CHANGED);
  // A copy linked into place before the source was removed: journaled as ours, or (a crash
  // before that journal write) the same bytes.
  if (ours || (!t.symlink && (await ops.sameContent(a.source, a.target)))) return { unlinkSource: 'version', expect: planned(a, s) };
  if (t.symlink) return failed(SYMLINK);
  if (!a.overwrite) return failed('target exists (not overwritten)');
  return { replace: planned(a, s) };
}
