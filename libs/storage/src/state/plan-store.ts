import * as fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { FileEntry } from '@filer/core';
import type { Claim, Conflict, FileIdentity, MoveRequest, PlannedMove, TargetIndex } from '@filer/engine';
import type { KeyListing } from '../batch-sink.js';
import { openScratchDb } from './scratch-db.js';
import { addFiles, FILE_ORDER, filePages, type StoredFile } from './plan-store-files.js';
import { actionOf, moveOf, requestOf, type ActRow, type ActTuple, type ReqTuple } from './plan-store-rows.js';

/** One walked file's request, as the walk finds it (any order): `root` and `sortKey` give its place in the plan. */
export interface StoredRequest {
  root: number;
  sortKey: string;
  source: string;
  target: string;
  size: number;
  sourceId?: FileIdentity;
  /** Which of the `within` directories given to `requests` holds its target (a rename: its root's index). */
  scope?: number;
  /** Why its target is no valid name (see MoveRequest.invalidName). */
  invalidName?: string;
  /** A word shown beside its action in the plan (a rename: where `{date}` came from). */
  note?: string;
}

export type { StoredFile } from './plan-store-files.js';

const SCHEMA = `
  CREATE TABLE req (id INTEGER PRIMARY KEY, root INTEGER NOT NULL, sort_key TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
                    size INTEGER NOT NULL, dev INTEGER, ino INTEGER, mtime_ns TEXT, etag TEXT, scope INTEGER NOT NULL, invalid TEXT, note TEXT);
  CREATE TABLE file (id INTEGER PRIMARY KEY, path TEXT NOT NULL, size INTEGER, mtime_ms REAL, dev INTEGER, ino INTEGER, mtime_sec INTEGER, mtime_nsec INTEGER, etag TEXT);
  CREATE TABLE act (seq INTEGER PRIMARY KEY, req INTEGER NOT NULL, key TEXT NOT NULL UNIQUE, source TEXT NOT NULL, claim_target TEXT NOT NULL,
                    target TEXT, size INTEGER NOT NULL, dev INTEGER, ino INTEGER, mtime_ns TEXT, etag TEXT,
                    overwrite INTEGER NOT NULL DEFAULT 0, keep INTEGER NOT NULL DEFAULT 0, ord INTEGER NOT NULL, sub INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE conflict (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
  CREATE TABLE listed (key TEXT PRIMARY KEY) WITHOUT ROWID;`;

const PAGE = 4096;
const REQ_COLUMNS = 'root, sort_key, id, source, target, size, dev, ino, mtime_ns, etag, scope, invalid';
const REQ_ORDER = `CREATE INDEX IF NOT EXISTS req_order ON req (${REQ_COLUMNS})`;

/** The directories targets must stay inside: one for all, or one per scope (a rename's roots). */
export type Within = string | readonly string[];

const withinOf = (within: Within | undefined, scope: number): string | undefined =>
  typeof within === 'string' || within === undefined ? within : within[scope];

/**
 * A plan on disk: a batch job's requests, the actions and conflicts planned from them, in a SQLite
 * file of its own (no journal, no fsync: it is rebuilt from the walk if lost, and removed when
 * closed). Requests arrive in walk order and are read back in plan order through an index
 * (SQLite sorts it externally); the planner's TargetIndex is indexed tables (sources of `req`,
 * `act.key`), so a plan of any size holds no record per file in memory. Only the actions on
 * chains (a target that is another request's source: renames onto each other) are read back
 * into memory, to be ordered. An S3 destination's listing is kept here too (`listing`): the
 * planner's `exists` and the apply's "was it there?" are a key lookup each.
 */
export class PlanStore implements TargetIndex {
  private readonly db: Database.Database;
  private readonly addStmt: Database.Statement;
  private stmts?: ReturnType<PlanStore['prepare']>;
  /** The request being planned (its `req.id`), and how many actions were recorded. */
  private current = 0;
  private seq = 0;
  /** How a live source is matched: `source`, or `fold(source)` on a case-insensitive destination. */
  private fsrc = 'source';
  private reordered = false;
  private chainIndex = false;
  private listStmts?: { add: Database.Statement; has: Database.Statement };
  private notes = false;
  private sourceIndex = false;
  private isSourceStmt?: Database.Statement;
  /** The requests were added in plan order (seal's `inOrder`): read by rowid. */
  private inOrder = false;

