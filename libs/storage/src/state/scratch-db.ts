import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { FilerError } from '@filer/core';

/**
 * A SQLite file one process works in and removes when done (a plan store, a dupes spill): named
 * `<kind>-<pid>-<random>.db`, so the next run removes the ones of processes that are gone (killed
 * mid-run), never one of a live process. No journal, no fsync: its content is rebuilt if it is
 * lost. Big pages (rows are paths, written and read in long runs).
 */
export function openScratchDb(dir: string, kind: string, cacheKiB: number): { db: Database.Database; file: string } {
  const file = path.join(dir, `${kind}-${process.pid}-${randomBytes(4).toString('hex')}.db`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    sweepStale(dir, kind);
    const db = new Database(file);
    db.pragma('page_size = 65536');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('temp_store = FILE');
    db.pragma(`cache_size = -${cacheKiB}`);
    return { db, file };
  } catch (e) {
    throw new FilerError('E_IO', `cannot create a ${kind} store: ${(e as Error).message}`, { path: file, cause: e });
  }
}

function sweepStale(dir: string, kind: string): void {
  const name = new RegExp(`^${kind}-(\\d+)-[0-9a-f]+\\.db(-journal)?$`);
  for (const entry of fs.readdirSync(dir)) {
    const pid = name.exec(entry)?.[1];
    if (pid === undefined || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(path.join(dir, entry), { force: true });
    }
  }
}
