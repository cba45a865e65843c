import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalAction } from '@filer/engine';
import {
  hashKeyText,
  MIGRATIONS,
  migrate,
  openJobDatabase,
  PgHashIndex,
  PgItemOutcomes,
  PgRecordCopies,
  type FileHashKey,
  type JobDatabase,
  type JobRecord,
  type ObjectHashKey,
} from '@filer/jobs';
import { startPostgres, type PostgresHandle } from '@filer/testing';

/** The job database on a real PostgreSQL 15 of the test's own: migrations, record copies, per-item outcomes. */
describe('the job database (PostgreSQL)', () => {
  let server: PostgresHandle;
  let db: JobDatabase;

  beforeAll(async () => {
    server = await startPostgres();
    db = openJobDatabase(server.url);
  });
  afterAll(async () => {
    await db?.close();
    await server?.stop();
  });

  it('migrates once when several processes start together, and again is a no-op', async () => {
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: server.url, max: 1 }));
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      // Exactly one of them applied each version; the others waited on the lock and found it done.
      expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(pools[0])).toEqual([]);
      const { rows } = await pools[0].query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('a failed migration rolls back and names its version (E_DATABASE)', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    try {
      const bad = { version: 999, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT * FROM no_such_table;' };
      await expect(migrate(pool, [...MIGRATIONS, bad])).rejects.toMatchObject({
        code: 'E_DATABASE',
        message: expect.stringMatching(/migration 999/),
      });
      const half = await pool.query("SELECT to_regclass('half') AS t");
      expect(half.rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });

  const record = (id: string, rev: number, state: JobRecord['state']): JobRecord =>
    ({
      id,
      kind: 'move',
      spec: { kind: 'move', roots: ['/r'], options: { dest: '/d' } },
      state,
      phase: 'apply',
      createdAt: '2026-12-07T10:00:00.000Z',
      updatedAt: new Date().toISOString(),
      rev,
      counters: { dirs: 0, entries: 0, matched: 0, errors: 0, errorsByCode: {} },
      shards: { total: 0, done: 0, failed: 0 },
      errorSample: [],
    }) as unknown as JobRecord;

  it('keeps the higher revision of a record, lists ids newest first, removes a record with its items', async () => {
    const sut = new PgRecordCopies(db);
    await sut.write(record('20261207T100000000Z-a', 2, 'applying'));
    await sut.write(record('20261207T100000000Z-a', 1, 'queued')); // late, older: ignored
    await sut.write(record('20261207T110000000Z-b', 0, 'queued'));
    expect((await sut.read('20261207T100000000Z-a'))?.state).toBe('applying');
    await sut.write(record('20261207T100000000Z-a', 3, 'completed'));
    expect(await sut.read('20261207T100000000Z-a')).toMatchObject({ state: 'completed', rev: 3 });
    expect(await sut.ids()).toEqual(['20261207T110000000Z-b', '20261207T100000000Z-a']);
    const { rows } = await db.query<{ state: string; kind: string }>('SELECT state, kind FROM jobs WHERE id = $1', [
      '20261207T100000000Z-a',
    ]);
    expect(rows[0]).toEqual({ state: 'completed', kind: 'move' });

    await new PgItemOutcomes(db).record({
      jobId: '20261207T110000000Z-b',
      phase: 'apply',
      action: 'move',
      shard: '00000',
      actions: [action(1, '/r/x', '/d/x', 'done')],
    });
    await sut.remove('20261207T110000000Z-b');
    expect(await sut.read('20261207T110000000Z-b')).toBeUndefined();
    expect(await new PgItemOutcomes(db).findPath('/r/x', 10)).toEqual([]);
  });

  const action = (seq: number, source: string, target: string, state: JournalAction['state'], reason?: string): JournalAction => ({
    seq,
    source,
    target,
    size: seq * 10,
    overwrite: false,
    state,
    ...(reason !== undefined ? { reason } : {}),
  });

  it('finds what every job did to a path, by source or target; a retried shard replaces its rows', async () => {
    const sut = new PgItemOutcomes(db);
    const many = Array.from({ length: 12_000 }, (_, i) => action(i, `/r/bulk/${i}`, `/d/bulk/${i}`, 'done'));
    await sut.record({ jobId: 'job-1', phase: 'apply', action: 'move', shard: '00000', actions: many });
    await sut.record({
      jobId: 'job-2',
      phase: 'apply',
      action: 'copy',
      shard: '00003',
      actions: [action(0, '/d/bulk/7', '/e/7', 'failed', 'E_CHANGED: /d/bulk/7 changed since the plan')],
    });
    const hits = await sut.findPath('/d/bulk/7', 10);
    expect(hits.map((h) => [h.jobId, h.action, h.source, h.target, h.state, h.code])).toEqual(
      expect.arrayContaining([
        ['job-1', 'move', '/r/bulk/7', '/d/bulk/7', 'done', undefined],
        ['job-2', 'copy', '/d/bulk/7', '/e/7', 'failed', 'E_CHANGED'],
      ]),
    );
    expect(hits).toHaveLength(2);
    // The retry of job-2's shard: now done. Same key, so the row is replaced, not added.
    await sut.record({ jobId: 'job-2', phase: 'apply', action: 'copy', shard: '00003', actions: [action(0, '/d/bulk/7', '/e/7', 'done')] });
    const again = await sut.findPath('/e/7', 10);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ jobId: 'job-2', state: 'done', size: 0 });
    expect(again[0].code).toBeUndefined();
    const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM job_items');
    expect(rows[0].n).toBe(12_001);
    expect(await sut.findPath('/nowhere', 10)).toEqual([]);
  });

  it('the shared hash index: files and objects by exact identity, one version kept per file, per algorithm', async () => {
    const sut = new PgHashIndex(db);
    const f = (ino: number, mtimeNsec = 0): FileHashKey => ({
      kind: 'file',
      volume: 'v1',
      ino,
      size: 10,
      mtimeSec: 1_700_000_000,
      mtimeNsec,
    });
    const o = (key: string, etag = '"e1"'): ObjectHashKey => ({
      kind: 'object',
      bucket: 'b',
      key,
      etag,
      size: 10,
      mtimeMs: 1_700_000_000_123,
    });
    // Many files in one save and one load: the batches of arrays, past one batch's 5,000.
    const many = Array.from({ length: 6_000 }, (_, i) => f(i + 1, 999_999_999));
    await sut.save(
      [
        ...many.map((key) => ({ key, scope: 'sample' as const, hash: `s${key.ino}` })),
        { key: f(1, 999_999_999), scope: 'full', hash: 'full1' },
        { key: o('k/1'), scope: 'sample', hash: 'os1' },
      ],
      'xxh128',
    );
    const loaded = await sut.load([...many, o('k/1'), o('k/1', '"e2"'), f(1, 5)], 'xxh128');
    expect(loaded.size).toBe(6_001);
    expect(loaded.get(hashKeyText(f(1, 999_999_999)))).toEqual({ sample: 's1', full: 'full1' });
    expect(loaded.get(hashKeyText(f(6_000, 999_999_999)))).toEqual({ sample: 's6000' });
    expect(loaded.get(hashKeyText(o('k/1')))).toEqual({ sample: 'os1' });
    // Another ETag, another mtime, another algorithm: not served.
    expect(loaded.has(hashKeyText(o('k/1', '"e2"')))).toBe(false);
    expect(loaded.has(hashKeyText(f(1, 5)))).toBe(false);
    expect((await sut.load([f(1, 999_999_999)], 'sha256')).size).toBe(0);

    // A new version of a file and of an object replaces the old one's rows (both scopes).
    await sut.save(
      [
        { key: f(1, 5), scope: 'sample', hash: 'new' },
        { key: o('k/1', '"e2"'), scope: 'sample', hash: 'onew' },
      ],
      'xxh128',
    );
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM file_hashes WHERE volume = 'v1' AND ino = 1");
    expect(rows[0].n).toBe(1);
    const objects = await db.query<{ etag: string }>("SELECT etag FROM object_hashes WHERE bucket = 'b' AND key = 'k/1'");
    expect(objects.rows).toEqual([{ etag: '"e2"' }]);
    expect((await sut.load([f(1, 5), f(1, 999_999_999)], 'xxh128')).get(hashKeyText(f(1, 5)))).toEqual({ sample: 'new' });

    // Two shards saving the same files at once (a rerun racing the first run): both succeed.
    await Promise.all(
      [1, 2].map((n) =>
        sut.save(
          many.slice(0, 500).map((key) => ({ key, scope: 'full' as const, hash: `h${n}` })),
          'xxh128',
        ),
      ),
    );
    const full = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM file_hashes WHERE volume = 'v1' AND scope = 'full'");
    expect(full.rows[0].n).toBe(500);
  });

  it('answers E_DATABASE when the database is unreachable', async () => {
    const gone = openJobDatabase('postgres://filer@127.0.0.1:1/filer');
    try {
      await expect(new PgRecordCopies(gone).read('x')).rejects.toMatchObject({ code: 'E_DATABASE' });
    } finally {
      await gone.close();
    }
  });
});
