import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type Database from 'better-sqlite3';
import { QUARANTINE_NAME } from '@filer/core';
import type { DupeGroup, DuplicatedDir, EqualDirGroup } from '@filer/engine';
import { openScratchDb } from '../state/scratch-db.js';
import { childOf, holdsAnyFile, sizeOf } from './dir-other-entries.js';

// `filer dupes --dirs` with every record on disk: the engine's findDupeDirs (libs/engine/src/dupes/
// dupe-dirs.ts, the oracle of this one's tests) holds an entry per file and a record per directory;
// here both are rows of a scratch SQLite file, so memory holds one group or one directory's listing.
// The same rules: a directory's content is its entries' names and contents, recursively; only the
// outermost equal sets and all-duplicated directories are reported, largest first.

/** Directories read from the store per query while ranking or listing them. */
const PAGE = 512;

interface DirRow {
  id: number;
  path: string;
}

/** Equal and all-duplicated directories of a dupes run's groups, worked out in a scratch SQLite file in `dir`. */
export class DupeDirsOnDisk {
  private readonly db: Database.Database;
  private readonly file: string;
  private readonly tops: string[];
  private readonly stmt: Record<
    'dirId' | 'addDir' | 'addEntry' | 'count' | 'ancestors' | 'cover' | 'isEntry' | 'setUnique' | 'setSig',
    Database.Statement
  >;

  /** `roots`: as the walk wrote its paths (no trailing slash). */
  constructor(roots: readonly string[], dir: string) {
    // The outermost root holding a path: a root inside another is one of its directories.
    this.tops = roots.map((r) => (r.length > 1 && r.endsWith('/') ? r.slice(0, -1) : r)).sort((a, b) => a.length - b.length);
    ({ db: this.db, file: this.file } = openScratchDb(dir, 'dirs', 16384));
    this.db.exec(`
      CREATE TABLE dir (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, parent INTEGER, depth INTEGER NOT NULL,
                        files INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, covered INTEGER NOT NULL DEFAULT 0,
                        uniq INTEGER NOT NULL DEFAULT 0, sig INTEGER, equal INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE entry (dir INTEGER NOT NULL, name TEXT NOT NULL, content TEXT NOT NULL);
      CREATE INDEX entry_dir ON entry (dir, name);
      CREATE TABLE sig (digest BLOB PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;`);
    const p = (sql: string): Database.Statement => this.db.prepare(sql);
    const up =
      'WITH RECURSIVE up(id) AS (SELECT ? UNION ALL SELECT dir.parent FROM dir JOIN up ON dir.id = up.id WHERE dir.parent IS NOT NULL)';
    this.stmt = {
      dirId: p('SELECT id FROM dir WHERE path = ?').pluck(),
      ancestors: p(`${up} SELECT id FROM up`).pluck(),
      cover: p('UPDATE dir SET covered = covered + ? WHERE id = ?'),
      addDir: p('INSERT INTO dir (path, parent, depth) VALUES (?, ?, ?)'),
      addEntry: p('INSERT INTO entry VALUES (?, ?, ?)'),
      count: p(`${up} UPDATE dir SET files = files + 1, bytes = bytes + ?, covered = covered + ? WHERE id IN (SELECT id FROM up)`),
      isEntry: p('SELECT 1 FROM entry WHERE dir = ? AND name = ?').pluck(),
      setUnique: p('UPDATE dir SET uniq = 1 WHERE id = ?'),
      setSig: p('UPDATE dir SET sig = ? WHERE id = ?'),
    };
  }

  private topOf(p: string): string | undefined {
    return this.tops.find((t) => p === t || p.startsWith(t === '/' ? '/' : t + '/'));
  }

  /** The id of directory `d` below `top` (made with its ancestors up to `top` when new). */
  private ensure(d: string, top: string): number {
    const id = this.stmt.dirId.get(d) as number | undefined;
    if (id !== undefined) return id;
    const parent = d === top ? null : this.ensure(d.slice(0, Math.max(1, d.lastIndexOf('/'))), top);
    return Number(this.stmt.addDir.run(d, parent, d.split('/').length).lastInsertRowid);
  }

  /** The directory holding `p`, or undefined for a root itself or a path above every root. */
  private dirOf(p: string): number | undefined {
    const top = this.topOf(p);
    if (top === undefined || p === top) return undefined;
    return this.ensure(p.slice(0, Math.max(1, p.lastIndexOf('/'))), top);
  }

  /** A file (or opaque entry) below a directory: `key` its content, undefined for unique. */
  private addFile(p: string, size: number, key: string | undefined, at?: number): void {
    const d = at ?? this.dirOf(p);
    if (d === undefined) return;
    if (key === undefined) this.stmt.setUnique.run(d);
    else this.stmt.addEntry.run(d, p.slice(p.lastIndexOf('/') + 1), 'f' + key);
    // An empty file equals every other: it never keeps a directory from being all duplicated.
    this.stmt.count.run(d, size, key === 'empty' ? 1 : 0);
  }

  /** Adds the run's groups, one at a time: each file as its directory's entry, and who has copies outside. */
  addGroups(groups: Iterable<DupeGroup>): void {
    this.db.transaction(() => {
      for (const g of groups) {
        const key = `${g.size}:${g.hash}`;
        const under = new Map<number, number>();
        for (const p of g.paths) {
          const d = this.dirOf(p);
          if (d === undefined) continue;
          this.addFile(p, g.size, key, d);
          for (const a of this.ancestors(d)) under.set(a, (under.get(a) ?? 0) + 1);
        }
        // Each directory holding some but not all of the group's files has that many copied elsewhere.
        for (const [a, n] of under) if (n < g.paths.length) this.stmt.cover.run(n, a);
      }
    })();
  }

