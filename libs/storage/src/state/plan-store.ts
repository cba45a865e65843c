import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { FilerError } from '@filer/core';
import type { Claim, Conflict, FileIdentity, MoveRequest, PlannedMove, TargetIndex } from '@filer/engine';

/** One walked file's request, as the walk finds it (any order): `root` and `sortKey` give its place in the plan. */
export interface StoredRequest {
  root: number;
  sortKey: string;
  source: string;
  target: string;
  size: number;
  sourceId?: FileIdentity;
}

interface ReqRow {
  seq: number;
  source: string;
  target: string;
  size: number;
  dev: number | null;
  ino: number | null;
  mtime_ns: string | null;
}

interface ActRow extends ReqRow {
  overwrite: number;
}

const SCHEMA = `
  CREATE TABLE entry (root INTEGER NOT NULL, sort_key TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
                      size INTEGER NOT NULL, dev INTEGER, ino INTEGER, mtime_ns TEXT);
  CREATE TABLE req (seq INTEGER PRIMARY KEY, fsrc TEXT, source TEXT NOT NULL, target TEXT NOT NULL,
                    size INTEGER NOT NULL, dev INTEGER, ino INTEGER, mtime_ns TEXT);
  CREATE TABLE act (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, claim_source TEXT NOT NULL, claim_target TEXT NOT NULL,
                    target TEXT, overwrite INTEGER NOT NULL DEFAULT 0, keep INTEGER NOT NULL DEFAULT 0,
                    ord INTEGER NOT NULL, sub INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE conflict (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);`;

const PAGE = 4096;

function idOf(r: ReqRow): FileIdentity | undefined {
  return r.dev === null || r.ino === null || r.mtime_ns === null ? undefined : { dev: r.dev, ino: r.ino, size: r.size, mtimeNs: r.mtime_ns };
}

/**
 * A plan on disk: a batch job's requests, the actions and conflicts planned from them, in a SQLite
 * file of its own (no journal, no fsync: it is rebuilt from the walk if lost, and removed when
 * closed). Requests arrive in walk order and are put in plan order by SQLite's own (external)
 * sort; the planner's TargetIndex is two indexed tables (`req.fsrc`, `act.key`), so a plan of any
 * size holds no record per file in memory. Only the actions on chains (a target that is another
 * request's source: renames onto each other) are read back into memory, to be ordered.
 */
export class PlanStore implements TargetIndex {
  /** The request being planned: what `reserve` records an action for. */
  current = 0;
  private readonly db: Database.Database;
  private readonly stmts;
  private reordered = false;

