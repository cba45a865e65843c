import type { JobRecord } from '../job-record.js';
import type { RecordCopies } from '../record-copies.js';
import type { JobDatabase } from './job-database.js';

/**
 * Job records in the `jobs` table: the record as JSON beside the columns lists filter on. An
 * upsert keeps the higher revision, so two processes writing in quick succession cannot put an
 * older record back over a newer one.
 */
export class PgRecordCopies implements RecordCopies {
  constructor(private readonly db: JobDatabase) {}

  async write(rec: JobRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO jobs (id, kind, state, rev, created_at, updated_at, record) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, state = EXCLUDED.state, rev = EXCLUDED.rev,
         updated_at = EXCLUDED.updated_at, record = EXCLUDED.record
       WHERE jobs.rev <= EXCLUDED.rev`,
      [rec.id, rec.kind, rec.state, rec.rev ?? 0, rec.createdAt, rec.updatedAt, JSON.stringify(rec)],
    );
  }

  async read(id: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.query<{ record: JobRecord }>('SELECT record FROM jobs WHERE id = $1', [id]);
    return rows[0]?.record;
  }

  async ids(): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM jobs ORDER BY id DESC');
    return rows.map((r) => r.id);
  }

  async remove(id: string): Promise<void> {
    // One statement, so a record is never gone while its items stay (or the reverse).
    await this.db.query('WITH items AS (DELETE FROM job_items WHERE job_id = $1) DELETE FROM jobs WHERE id = $1', [id]);
  }
}
