import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import type { DedupeTargetClaims } from '@filer/engine';
import { openScratchDb } from './scratch-db.js';
import { defaultStatePath } from './state-location.js';

/**
 * What a streamed dedupe plan must remember between groups, on disk: the move-to targets claimed
 * (a second copy bound for one path is skipped) and the skipped copies, printed after the groups.
 * Both are a row per copy, so they go to a scratch SQLite file (no journal, no fsync, removed when
 * closed, as the dupes spill is), opened only when first needed: a hard-link plan without skips
 * never creates it.
 */
export class DedupeScratch implements DedupeTargetClaims {
  private db?: Database.Database;
  private file?: string;
  private claimStmt?: Database.Statement;
  private skipStmt?: Database.Statement;
  private skipCount = 0;

  /** `dir`: where the file goes (by default `spill` beside the state database, as the dupes spill). */
  constructor(private readonly dir: string = path.join(path.dirname(defaultStatePath()), 'spill')) {}

  /** A scratch store in the `spill` directory beside the state database at `statePath`. */
  static besideState(statePath: string | undefined): DedupeScratch {
    return new DedupeScratch(path.join(path.dirname(statePath ?? defaultStatePath()), 'spill'));
  }

  private open(): Database.Database {
    if (this.db !== undefined) return this.db;
    // A small cache: rows are written once and read once, in order.
    ({ db: this.db, file: this.file } = openScratchDb(this.dir, 'dedupe', 2048));
    this.db.exec(
      'CREATE TABLE target (path TEXT PRIMARY KEY) WITHOUT ROWID; CREATE TABLE skip (seq INTEGER PRIMARY KEY, line TEXT NOT NULL)',
    );
    this.claimStmt = this.db.prepare('INSERT OR IGNORE INTO target VALUES (?)');
    this.skipStmt = this.db.prepare('INSERT INTO skip VALUES (?, ?)');
    return this.db;
  }

  claim(target: string): boolean {
    this.open();
    return this.claimStmt!.run(target).changes === 1;
  }

  /** Keeps one skipped copy (as its caller will print it), in order. */
  addSkip(line: string): void {
    this.open();
    this.skipStmt!.run(++this.skipCount, line);
  }

  get skipped(): number {
    return this.skipCount;
  }

  /** The skipped copies in the order they were added, read from disk a row at a time. */
  *skips(): Generator<string> {
    if (this.db === undefined) return;
    for (const [line] of this.db.prepare('SELECT line FROM skip ORDER BY seq').raw().iterate() as IterableIterator<[string]>) yield line;
  }

  /** Closes and removes the file, if one was made. */
  close(): void {
    if (this.db === undefined) return;
    this.db.close();
    this.db = undefined;
    // Exclusive locking keeps a journal file beside it even with journaling off.
    fs.rmSync(this.file!, { force: true });
    fs.rmSync(`${this.file}-journal`, { force: true });
  }
}
