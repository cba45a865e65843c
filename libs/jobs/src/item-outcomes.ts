import type { JournalAction } from '@filer/engine';

/** What one batch job did to one item: a row of `GET /v1/items`. */
export interface ItemOutcome {
  jobId: string;
  /** `apply` or `undo`. */
  phase: string;
  /** The job's kind: move, copy, rename; for a dupes job's item its dedupe op (hardlink, symlink, remove, move-to, reflink). */
  action: string;
  source: string;
  target: string;
  size: number;
  /** The journal's state: done, failed, skipped, undone, pending. */
  state: string;
  /** The stable code at the head of a failure's reason (`E_CHANGED`, `EACCES`), when there is one. */
  code?: string;
  reason?: string;
  /** When the outcome was recorded (the shard's end), ISO 8601. */
  at: string;
}

/** One shard's journal, as it stands when the shard ends. */
export interface ShardOutcomes {
  jobId: string;
  phase: 'apply' | 'undo';
  action: string;
  shard: string;
  actions: readonly JournalAction[];
}

/**
 * The port per-item outcomes are kept through when the cluster has a job database. Without one
 * (`FILER_DATABASE_URL` unset) there is none: the shard journals on the results volume are the
 * record, as before.
 */
export interface ItemOutcomes {
  /** Writes (or, for a retried shard, rewrites) every action of the shard. */
  record(shard: ShardOutcomes): Promise<void>;
  /** Outcomes whose source or target is exactly `path`, newest first. */
  findPath(path: string, limit: number): Promise<ItemOutcome[]>;
}

/** The code at the head of a journal's reason (`E_CHANGED: …`, `ENOSPC: …`); undefined when it has none. */
export function codeOfReason(reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : /^(E[A-Z0-9_]+):/.exec(reason)?.[1];
}
