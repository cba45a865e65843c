import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { PathError } from '@filer/core';
import {
  JOURNAL_FORMAT,
  type ActionPageQuery,
  type ActionState,
  type BatchKind,
  type DedupeStep,
  type FileIdentity,
  type JobRecord,
  type JobState,
  type Journal,
  type JournalAction,
} from '@filer/engine';

interface JobRow {
  id: string;
  kind: BatchKind;
  state: JobState;
  created_at: number;
  updated_at: number;
  options: string;
  created_dirs: string;
  format: number;
  reason: string | null;
  path_errors: string | null;
  path_error_count: number | null;
}

interface ActionRow {
  seq: number;
  source: string;
  target: string;
  size: number;
  overwrite: number;
  state: ActionState;
  reason: string | null;
  source_id: string | null;
  target_id: string | null;
  dedupe: string | null;
}

const idText = (id: FileIdentity | undefined): string | null => (id === undefined ? null : JSON.stringify(id));
const idOf = (text: string | null): FileIdentity | undefined => (text === null ? undefined : (JSON.parse(text) as FileIdentity));

function toAction(r: ActionRow): JournalAction {
  return {
    seq: r.seq,
    source: r.source,
    target: r.target,
    size: r.size,
    overwrite: r.overwrite === 1,
    state: r.state,
    reason: r.reason ?? undefined,
    sourceId: idOf(r.source_id),
    targetId: idOf(r.target_id),
    ...(r.dedupe === null ? {} : { dedupe: JSON.parse(r.dedupe) as DedupeStep }),
  };
}

/** Short, sortable, unique job ids: time in base 36 and four random bytes. */
export function newJobId(now: number = Date.now()): string {
  return now.toString(36) + '-' + randomBytes(4).toString('hex');
}

/**
 * The CLI's jobs and their write-ahead journals in the state database. The connection runs with
 * `synchronous = FULL`, so a plan is on disk before `create` returns and before any file is touched.
 */
export class SqliteJournal implements Journal {
  /** Statements prepared once per connection, not once per call (a resume reads hundreds of pages and records as many batches). */
  private readonly prepared = new Map<string, Database.Statement>();

  private stmt(sql: string): Database.Statement {
    let s = this.prepared.get(sql);
    if (s === undefined) this.prepared.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    db.pragma('synchronous = FULL');
    // Not mapped: a journal is read a page at a time, and the state database's 256 MiB mapping
    // put that much of a 1,000,000-action journal into the process's resident set (RssShmem/RssFile).
    db.pragma('mmap_size = 0');
  }