  private readonly file: string;

  private constructor(
    dir: string,
    /** Requests read (and planned in one transaction) at a time. */
    private readonly page: number,
    sortAsAdded?: 'requests' | 'files',
  ) {
    ({ db: this.db, file: this.file } = openScratchDb(dir, 'plan', 32768));
    this.db.exec(SCHEMA);
    // The index that puts them in plan order, kept as rows are added rather than built in one
    // statement at the end: a worker's event loop then never waits for the whole sort (about 1 s
    // per 1,000,000 requests), each add a little longer instead; about the same time in all.
    if (sortAsAdded === 'requests') this.db.exec(REQ_ORDER);
    if (sortAsAdded === 'files') this.db.exec(FILE_ORDER);
    this.addStmt = this.db.prepare(
      'INSERT INTO req (root, sort_key, source, target, size, dev, ino, mtime_ns, etag, scope, invalid, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * A new, empty plan store in `dir` (created if missing); `page`: see the constructor (tests cross
   * pages with a small one). `sortAsAdded`: the requests (a copy's or move's) or the files (a
   * rename's) are indexed in plan order as they are added, not when sealed (a cluster worker's).
   */
  static create(dir: string, { page = PAGE, sortAsAdded }: { page?: number; sortAsAdded?: 'requests' | 'files' } = {}): PlanStore {
    return new PlanStore(dir, page, sortAsAdded);
  }

  /** Adds walked requests (one transaction per call). */
  add(rows: readonly StoredRequest[]): void {
    const s = this.addStmt;
    this.db.transaction(() => {
      for (const r of rows) {
        const id = r.sourceId;
        s.run(
          r.root,
          r.sortKey,
          r.source,
          r.target,
          r.size,
          id?.dev ?? null,
          id?.ino ?? null,
          id?.mtimeNs ?? null,
          id?.etag ?? null,
          r.scope ?? 0,
          r.invalidName ?? null,
          r.note ?? null,
        );
        if (r.note !== undefined) this.notes = true;
      }
    })();
  }

  /** Adds a page of a destination's listing (keys as URIs; one transaction per call; a key listed twice is kept once). */
  addListed(keys: readonly string[]): void {
    const add = this.listStatements().add;
    this.db.transaction(() => {
      for (const k of keys) add.run(k);
    })();
  }

  /** The stored destination listing, as the planner's view and the apply's S3FileOps read it. */
  get listed(): KeyListing {
    const s = this.listStatements();
    return { has: (key) => s.has.get(key) !== undefined, add: (key) => void s.add.run(key) };
  }

  private listStatements(): NonNullable<PlanStore['listStmts']> {
    this.listStmts ??= {
      add: this.db.prepare('INSERT OR IGNORE INTO listed (key) VALUES (?)'),
      has: this.db.prepare('SELECT 1 FROM listed WHERE key = ?').pluck(),
    };
    return this.listStmts;
  }

  /** Adds walked files to be named later, in path order (`filePages`): a rename's first pass. */
  addFiles(files: readonly StoredFile[]): void {
    addFiles(this.db, files);
  }

  /** The added files in path order, `size` at a time (see `filePages` in plan-store-files.ts). */
  filePages(size: number): Generator<FileEntry[]> {
    return filePages(this.db, size);
  }

  /**
   * Indexes the requests in plan order (roots as given, path order below each) and by source
   * (folded by `fold` when given: a case-insensitive destination). Returns their number.
   */
  seal(fold?: (p: string) => string, { inOrder = false }: { inOrder?: boolean } = {}): number {
    if (fold !== undefined) {
      this.db.function('fold', { deterministic: true }, (p: unknown) => fold(String(p)));
      this.fsrc = 'fold(source)';
    }
    // Covering: the planner reads the requests in this order from the index alone, sequentially.
    // Requests added in plan order already (`inOrder`: a rename's, named in path order) are read
    // by rowid, with no index to sort. The index by source (req_fsrc) is built on its first
    // lookup: a plan whose targets all are new (a copy into a fresh destination) never asks
    // whether a target is another's source.
    if (!inOrder) this.db.exec(REQ_ORDER);
    this.inOrder = inOrder;
    this.stmts = this.prepare();
    return this.db.prepare('SELECT count(*) FROM req').pluck().get() as number;
  }

  private prepare() {
    return {
      claimOf: this.db.prepare('SELECT source, claim_target AS target FROM act WHERE key = ?'),
      reserve: this.db.prepare(
        `INSERT INTO act (seq, req, key, source, claim_target, target, size, dev, ino, mtime_ns, etag, overwrite, keep, ord)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      conflict: this.db.prepare('INSERT INTO conflict (kind, source, target, detail) VALUES (?, ?, ?, ?)'),
      // Rows as arrays (REQ_COLUMNS' order): no object with twelve keys made per request read.
      first: this.db.prepare(`SELECT ${REQ_COLUMNS} FROM req ORDER BY ${this.reqOrder} LIMIT ?`).raw(),
      page: this.db
        .prepare(
          `SELECT ${REQ_COLUMNS} FROM req WHERE ${this.inOrder ? 'id > ?' : '(root, sort_key, id) > (?, ?, ?)'} ORDER BY ${this.reqOrder} LIMIT ?`,
        )
        .raw(),
      begin: this.db.prepare('BEGIN'),
      commit: this.db.prepare('COMMIT'),
    };
  }

  private get reqOrder(): string {
    return this.inOrder ? 'id' : 'root, sort_key, id';
  }

  private get s(): NonNullable<PlanStore['stmts']> {
    if (this.stmts === undefined) throw new Error('PlanStore: seal() first');
    return this.stmts;
  }

  /** The requests in plan order, a page at a time, each page's planning in one transaction. */
  *requests(within?: Within): Generator<MoveRequest> {
    for (let last: ReqTuple | undefined; ;) {
      const after = last === undefined ? undefined : this.inOrder ? [last[2]] : [last[0], last[1], last[2]];
      const rows = (after === undefined ? this.s.first.all(this.page) : this.s.page.all(...after, this.page)) as ReqTuple[];
      if (rows.length === 0) return;
      this.s.begin.run();
      try {
        for (const r of rows) {
          this.current = r[2];
          yield requestOf(r, withinOf(within, r[10]));
        }
      } finally {
        this.s.commit.run();
      }
      last = rows[rows.length - 1];
    }
  }

  isSource(key: string): boolean {
    this.isSourceStmt ??= this.sourceIndexed().prepare(`SELECT 1 FROM req WHERE ${this.fsrc} = ? AND source <> target LIMIT 1`).pluck();
    return this.isSourceStmt.get(key) !== undefined;
  }

  /** Builds the index of live sources (once; inside the open page transaction if any, which SQLite allows). */
  private sourceIndexed(): Database.Database {
    if (!this.sourceIndex) this.db.exec(`CREATE INDEX req_fsrc ON req (${this.fsrc}) WHERE source <> target`);
    this.sourceIndex = true;
    return this.db;
  }

  claimOf(key: string): Claim | undefined {
    return this.s.claimOf.get(key) as Claim | undefined;
  }

  reserve(key: string, claim: Claim, action?: PlannedMove): void {
    const seq = ++this.seq;
    const id = action?.sourceId;
    this.s.reserve.run(
      seq,
      this.current,
      key,
      claim.source,
      claim.target,
      action?.target ?? null,
      action?.size ?? 0,
      id?.dev ?? null,
      id?.ino ?? null,
      id?.mtimeNs ?? null,
      id?.etag ?? null,
      action?.overwrite ? 1 : 0,
      action === undefined ? 1 : 0,
      seq,
    );
  }

  addConflict(c: Conflict): void {
    this.s.conflict.run(c.kind, c.source, c.target, c.detail);
  }

  /**
   * The accepted actions on a chain, in plan order: those whose target is a live request's
   * source, and those whose source such a target is (see MovePlanner.settle). Usually none.
   */
  chainMembers(within?: Within): Map<PlannedMove, number> {
    // Driven from the requests (a key lookup each): a correlated fold() in EXISTS would scan.
    const waiting = `SELECT a.seq FROM req q CROSS JOIN act a ON a.key = ${this.sourceKey('q')} WHERE q.source <> q.target AND a.keep = 0`;
    if (this.db.prepare(waiting + ' LIMIT 1').get() === undefined) return new Map();
    this.db.exec('CREATE INDEX act_req ON act (req)');
    this.chainIndex = true;
    const rows = this.db
      .prepare(
        `SELECT a.seq, a.source, a.target, a.size, a.dev, a.ino, a.mtime_ns, a.etag, a.overwrite FROM act a
         WHERE a.seq IN (${waiting}
                         UNION SELECT b.seq FROM req q CROSS JOIN act a ON a.key = ${this.sourceKey('q')} AND a.keep = 0
                                                       JOIN act b ON b.req = q.id AND b.keep = 0 WHERE q.source <> q.target)
         ORDER BY a.seq`,
      )
      .all() as ActRow[];
    // settle decides by paths alone: a member's `within` (one per scope) is only carried along.
    return new Map(rows.map((r) => [this.toMove(r, typeof within === 'string' ? within : undefined), r.seq]));
  }

  /** `key` is the source of a live request that no action carries out. */
  staysAt(key: string): boolean {
    if (!this.chainIndex) throw new Error('PlanStore: chainMembers() first');
    this.sourceIndexed();
    const sql = `SELECT 1 FROM req r WHERE ${this.sourceKey('r')} = ? AND r.source <> r.target AND NOT EXISTS (SELECT 1 FROM act WHERE req = r.id AND keep = 0) LIMIT 1`;
    return this.db.prepare(sql).get(key) !== undefined;
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
    const a = this.db.prepare('SELECT count(*) AS n, total(size) AS bytes FROM act WHERE keep = 0').get() as {
      n: number;
      bytes: number;
    };
    const conflicts = this.db.prepare('SELECT count(*) FROM conflict').pluck().get() as number;
    return { actions: a.n, bytes: a.bytes, conflicts };
  }

  /** The planned actions in the order they are to run, streamed from disk a page at a time. */
  *actions(): Generator<PlannedMove & { note?: string }> {
    // A request's note, when any was given, by its id (the rowid: one lookup per action).
    const note = this.notes ? ', (SELECT note FROM req WHERE id = a.req) AS note' : '';
    const columns = `a.seq, a.ord, a.sub, source, target, size, dev, ino, mtime_ns, etag, overwrite${note}`;
    // Paged by the order's own key (seq, or ord, sub, seq once chains were reordered): rows read
    // a page per call, not one per call as iterate() reads them.
    const [after, order] = this.reordered ? ['(a.ord, a.sub, a.seq) > (?, ?, ?)', 'a.ord, a.sub, a.seq'] : ['a.seq > ?', 'a.seq'];
    const stmt = this.db.prepare(`SELECT ${columns} FROM act a WHERE keep = 0 AND ${after} ORDER BY ${order} LIMIT ?`).raw();
    for (let last: ActTuple | undefined; ;) {
      const from = last === undefined ? [-1, -1, -1] : [last[1], last[2], last[0]];
      const rows = stmt.all(...(this.reordered ? from : [last === undefined ? -1 : last[0]]), this.page) as ActTuple[];
      if (rows.length === 0) return;
      for (const r of rows) yield actionOf(r);
      last = rows[rows.length - 1];
    }
  }

  *conflicts(): Generator<Conflict> {
    yield* this.db.prepare('SELECT kind, source, target, detail FROM conflict ORDER BY id').iterate() as IterableIterator<Conflict>;
  }

  /** Closes and removes the store's file. */
  close(): void {
    this.db.close();
    fs.rmSync(this.file, { force: true });
  }

  private sourceKey(alias: string): string {
    return this.fsrc === 'source' ? `${alias}.source` : `fold(${alias}.source)`;
  }

  private toMove(r: ActRow, within?: string): PlannedMove {
    return { ...moveOf(r, within), ...(r.overwrite === 1 ? { overwrite: true } : {}) };
  }
}
