import type Database from 'better-sqlite3';
import type { FileEntry } from '@filer/core';

/** A walked file waiting to be named (a rename's `{counter}` needs them all in path order first). */
export type StoredFile = Required<Pick<FileEntry, 'path'>> & Pick<FileEntry, 'size' | 'mtimeMs' | 'dev' | 'ino' | 'mtimeSec' | 'mtimeNsec'>;

/** Adds walked files to a plan store's `file` table (one transaction per call). */
export function addFiles(db: Database.Database, files: readonly StoredFile[]): void {
  const s = db.prepare('INSERT INTO file (path, size, mtime_ms, dev, ino, mtime_sec, mtime_nsec) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const f of files)
      s.run(f.path, f.size ?? null, f.mtimeMs ?? null, f.dev ?? null, f.ino ?? null, f.mtimeSec ?? null, f.mtimeNsec ?? null);
  })();
}

/**
 * The added files in path order (SQLite's, by UTF-8 bytes: see docs/architecture.md), `size` at a
 * time; the files are dropped once the last page is read.
 */
export function* filePages(db: Database.Database, size: number): Generator<FileEntry[]> {
  db.exec('CREATE INDEX file_order ON file (path, id)');
  const page = db.prepare('SELECT * FROM file WHERE (path, id) > (?, ?) ORDER BY path, id LIMIT ?');
  type FileRow = {
    id: number;
    path: string;
    size: number | null;
    mtime_ms: number | null;
    dev: number | null;
    ino: number | null;
    mtime_sec: number | null;
    mtime_nsec: number | null;
  };
  for (let last = { path: '', id: -1 }; ;) {
    const rows = page.all(last.path, last.id, size) as FileRow[];
    if (rows.length === 0) break;
    last = rows[rows.length - 1];
    yield rows.map((r) => ({
      path: r.path,
      kind: 'file' as const,
      ...(r.size === null ? {} : { size: r.size }),
      ...(r.mtime_ms === null ? {} : { mtimeMs: r.mtime_ms }),
      ...(r.dev === null || r.ino === null ? {} : { dev: r.dev, ino: r.ino }),
      ...(r.mtime_sec === null || r.mtime_nsec === null ? {} : { mtimeSec: r.mtime_sec, mtimeNsec: r.mtime_nsec }),
    }));
  }
  db.exec('DROP TABLE file');
}
