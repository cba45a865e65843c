import type { Pool } from 'pg';
import { FilerError } from '@filer/core';
import { MIGRATIONS, type Migration } from './migrations.js';

/** The advisory lock every process takes around migrating ("FILR"), so several starting at once apply each step once. */
const MIGRATION_LOCK = 0x46494c52;

/**
 * Brings the job database's schema up to date: creates `schema_migrations`, then applies each
 * migration not recorded there, each in its own transaction with its row. Idempotent, and safe when
 * the API and several workers start together: they wait on one advisory lock and find the work done.
 * A schema newer than this code knows (a later version ran first) is left as it is. Returns the
 * versions applied.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new FilerError('E_DATABASE', `job database: migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(m.version);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
