import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { FilerError } from '@filer/core';

/** Schema migrations, applied in order; the index + 1 is the version stored in `user_version`. */
const MIGRATIONS = [
  `CREATE TABLE file_hashes (
     algo TEXT NOT NULL,
     path TEXT NOT NULL,
     dev INTEGER NOT NULL,
     ino INTEGER NOT NULL,
     size INTEGER NOT NULL,
     mtime_sec INTEGER NOT NULL,
     mtime_nsec INTEGER NOT NULL,
     sample TEXT NOT NULL,
     full TEXT,
     last_seen INTEGER NOT NULL,
     PRIMARY KEY (algo, path)
   ) WITHOUT ROWID;
   CREATE INDEX file_hashes_last_seen ON file_hashes (last_seen);`,
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     options TEXT NOT NULL,
     created_dirs TEXT NOT NULL DEFAULT '[]'
   );
   CREATE TABLE job_actions (
     job_id TEXT NOT NULL REFERENCES jobs (id),
     seq INTEGER NOT NULL,
     source TEXT NOT NULL,
     target TEXT NOT NULL,
     size INTEGER NOT NULL,
     overwrite INTEGER NOT NULL,
     state TEXT NOT NULL,
     reason TEXT,
     target_ino INTEGER,
     target_mtime REAL,
     PRIMARY KEY (job_id, seq)
   ) WITHOUT ROWID;`,
  // The hash cache becomes one row per directory (see sqlite-hash-cache.ts); old rows are only a cache.
  `DROP TABLE file_hashes;
   CREATE TABLE dir_hashes (
     algo TEXT NOT NULL,
     dir TEXT NOT NULL,
     entries TEXT NOT NULL,
     n INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     PRIMARY KEY (algo, dir)
   );
   CREATE INDEX dir_hashes_last_seen ON dir_hashes (last_seen);`,
  // Journal format 2: identities as JSON (source as planned, target once done), the reason a job
  // stopped; jobs journaled before keep format 1 and are refused for resume and undo.
  `ALTER TABLE jobs ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE jobs ADD COLUMN reason TEXT;
   ALTER TABLE job_actions ADD COLUMN source_id TEXT;
   ALTER TABLE job_actions ADD COLUMN target_id TEXT;`,
  // The paths a job's plan had to leave out (a directory it could not read, say), as JSON.
  `ALTER TABLE jobs ADD COLUMN path_errors TEXT;`,
  // The directories a job made, a row each (in the order made): appending to jobs.created_dirs
  // rewrote the whole JSON list per new directory, quadratic in a tree's directories (a 100k-file
  // copy spent a third of its time there). Jobs journaled before keep their list in that column.
  `CREATE TABLE job_created_dirs (
     job_id TEXT NOT NULL REFERENCES jobs (id),
     dir TEXT NOT NULL
   );
   CREATE INDEX job_created_dirs_job ON job_created_dirs (job_id);`,
  // How many paths a plan left out, when more than the first few kept in path_errors.
  `ALTER TABLE jobs ADD COLUMN path_error_count INTEGER;`,
  // A dedupe job's step per action (op, kept file and its identity, a symlink's text), as JSON.
  `ALTER TABLE job_actions ADD COLUMN dedupe TEXT;`,
];

/**
 * The CLI's embedded state: one SQLite file in WAL mode, so several filer processes can read and
 * write it at once (writers wait up to 10 s for each other).
 */
export function openStateDb(file: string): Database.Database {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    // The timeout first: switching to WAL and migrating take locks another process may hold.
    db.pragma('busy_timeout = 10000');
    // A new file gets 16 KiB pages: a hash-cache row (one directory's entries) is a few KiB, and
    // on 4 KiB pages most rows spilled onto overflow pages (writing 1,500 of them took twice as
    // long). An existing file keeps its page size: the pragma only applies before the first table.
    db.pragma('page_size = 16384');
    // Switching a new file to WAL can report SQLITE_BUSY at once, without waiting, while another
    // process does the same: retry for as long as the busy timeout would have waited.
    retryWhileBusy(() => db.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    // Reads map the file instead of copying its pages through SQLite's own cache.
    db.pragma('mmap_size = 268435456');
    retryWhileBusy(() => migrate(db));
    return db;
  } catch (e) {
    if (e instanceof FilerError) throw e;
    throw new FilerError('E_IO', `cannot open the state database: ${(e as Error).message}`, { path: file, cause: e });
  }
}

/** The state database at `file` when one is there, else undefined (nothing is created). */
export function openExistingStateDb(file: string): Database.Database | undefined {
  return fs.existsSync(file) ? openStateDb(file) : undefined;
}

/** Reads the version and applies what is missing inside one write transaction, so two processes never both migrate. */
const pause = new Int32Array(new SharedArrayBuffer(4));

function retryWhileBusy<T>(fn: () => T, timeoutMs = 10_000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() > deadline) throw e;
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
    }
  }
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new FilerError(
        'E_IO',
        `state database has schema version ${version}, newer than this filer understands (${MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    if (version < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
