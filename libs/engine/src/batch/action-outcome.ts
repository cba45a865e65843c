import type { FileOps, JournalAction, Journal } from './batch-types.js';
import type { FileIdentity, FileStat } from './file-identity.js';

// What an action of a journaled job came to (apply-job.ts, undo-job.ts): outcomes as the journal
// records them, the identity it keeps of a file, and the wording of a failure.

/** Actions are carried out in batches this large: one flush makes a whole batch's copies durable. */
export const BATCH = 256;

export type Update = Parameters<Journal['record']>[1][number];
export type Outcome = Omit<Update, 'seq'>;

export function errnoOf(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
  return err.code && !message.startsWith(err.code) ? `${err.code}: ${message}` : message;
}

export function parentOf(p: string): string {
  const slash = p.lastIndexOf('/');
  return slash <= 0 ? '/' : p.slice(0, slash);
}

export const failed = (reason: string): { outcome: Outcome } => ({ outcome: { state: 'failed', reason } });

/**
 * A moved file's outcome once its source is gone: a copy committed earlier in the batch was
 * identified then (and journaled as ours), and removing the source changed nothing about it — no
 * second stat (for S3 a HEAD, which a server going away would turn into a failed job). A linked
 * one is stat'ed now.
 */
export async function placedAt(ops: FileOps, a: JournalAction): Promise<Outcome & { targetId?: FileIdentity }> {
  return a.targetId !== undefined ? { state: 'done', targetId: a.targetId } : done(ops, a.target);
}

export async function done(ops: FileOps, target: string): Promise<Outcome & { targetId?: FileIdentity }> {
  const t = await ops.stat(target);
  return { state: 'done', targetId: t && identity(t) };
}

/** The identity fields of a stat (without the symlink flag), as the journal keeps them. */
export function identity(s: FileStat): FileIdentity {
  return s.etag === undefined
    ? { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs }
    : { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, etag: s.etag };
}
