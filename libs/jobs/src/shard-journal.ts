import { openStateDb } from '@filer/storage/state';
import type { ClusterContext } from './cluster-context.js';

/**
 * How often a journal kept as a local copy (results on S3) is saved while its shard runs. A shard
 * whose worker dies resumes on another from the last save: actions done since are decided again
 * from the disk against the identities the plan carries (a same-device move found at its target is
 * done; a copy with the same bytes is done), so nothing is done twice; see docs/operations.md.
 */
export const JOURNAL_CHECKPOINT_MS = 2_000;

/**
 * Runs `use` with one apply partition's SQLite journal, wherever the results keep it: in place in a
 * results directory; on S3 downloaded first, saved every JOURNAL_CHECKPOINT_MS from a consistent
 * backup, and saved again when the shard ends (or fails: a retry resumes from it). Undefined when
 * there is no journal and `create` is false.
 */
export async function withShardJournal<T>(
  ctx: ClusterContext,
  jobId: string,
  part: string,
  create: boolean,
  use: (db: ReturnType<typeof openStateDb>) => Promise<T>,
): Promise<T | undefined> {
  const jf = await ctx.results.openJournal(jobId, part, create);
  if (jf === undefined) return undefined;
  try {
    const db = openStateDb(jf.path);
    let closed = false;
    let checkpoint: Promise<void> = Promise.resolve();
    const timer = jf.scratch
      ? setInterval(() => {
          checkpoint = checkpoint.then(async () => {
            if (closed) return;
            // A missed checkpoint only widens what a retry decides from the disk; the end save reports failure.
            await jf.checkpoint((file) => db.backup(file)).catch(() => undefined);
          });
        }, JOURNAL_CHECKPOINT_MS)
      : undefined;
    try {
      return await use(db);
    } finally {
      clearInterval(timer);
      await checkpoint;
      closed = true;
      db.close();
      await jf.save();
    }
  } finally {
    await jf.release();
  }
}
