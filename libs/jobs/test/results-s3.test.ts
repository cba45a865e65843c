import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, s3ConfigFromEnv, S3ResultObjects } from '@filer/storage/s3';
import { DirResultsStore, ObjectResultsStore, type ResultsStore } from '@filer/storage/results';
import { openStateDb } from '@filer/storage/state';
import { startS3Server, type S3ServerHandle } from '@filer/testing';
import { JOURNAL_CHECKPOINT_MS, withShardJournal, type ClusterContext } from '@filer/jobs';

/*
 * The S3 adapter of the results port against the directory adapter, on a real s3rver: the same
 * parts give the same bytes for every page, record copies keep the higher revision, a shard's
 * journal is saved while it runs and when it ends, and removing a job removes its objects only.
 */

const BUCKET = 'results-port';

let server: S3ServerHandle;
let work: string;
let dir: DirResultsStore;
let s3: ObjectResultsStore;
let objects: S3ResultObjects;

async function bytes(chunks: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out).toString('utf8');
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-results-port-'));
  // The SDK's credential chain reads AWS_* from the environment, as the workers' does.
  Object.assign(process.env, server.env());
  objects = new S3ResultObjects(createS3Client(s3ConfigFromEnv(server.env())), { bucket: BUCKET, key: 'r/' });
  dir = new DirResultsStore(path.join(work, 'dir'));
  s3 = new ObjectResultsStore(async () => objects, path.join(work, 'scratch'), `s3://${BUCKET}/r/`);
  // Parts of 0, 7, 1, 0 and 13 records, and one above the reader's 1 MiB chunks.
  for (const store of [dir, s3] as ResultsStore[]) {
    let n = 0;
    for (const [p, size] of [0, 7, 1, 0, 13].entries())
      await store.writePart(
        'job',
        'scan',
        `p${p}`,
        Array.from({ length: size }, () => `{"path":"/r/${n++}","kind":"file"}\n`),
      );
    await store.writePart(
      'job',
      'scan',
      'p9',
      Array.from({ length: 9000 }, (_, i) => `{"path":"/big/${'x'.repeat(i % 200)}"}\n`),
    );
  }
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('results on S3 against results in a directory', () => {
  it('lists, streams and pages parts exactly as the directory does', async () => {
    expect(await s3.listParts('job', 'scan')).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p9']);
    expect(await s3.listParts('job', 'scan')).toEqual(await dir.listParts('job', 'scan'));
    expect(await all(s3.lines('job', 'scan'))).toEqual(await all(dir.lines('job', 'scan')));
    for (const cursor of [0, 7, 8, 21, 4500, 9022])
      for (const limit of [undefined, 1, 14]) {
        const range = { cursor, limit };
        expect(await bytes(s3.records('job', 'scan', range)), `cursor ${cursor} limit ${limit}`).toBe(
          await bytes(dir.records('job', 'scan', range)),
        );
      }
    expect(await bytes(s3.records('none', 'scan', { cursor: 0 }))).toBe('');
    await expect(all(s3.partLines('job', 'scan', 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('counts a replaced part again (a retried shard uploads over it: another ETag)', async () => {
    expect(await bytes(s3.records('job', 'scan', { cursor: 8, limit: 1 }))).toBe('{"path":"/r/8","kind":"file"}\n');
    // Grown to 10 records: a stale count (7) would skip the whole part at cursor 8.
    await s3.writePart(
      'job',
      'scan',
      'p1',
      Array.from({ length: 10 }, (_, i) => `{"path":"/again/${i}"}\n`),
    );
    expect(await bytes(s3.records('job', 'scan', { cursor: 8, limit: 1 }))).toBe('{"path":"/again/8"}\n');
  });

  it('keeps the record copy of the higher revision, lists ids newest first, removes one', async () => {
    const copies = s3.recordCopies<{ id: string; rev: number; state: string }>(/^[0-9a-z]{17}$/);
    await copies.write({ id: '0000000000000aaaa', rev: 3, state: 'completed' });
    await copies.write({ id: '0000000000000aaaa', rev: 2, state: 'running' });
    await copies.write({ id: '0000000000000bbbb', rev: 0, state: 'queued' });
    expect(await copies.read('0000000000000aaaa')).toEqual({ id: '0000000000000aaaa', rev: 3, state: 'completed' });
    expect(await copies.ids()).toEqual(['0000000000000bbbb', '0000000000000aaaa']);
    await copies.remove('0000000000000bbbb');
    expect(await copies.read('0000000000000bbbb')).toBeUndefined();
  });

  it('saves a shard journal while the shard runs and when it ends; none without create', async () => {
    const ctx = { results: s3 } as unknown as ClusterContext;
    expect(await withShardJournal(ctx, 'job', '00000', false, () => Promise.resolve(1))).toBeUndefined();
    const stored = async (): Promise<number> => {
      const file = path.join(work, `peek-${Date.now()}.db`);
      if (!(await objects.download('job/journal/00000.db', file))) return -1;
      const db = openStateDb(file);
      try {
        return (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await withShardJournal(ctx, 'job', '00000', true, async (db) => {
      db.exec('CREATE TABLE t (x)');
      db.prepare('INSERT INTO t VALUES (1)').run();
      // Mid-shard, as a worker that dies now would leave it: the checkpoint holds the row.
      await new Promise((r) => setTimeout(r, JOURNAL_CHECKPOINT_MS * 1.5 + 500));
      expect(await stored()).toBe(1);
      db.prepare('INSERT INTO t VALUES (2)').run();
    });
    expect(await stored()).toBe(2);
    // The next shard (a retry, an undo) finds it and continues it.
    await withShardJournal(ctx, 'job', '00000', false, async (db) => {
      expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(2);
    });
    expect(fs.readdirSync(path.join(work, 'scratch')), 'scratch copies released').toEqual([]);
  });

  it('removes every object of one job and nothing of another', async () => {
    await s3.writePart('other', 'scan', 'p0', ['{}\n']);
    await s3.remove('job');
    expect(await all(objects.list('job/'))).toEqual([]);
    expect(await s3.listParts('other', 'scan')).toEqual(['p0']);
    await s3.check();
  });
});
