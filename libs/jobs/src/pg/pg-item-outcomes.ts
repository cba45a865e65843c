import { codeOfReason, type ItemOutcome, type ItemOutcomes, type ShardOutcomes } from '../item-outcomes.js';
import type { JobDatabase } from './job-database.js';

/** Rows per INSERT: one round trip of arrays per batch, well under PostgreSQL's parameter limits (arrays are one parameter each). */
const BATCH = 5_000;

interface ItemRow {
  job_id: string;
  phase: string;
  action: string;
  source: string;
  target: string;
  size: number;
  state: string;
  code: string | null;
  reason: string | null;
  at: Date;
}

/** Per-item outcomes in `job_items`, written from a shard's journal in batches of arrays (`unnest`). */
export class PgItemOutcomes implements ItemOutcomes {
  constructor(private readonly db: JobDatabase) {}

  async record(s: ShardOutcomes): Promise<void> {
    const at = new Date().toISOString();
    for (let i = 0; i < s.actions.length; i += BATCH) {
      const batch = s.actions.slice(i, i + BATCH);
      await this.db.query(
        `INSERT INTO job_items (job_id, phase, shard, seq, action, source, target, size, state, code, reason, at)
         SELECT $1, $2, $3, u.seq, u.action, u.source, u.target, u.size, u.state, u.code, u.reason, $4
         FROM unnest($5::integer[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[])
           AS u(seq, source, target, size, state, code, reason, action)
         ON CONFLICT (job_id, phase, shard, seq) DO UPDATE SET state = EXCLUDED.state, code = EXCLUDED.code,
           reason = EXCLUDED.reason, at = EXCLUDED.at`,
        [
          s.jobId,
          s.phase,
          s.shard,
          at,
          batch.map((a) => a.seq),
          batch.map((a) => a.source),
          batch.map((a) => a.target),
          batch.map((a) => a.size),
          batch.map((a) => a.state),
          batch.map((a) => codeOfReason(a.reason) ?? null),
          batch.map((a) => a.reason ?? null),
          // A dedupe step names its own op (hardlink, remove, …); other kinds' items carry the job's kind.
          batch.map((a) => a.dedupe?.op ?? s.action),
        ],
      );
    }
  }

  async findPath(path: string, limit: number): Promise<ItemOutcome[]> {
    // Two index lookups joined with UNION ALL: an OR over two columns would not use both indexes.
    const { rows } = await this.db.query<ItemRow>(
      `SELECT * FROM (
         SELECT job_id, phase, action, source, target, size, state, code, reason, at FROM job_items WHERE source = $1
         UNION ALL
         SELECT job_id, phase, action, source, target, size, state, code, reason, at FROM job_items WHERE target = $1 AND source <> $1
       ) hits ORDER BY at DESC, job_id DESC LIMIT $2`,
      [path, limit],
    );
    return rows.map((r) => ({
      jobId: r.job_id,
      phase: r.phase,
      action: r.action,
      source: r.source,
      target: r.target,
      size: r.size,
      state: r.state,
      ...(r.code !== null ? { code: r.code } : {}),
      ...(r.reason !== null ? { reason: r.reason } : {}),
      at: r.at.toISOString(),
    }));
  }
}
