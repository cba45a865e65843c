import { FilerError } from '@filer/core';
import type { JobRecord, Journal } from './batch-types.js';
import type { FileOps } from './batch-types.js';
import { OBJECT_DEV, sameInode, sameVersion, type FileIdentity } from './file-identity.js';
import { errnoOf } from './action-outcome.js';
import { journalActions } from './journal-pages.js';

export interface PurgeReport {
  job: JobRecord;
  /** Quarantined copies deleted, and their bytes. */
  removed: number;
  bytes: number;
  /** Quarantine paths left: not the inode the job put there, or not removable (each handed to onLeft). */
  left: number;
}

/**
 * Empties a dedupe job's quarantine (`filer jobs purge ID`): each quarantined copy is deleted only
 * while it is still the inode the job put there, then the directories the job made, when empty.
 * Only for a job applied (completed or failed); the job becomes `purged` and can no longer be undone.
 */
export async function purgeDedupeJob(
  job: JobRecord,
  journal: Journal,
  ops: Pick<FileOps, 'stat' | 'unlinkIf' | 'removeEmptyDir' | 'release'>,
  opts: { onRemoved?(path: string, size: number): void; onLeft?(path: string, why: string): void } = {},
): Promise<PurgeReport> {
  if (job.kind !== 'dedupe')
    throw new FilerError('E_INVALID_ARGUMENT', `job ${job.id} is a ${job.kind} job: only a dedupe job has a quarantine to purge`, {
      field: 'id',
      value: job.id,
    });
  if (job.state !== 'completed' && job.state !== 'failed')
    throw new FilerError(
      'E_CONFLICT',
      `job ${job.id} is ${job.state}: only an applied job's quarantine is purged` +
        (job.state === 'applying' ? ` (resume it first: filer jobs resume ${job.id})` : ''),
      { field: 'id', value: job.id },
    );
  let removed = 0;
  let bytes = 0;
  let left = 0;
  for (const a of journalActions(journal, job.id, { states: ['done'] })) {
    const op = a.dedupe?.op;
    if (op !== 'hardlink' && op !== 'symlink' && op !== 'remove') continue;
    try {
      const q = await ops.stat(a.target);
      // A quarantined file is the copy's inode; a quarantined object (S3) the version the job copied there.
      const put: FileIdentity | undefined = a.sourceId!.dev === OBJECT_DEV ? a.targetId : a.sourceId;
      const ours = q !== undefined && put !== undefined && (put.dev === OBJECT_DEV ? sameVersion(q, put) : sameInode(q, put));
      if (!ours) {
        left++;
        opts.onLeft?.(a.target, q === undefined ? 'already gone' : 'not the file this job quarantined; left in place');
        continue;
      }
      await ops.unlinkIf(a.target, put!, put!.dev === OBJECT_DEV ? 'version' : 'inode');
      removed++;
      bytes += a.size;
      opts.onRemoved?.(a.target, a.size);
    } catch (e) {
      left++;
      opts.onLeft?.(a.target, errnoOf(e));
    }
  }
  try {
    for (const dir of [...job.createdDirs].reverse()) await ops.removeEmptyDir(dir);
  } finally {
    await ops.release?.();
  }
  journal.setJobState(job.id, 'purged', `quarantine purged: ${removed} copies (${bytes} bytes) deleted`);
  return { job: journal.get(job.id)!, removed, bytes, left };
}
