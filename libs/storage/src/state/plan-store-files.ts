import type Database from 'better-sqlite3';
import type { FileEntry } from '@filer/core';

/** A walked file waiting to be named (a rename's `{counter}` needs them all in path order first). */
export type StoredFile = Required<Pick<FileEntry, 'path'>> &
  Pick<FileEntry, 'size' | 'mtimeMs' | 'dev' | 'ino' | 'mtimeSec' | 'mtimeNsec' | 'etag'>;

/** The files in path order (built when they are read, unless the store made it first: PlanStore.create's sortAsAdded). */
export const FILE_ORDER = 'CREATE INDEX IF NOT EXISTS file_order ON file (path, id)';

/** Adds walked files to a plan store's `file` table (one transaction per call). */
export function addFiles(db: Database.Database, files: readonly StoredFile[]): void {
  const s = db.prepare('INSERT INTO file (path, size, mtime_ms, dev, ino, mtime_sec, mtime_nsec, etag) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const f of files)
      s.run(
        f.path,
        f.size ?? null,
        f.mtimeMs ?? null,
        f.dev ?? null,
        f.ino ?? null,
        f.mtimeSec ?? null,
        f.mtimeNsec ?? null,
        f.etag ?? null,
      );
  })();
}

/**
 * The added files in path order (SQLite's, by UTF-8 bytes: see docs/architecture.md), `size` at a
 * time; the files are dropped once the last page is read.
 */
export function* filePages(db: Database.Database, size: number): Generator<FileEntry[]> {
  db.exec(FILE_ORDER);
  // Raw rows: no object with eight keys made per file before its entry is.
  const page = db
    .prepare(
      'SELECT path, id, size, mtime_ms, dev, ino, mtime_sec, mtime_nsec, etag FROM file WHERE (path, id) > (?, ?) ORDER BY path, id LIMIT ?',
    )
    .raw();
  type FileTuple = [
    string,
    number,
    number | null,
    number | null,
    number | null,
    number | null,
    number | null,
    number | null,
    string | null,
  ];
  for (let last: FileTuple | undefined; ;) {
    const rows = page.all(last?.[0] ?? '', last?.[1] ?? -1, size) as FileTuple[];
    if (rows.length === 0) break;
    last = rows[rows.length - 1];
    yield rows.map(([path, , size, mtimeMs, dev, ino, mtimeSec, mtimeNsec, etag]) => {
      const e: FileEntry = { path, kind: 'file' };
      if (size !== null) e.size = size;
      if (mtimeMs !== null) e.mtimeMs = mtimeMs;
      if (dev !== null && ino !== null) {
        e.dev = dev;
        e.ino = ino;
      }
      if (mtimeSec !== null && mtimeNsec !== null) {
        e.mtimeSec = mtimeSec;
        e.mtimeNsec = mtimeNsec;
      }
      // An object's identity is its ETag (identityOfEntry).
      if (etag !== null) e.etag = etag;
      return e;
    });
  }
  db.exec('DROP TABLE file');
}