  private ancestors(d: number): number[] {
    return this.stmt.ancestors.all(d) as number[];
  }

  /**
   * Lists every directory holding a grouped file or lying between one and its root, once: what else
   * it holds (empty files; unique files, symlinks, other entries and subdirectories with a file
   * somewhere below them) counts in its content. No file is read; a file in no group is lstat'ed.
   */
  addOtherEntries(): void {
    const page = this.db.prepare('SELECT id, path FROM dir WHERE id > ? ORDER BY id LIMIT ?');
    const known = this.stmt.dirId;
    // Listing adds entries to known directories, never a directory: the pages cover exactly the groups' ones.
    this.db.transaction(() => {
      for (let after = 0, rows: DirRow[]; (rows = page.all(after, PAGE) as DirRow[]).length > 0; after = rows[rows.length - 1].id)
        for (const { id, path: dir } of rows) this.listOthers(id, dir, (p) => known.get(p) !== undefined);
    })();
  }

  private listOthers(id: number, dir: string, isCandidate: (p: string) => boolean): void {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return this.addFile(childOf(dir, '\0unreadable'), 0, undefined, id);
    }
    for (const e of entries) {
      if (e.name === QUARANTINE_NAME || this.stmt.isEntry.get(id, e.name) !== undefined) continue;
      const p = childOf(dir, e.name);
      if (e.isDirectory()) {
        if (!isCandidate(p) && holdsAnyFile(p)) this.addFile(p, 0, undefined, id);
      } else if (e.isFile()) {
        const size = sizeOf(p);
        this.addFile(p, size ?? 0, size === 0 ? 'empty' : undefined, id);
      } else this.addFile(p, 0, undefined, id);
    }
  }

  /**
   * Content ids bottom-up (deepest first, a depth at a time): a directory's entries sorted by name
   * are digested (SHA-256) and interned, so equal ids mean equal trees; its id becomes an entry of
   * its parent. A directory holding a unique entry makes its parent unique too.
   */
  rank(): void {
    const maxDepth = (this.db.prepare('SELECT max(depth) FROM dir').pluck().get() as number | null) ?? 0;
    const page = this.db.prepare('SELECT id, path, parent, files, uniq FROM dir WHERE depth = ? AND id > ? ORDER BY id LIMIT ?');
    const entries = this.db.prepare('SELECT name, content FROM entry WHERE dir = ? ORDER BY name').raw();
    const findSig = this.db.prepare('SELECT id FROM sig WHERE digest = ?').pluck();
    const addSig = this.db.prepare('INSERT INTO sig VALUES (?, ?)');
    let sigs = 0;
    this.db.transaction(() => {
      for (let depth = maxDepth; depth > 0; depth--) {
        type Row = DirRow & { parent: number | null; files: number; uniq: number };
        for (let after = 0, rows: Row[]; (rows = page.all(depth, after, PAGE) as Row[]).length > 0; after = rows[rows.length - 1].id) {
          for (const d of rows) {
            if (d.uniq !== 0) {
              if (d.parent !== null) this.stmt.setUnique.run(d.parent);
              continue;
            }
            if (d.files === 0) continue; // holds no file at any depth: ignored
            const h = createHash('sha256');
            for (const [name, content] of entries.iterate(d.id) as IterableIterator<[string, string]>) h.update(`${name}\0${content}\n`);
            const digest = h.digest();
            let sig = findSig.get(digest) as number | undefined;
            if (sig === undefined) addSig.run(digest, (sig = sigs++));
            this.stmt.setSig.run(sig, d.id);
            if (d.parent !== null) this.stmt.addEntry.run(d.parent, d.path.slice(d.path.lastIndexOf('/') + 1), 'd' + sig);
          }
        }
      }
      this.db.exec(`CREATE INDEX dir_sig ON dir (sig);
        UPDATE dir SET equal = 1 WHERE sig IN (SELECT sig FROM dir WHERE sig IS NOT NULL GROUP BY sig HAVING count(*) > 1)`);
    })();
  }

  /** Sets of equal directories, largest first, leaving out a set whose every member lies in an equal set. */
  *equalSets(): Generator<EqualDirGroup> {
    const sets = this.db
      .prepare(
        `SELECT d.sig, max(d.bytes), max(d.files) FROM dir d LEFT JOIN dir p ON p.id = d.parent
         WHERE d.equal = 1 GROUP BY d.sig HAVING min(coalesce(p.equal, 0)) = 0 ORDER BY max(d.bytes) DESC, max(d.files) DESC, min(d.path)`,
      )
      .raw();
    const members = this.db.prepare('SELECT path FROM dir WHERE sig = ? ORDER BY path').pluck();
    // Read whole (a row per set) before the members are asked: one statement at a time on a connection.
    const found = sets.all() as [number, number, number][];
    for (const [sig, bytes, files] of found) yield { bytes, files, dirs: members.all(sig) as string[] };
  }

  /** Directories every file of which has a copy outside them (and not inside such a one, nor in an equal set), largest first. */
  *duplicatedDirs(): Generator<DuplicatedDir> {
    const rows = this.db
      .prepare(
        `SELECT d.path, d.bytes, d.files FROM dir d LEFT JOIN dir p ON p.id = d.parent
         WHERE d.files > 0 AND d.covered = d.files AND d.equal = 0 AND NOT coalesce(p.files > 0 AND p.covered = p.files, 0)
         ORDER BY d.bytes DESC, d.files DESC, d.path`,
      )
      .raw();
    for (const [dir, bytes, files] of rows.iterate() as IterableIterator<[string, number, number]>) yield { dir, bytes, files };
  }

  /** Closes and removes the file. */
  close(): void {
    this.db.close();
    fs.rmSync(this.file, { force: true });
    fs.rmSync(`${this.file}-journal`, { force: true });
  }
}