  create(
    kind: BatchKind,
    actions: Iterable<Omit<JournalAction, 'seq' | 'state'>>,
    options: JobRecord['options'],
    pathErrors: readonly PathError[] = [],
    pathErrorCount = pathErrors.length,
    chosenId?: string,
  ): JobRecord {
    const now = this.now();
    const id = chosenId ?? newJobId(now);
    const insert = this.stmt(
      'INSERT INTO job_actions (job_id, seq, source, target, size, overwrite, state, source_id, dedupe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.stmt(
        'INSERT INTO jobs (id, kind, state, created_at, updated_at, options, format, path_errors, path_error_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        id,
        kind,
        'planned',
        now,
        now,
        JSON.stringify(options),
        JOURNAL_FORMAT,
        pathErrors.length === 0 ? null : JSON.stringify(pathErrors.map(({ path, code, message }) => ({ path, code, message }))),
        pathErrorCount > pathErrors.length ? pathErrorCount : null,
      );
      let seq = 0;
      for (const a of actions)
        insert.run(
          id,
          ++seq,
          a.source,
          a.target,
          a.size,
          a.overwrite ? 1 : 0,
          'pending',
          idText(a.sourceId),
          a.dedupe === undefined ? null : JSON.stringify(a.dedupe),
        );
    })();
    return this.get(id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.stmt('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && this.toRecord(row);
  }

  list(limit: number): JobRecord[] {
    return (this.stmt('SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?').all(limit) as JobRow[]).map((r) => this.toRecord(r));
  }

  /** Every action of a job, in memory: `jobs show` of a small job, tests. Apply, resume and undo page (actionPage). */
  actions(id: string): JournalAction[] {
    return (this.stmt('SELECT * FROM job_actions WHERE job_id = ? ORDER BY seq').all(id) as ActionRow[]).map(toAction);
  }

  actionPage(id: string, page: ActionPageQuery): JournalAction[] {
    const desc = page.before !== undefined;
    const states = page.states ?? [];
    // The primary key (job_id, seq) serves the cursor; a state filter reads past the rows it skips.
    const sql =
      `SELECT * FROM job_actions WHERE job_id = ? AND seq ${desc ? '<' : '>'} ?` +
      (states.length > 0 ? ` AND state IN (${states.map(() => '?').join(', ')})` : '') +
      ` ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
    const cursor = desc ? Math.min(page.before!, Number.MAX_SAFE_INTEGER) : (page.after ?? 0);
    return (this.stmt(sql).all(id, cursor, ...states, page.limit) as ActionRow[]).map(toAction);
  }

  /** How many actions a job has and their bytes (a shard's progress), counted in the database. */
  totals(id: string): { actions: number; bytes: number } {
    const r = this.stmt('SELECT count(*) AS n, total(size) AS bytes FROM job_actions WHERE job_id = ?').get(id) as {
      n: number;
      bytes: number;
    };
    return { actions: r.n, bytes: r.bytes };
  }

  setJobState(id: string, state: JobState, reason?: string): void {
    this.stmt('UPDATE jobs SET state = ?, reason = ?, updated_at = ? WHERE id = ?').run(state, reason ?? null, this.now(), id);
  }

  record(id: string, updates: Parameters<Journal['record']>[1]): void {
    const stmt = this.stmt('UPDATE job_actions SET state = ?, reason = ?, target_id = ? WHERE job_id = ? AND seq = ?');
    this.db.transaction(() => {
      for (const u of updates) stmt.run(u.state, u.reason ?? null, idText(u.targetId), id, u.seq);
      this.stmt('UPDATE jobs SET updated_at = ? WHERE id = ?').run(this.now(), id);
    })();
  }

  addCreatedDirs(id: string, dirs: string[]): void {
    if (dirs.length === 0) return;
    const stmt = this.stmt('INSERT INTO job_created_dirs (job_id, dir) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const dir of dirs) stmt.run(id, dir);
    })();
  }

  /** In the order they were made: the JSON list of jobs journaled before job_created_dirs, then its rows. */
  private createdDirs(r: JobRow): string[] {
    const rows = this.stmt('SELECT dir FROM job_created_dirs WHERE job_id = ? ORDER BY rowid').pluck().all(r.id) as string[];
    return [...(JSON.parse(r.created_dirs) as string[]), ...rows];
  }

  private toRecord(r: JobRow): JobRecord {
    const counts: Record<ActionState, number> = { pending: 0, done: 0, failed: 0, skipped: 0, undone: 0 };
    for (const c of this.stmt('SELECT state, count(*) AS n FROM job_actions WHERE job_id = ? GROUP BY state').all(r.id) as {
      state: ActionState;
      n: number;
    }[]) {
      counts[c.state] = c.n;
    }
    return {
      id: r.id,
      kind: r.kind,
      state: r.state,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      options: JSON.parse(r.options) as JobRecord['options'],
      createdDirs: this.createdDirs(r),
      counts,
      format: r.format,
      ...(r.reason === null ? {} : { reason: r.reason }),
      ...(r.path_errors === null ? {} : { pathErrors: JSON.parse(r.path_errors) as PathError[] }),
      ...(r.path_error_count === null ? {} : { pathErrorCount: r.path_error_count }),
    };
  }
}
