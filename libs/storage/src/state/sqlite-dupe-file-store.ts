import * as fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { DupeFile, DupeFileStore, EmptyCounts, RankedFile } from '@filer/engine';
import { openScratchDb } from './scratch-db.js';

type Row = [rank: number, size: number, dev: number, ino: number, mtimeSec: number, mtimeNsec: number, path: string];

/**
 * A dupes walk's files in a SQLite file of its own (no journal, no fsync: the walk is rerun if it
 * is lost; removed when closed, and by the next run if the process died). Files arrive in walk
 * order (their rank is the rowid); once the walk is done a covering index by size gives them back
 * one size at a time, largest first, read sequentially: SQLite sorts on disk, so memory holds one
 * group, never a record per file. Hash hints from a native scan (`cached`) are not kept: only the
 * portable walk and S3 listings spill, and they carry none.
 */
export class SqliteDupeFileStore implements DupeFileStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private added = 0;
  private sealed = false;

  private readonly file: string;

  private constructor(dir: string) {
    // A cache of 8 MiB: the reads are sequential.
    ({ db: this.db, file: this.file } = openScratchDb(dir, 'dupes', 8192));
    this.db.exec(`CREATE TABLE f (rank INTEGER PRIMARY KEY, size INTEGER NOT NULL, dev INTEGER NOT NULL, ino INTEGER NOT NULL,
                                  mtime_sec INTEGER NOT NULL, mtime_nsec INTEGER NOT NULL, path TEXT NOT NULL)`);
    this.insert = this.db.prepare('INSERT INTO f VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** A new, empty store in `dir` (created if missing). */
  static create(dir: string): SqliteDupeFileStore {
    return new SqliteDupeFileStore(dir);
  }

  get count(): number {
    return this.added;
  }

  /** Adds walked files (one transaction per call). */
  add(files: readonly DupeFile[]): void {
    const s = this.insert;
    this.db.transaction(() => {
      for (const f of files) s.run(this.added++, f.size, f.dev, f.ino, f.mtimeSec, f.mtimeNsec, f.path);
    })();
  }

  /** The covering index the reads go through, made once the walk is done (SQLite sorts on disk). */
  private indexed(): void {
    if (this.sealed) return;
    this.db.exec('CREATE INDEX f_size ON f (size DESC, rank, dev, ino, mtime_sec, mtime_nsec, path)');
    this.sealed = true;
  }

  emptyCounts(): EmptyCounts {
    this.indexed();
    // DISTINCT builds its temporary b-trees on disk (temp_store = FILE), however many empty files.
    return this.db
      .prepare(
        `SELECT (SELECT count(*) FROM f WHERE size = 0) AS files,
                (SELECT count(*) FROM (SELECT DISTINCT dev, ino FROM f WHERE size = 0)) AS inodes,
                (SELECT count(*) FROM (SELECT DISTINCT dev, ino, path FROM f WHERE size = 0)) AS names`,
      )
      .get() as EmptyCounts;
  }

  *sizeGroups(withEmpty: boolean): Iterable<RankedFile[]> {
    this.indexed();
    // Read from the index alone, in order; sizes held once are skipped by the subquery, which reads the same index.
    const rows = this.db
      .prepare(
        `SELECT rank, size, dev, ino, mtime_sec, mtime_nsec, path FROM f
         WHERE size IN (SELECT size FROM f WHERE size > ? GROUP BY size HAVING count(*) > 1) ORDER BY size DESC, rank`,
      )
      .raw()
      .iterate(withEmpty ? -1 : 0) as IterableIterator<Row>;
    let group: RankedFile[] = [];
    for (const [rank, size, dev, ino, mtimeSec, mtimeNsec, p] of rows) {
      if (group.length > 0 && group[0].file.size !== size) {
        yield group;
        group = [];
      }
      group.push({ rank, file: { path: p, size, dev, ino, mtimeSec, mtimeNsec } });
    }
    if (group.length > 0) yield group;
  }

  /** Closes and removes the files. */
  close(): void {
    this.db.close();
    // Exclusive locking keeps a journal file beside the store even with journaling off.
    fs.rmSync(this.file, { force: true });
    fs.rmSync(`${this.file}-journal`, { force: true });
  }
}