  private constructor(private readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma('temp_store = FILE');
    this.db.pragma('cache_size = -32768'); // 32 MiB of page cache
    this.db.exec(SCHEMA);
    this.stmts = {
      addEntry: this.db.prepare('INSERT INTO entry VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      isSource: this.db.prepare('SELECT 1 FROM req WHERE fsrc = ? LIMIT 1').pluck(),
      claimOf: this.db.prepare('SELECT claim_source AS source, claim_target AS target FROM act WHERE key = ?'),
      reserve: this.db.prepare('INSERT INTO act (seq, key, claim_source, claim_target, target, overwrite, keep, ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      conflict: this.db.prepare('INSERT INTO conflict (kind, source, target, detail) VALUES (?, ?, ?, ?)'),
      page: this.db.prepare('SELECT seq, source, target, size, dev, ino, mtime_ns FROM req WHERE seq > ? ORDER BY seq LIMIT ?'),
    };
  }

  /** A new, empty plan store in `dir` (created if missing). */
  static create(dir: string): PlanStore {
    const file = path.join(dir, `plan-${process.pid}-${randomBytes(4).toString('hex')}.db`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      return new PlanStore(file);
    } catch (e) {
      throw new FilerError('E_IO', `cannot create a plan store: ${(e as Error).message}`, { path: file, cause: e });
    }
  }

  /** Adds walked requests (one transaction per call). */
  add(rows: readonly StoredRequest[]): void {
    const s = this.stmts.addEntry;
    this.db.transaction(() => {
      for (const r of rows)
        s.run(r.root, r.sortKey, r.source, r.target, r.size, r.sourceId?.dev ?? null, r.sourceId?.ino ?? null, r.sourceId?.mtimeNs ?? null);
    })();
  }

  /**
   * Puts the requests in plan order (roots as given, path order below each) and indexes their
   * sources (folded by `fold` when given: a case-insensitive destination). Returns their number.
   */
  seal(fold?: (p: string) => string): number {
    if (fold !== undefined) this.db.function('fold', { deterministic: true }, (p: unknown) => fold(String(p)));
    const fsrc = fold === undefined ? 'source' : 'fold(source)';
    this.db.exec(`
      INSERT INTO req (fsrc, source, target, size, dev, ino, mtime_ns)
        SELECT CASE WHEN source = target THEN NULL ELSE ${fsrc} END, source, target, size, dev, ino, mtime_ns
        FROM entry ORDER BY root, sort_key;
      DROP TABLE entry;
      CREATE INDEX req_fsrc ON req (fsrc) WHERE fsrc IS NOT NULL;`);
    return this.db.prepare('SELECT count(*) FROM req').pluck().get() as number;
  }

  /** The requests in plan order, a page at a time, each page's planning in one transaction. */
  *requests(within?: string): Generator<MoveRequest> {
    for (let after = 0; ; ) {
      const rows = this.stmts.page.all(after, PAGE) as ReqRow[];
      if (rows.length === 0) return;
      const tx = this.db.prepare('BEGIN');
      tx.run();
      try {
        for (const r of rows) {
          this.current = r.seq;
          const id = idOf(r);
          yield { source: r.source, target: r.target, size: r.size, ...(within === undefined ? {} : { within }), ...(id ? { sourceId: id } : {}) };
        }
      } finally {
        this.db.prepare('COMMIT').run();
      }
      after = rows[rows.length - 1].seq;
    }
  }

  isSource(key: string): boolean {
    return this.stmts.isSource.get(key) !== undefined;
  }

  claimOf(key: string): Claim | undefined {
    return this.stmts.claimOf.get(key) as Claim | undefined;
  }

  reserve(key: string, claim: Claim, action?: PlannedMove): void {
    const keep = action === undefined ? 1 : 0;
    this.stmts.reserve.run(this.current, key, claim.source, claim.target, action?.target ?? null, action?.overwrite ? 1 : 0, keep, this.current);
  }

  addConflict(c: Conflict): void {
    this.stmts.conflict.run(c.kind, c.source, c.target, c.detail);
  }

  /**
   * The accepted actions on a chain, in plan order: those whose target is a live request's
   * source, and those whose source such a target is (see MovePlanner.settle). Usually none.
   */
  chainMembers(within?: string): Map<PlannedMove, number> {
    const rows = this.db
      .prepare(
        `SELECT r.seq, r.source, a.target, r.size, r.dev, r.ino, r.mtime_ns, a.overwrite FROM act a JOIN req r ON r.seq = a.seq
         WHERE a.seq IN (SELECT a.seq FROM act a WHERE a.keep = 0 AND EXISTS (SELECT 1 FROM req q WHERE q.fsrc = a.key)
                         UNION SELECT b.seq FROM act a JOIN req q ON q.fsrc = a.key JOIN act b ON b.seq = q.seq AND b.keep = 0 WHERE a.keep = 0)
         ORDER BY r.seq`,
      )
      .all() as ActRow[];
    return new Map(rows.map((r) => [this.toMove(r, within), r.seq]));
  }

  /** `key` is the source of a live request that no action carries out. */
  staysAt(key: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM req r WHERE r.fsrc = ? AND NOT EXISTS (SELECT 1 FROM act WHERE seq = r.seq AND keep = 0) LIMIT 1')
        .get(key) !== undefined
    );
  }

  /** Records settle's verdict on the chain members: a member not ordered was refused; the others take their place. */
  reorder(members: Map<PlannedMove, number>, ordered: readonly { action: PlannedMove; anchor: PlannedMove; k: number }[]): void {
    const place = new Map(ordered.map((o) => [o.action, o]));
    const drop = this.db.prepare('DELETE FROM act WHERE seq = ?');
    const move = this.db.prepare('UPDATE act SET ord = ?, sub = ? WHERE seq = ?');
    this.db.transaction(() => {
      for (const [action, seq] of members) {
        const o = place.get(action);
        if (o === undefined) drop.run(seq);
        else move.run(members.get(o.anchor)!, o.k, seq);
      }
    })();
    if (members.size > 0) {
      this.db.exec('CREATE INDEX act_order ON act (ord, sub)');
      this.reordered = true;
    }
  }

  /** How many actions, their bytes, and how many conflicts. */
  totals(): { actions: number; bytes: number; conflicts: number } {
    const a = this.db.prepare('SELECT count(*) AS n, total(r.size) AS bytes FROM act a JOIN req r ON r.seq = a.seq WHERE a.keep = 0').get() as {
      n: number;
      bytes: number;
    };
    const conflicts = this.db.prepare('SELECT count(*) FROM conflict').pluck().get() as number;
    return { actions: a.n, bytes: a.bytes, conflicts };
  }

  /** The planned actions in the order they are to run, streamed from disk. */
  *actions(): Generator<PlannedMove> {
    const order = this.reordered ? 'a.ord, a.sub' : 'a.seq';
    const stmt = this.db.prepare(
      `SELECT r.seq, r.source, a.target, r.size, r.dev, r.ino, r.mtime_ns, a.overwrite FROM act a JOIN req r ON r.seq = a.seq
       WHERE a.keep = 0 ORDER BY ${order}`,
    );
    for (const r of stmt.iterate() as IterableIterator<ActRow>) yield this.toMove(r);
  }

  *conflicts(): Generator<Conflict> {
    yield* this.db.prepare('SELECT kind, source, target, detail FROM conflict ORDER BY id').iterate() as IterableIterator<Conflict>;
  }

  /** Closes and removes the store's file. */
  close(): void {
    this.db.close();
    fs.rmSync(this.file, { force: true });
  }

  private toMove(r: ActRow, within?: string): PlannedMove {
    const id = idOf(r);
    return {
      source: r.source,
      target: r.target,
      size: r.size,
      ...(within === undefined ? {} : { within }),
      ...(id ? { sourceId: id } : {}),
      ...(r.overwrite === 1 ? { overwrite: true } : {}),
    };
  }
}
