import { FilerError } from '@filer/core';
import type { JobRecord, Journal, JournalAction } from './batch-types.js';
import type { ObjectDedupeOps } from './object-dedupe-ops.js';
import { sameVersion } from './file-identity.js';
import { errnoOf, type Outcome } from './action-outcome.js';
import type { ApplyReport } from './apply-job.js';
import { undoDoneActions, type UndoOptions } from './undo-job.js';

/**
 * Undoes a dedupe job on S3, newest action first: each copy is copied back server-side from its
 * target (the quarantine, or --move-to) to its own key — only while the target is the object this
 * job put there and nothing stands at the key — and the target is then deleted. The bytes, content
 * type and user metadata come back; LastModified is the time of the undo (S3 cannot set it).
 */
export async function undoObjectDedupeJob(
  job: JobRecord,
  journal: Journal,
  ops: ObjectDedupeOps,
  opts: UndoOptions = {},
): Promise<ApplyReport> {
  if (job.state === 'applying' || job.state === 'purged')
    throw new FilerError(
      'E_INVALID_ARGUMENT',
      job.state === 'purged'
        ? `job ${job.id} had its quarantine purged: the objects it removed are gone, so it cannot be undone`
        : `job ${job.id} was cut short while it was applied (or is being applied now): resume it first (\`filer jobs resume ${job.id}\`), then undo it`,
      { field: 'id', value: job.id },
    );
  journal.setJobState(job.id, 'undoing', undefined);
  const notBack = await undoDoneActions(
    job,
    journal,
    async (a) => {
      try {
        return await undoOne(a, ops);
      } catch (e) {
        return { state: 'done', reason: `undo: ${errnoOf(e)}` };
      }
    },
    { ...opts, release: ops.release?.bind(ops) },
  );
  const left = journal.get(job.id)!.counts.done > 0;
  journal.setJobState(job.id, left ? 'failed' : 'undone', left ? 'some copies could not be put back (see each action)' : undefined);
  return { job: journal.get(job.id)!, failures: notBack };
}

async function undoOne(a: JournalAction, ops: ObjectDedupeOps): Promise<Outcome> {
  const [c, q] = await Promise.all([ops.stat(a.source), ops.stat(a.target)]);
  const ours = q !== undefined && a.targetId !== undefined && sameVersion(q, a.targetId);
  if (c !== undefined) {
    // Copied back already by a run cut short before the target was deleted (or before that was journaled).
    if (ours && (await ops.sameBytes({ uri: a.source, id: c }, { uri: a.target, id: q }))) {
      await ops.unlinkIf(a.target, q, 'version');
      return { state: 'undone' };
    }
    if (q === undefined && a.targetId?.etag !== undefined && c.etag === a.targetId.etag && c.size === a.targetId.size)
      return { state: 'undone' };
    return { state: 'done', reason: `undo: something else now stands at ${a.source}; not overwritten (its copy is at ${a.target})` };
  }
  if (!ours) return { state: 'done', reason: `undo: the copy kept at ${a.target} is gone or changed; nothing put back` };
  await ops.copyIf(a.target, a.source, q);
  await ops.unlinkIf(a.target, q, 'version');
  return { state: 'undone' };
}
