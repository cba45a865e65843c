import pg from 'pg';
import { FilerError } from '@filer/core';
import { migrate } from './migrate.js';

/** The cluster's PostgreSQL: a connection pool whose schema is brought up to date before the first query. */
export interface JobDatabase {
  /** Runs a query once the schema is migrated; a failure is a FilerError `E_DATABASE`. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Resolves once the migrations have run (they run once per process; a failure is retried on the next call). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

// int8 (COUNT, bigint sizes) as numbers: sizes and counts here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Opens a pool on FILER_DATABASE_URL. Connecting is lazy: a process starts while the database is still coming up. */
export function openJobDatabase(url: string, opts: { max?: number } = {}): JobDatabase {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4, idleTimeoutMillis: 30_000 });
  // An idle client's error (the server restarted) must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  let migrated: Promise<void> | undefined;
  const ready = (): Promise<void> =>
    (migrated ??= migrate(pool).then(
      () => undefined,
      (err: unknown) => {
        migrated = undefined;
        throw asDatabaseError(err);
      },
    ));
  return {
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      await ready();
      try {
        return await pool.query<R>(text, values);
      } catch (err) {
        throw asDatabaseError(err);
      }
    },
    ready,
    close: () => pool.end(),
  };
}

function asDatabaseError(err: unknown): FilerError {
  if (err instanceof FilerError) return err;
  return new FilerError('E_DATABASE', `job database: ${(err as Error).message}`, { cause: err });
}
