import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fastTmpDir,
  runFiler,
  startCluster,
  startPostgres,
  startRedis,
  type ClusterHandle,
  type PostgresHandle,
  type RedisHandle,
} from '@filer/testing';
import { contentListing, writeWideTree } from './tree-fixtures.js';

const FILES = 3_000;
/** The volume id FILER_VOLUMES gives the test's tree: the shared hash index keys its files by it. */
const VOLUME = 'e2e-volume-1';
/** Above the sample's whole-file limit (8 KiB): duplicates need a sample and then a full hash. */
const DUPE_SIZE = 20_000;

interface Job {
  id: string;
  state: string;
  code?: string;
  apply?: { done: number };
  dupes?: { groups: number; filesHashed: number; bytesHashed: number; cacheHits?: number };
}

/** `DUPE_SIZE` bytes of content `seed`, with byte `middle` (never in the sample) set apart when given. */
function content(seed: number, middle?: number): Buffer {
  const b = Buffer.alloc(DUPE_SIZE, seed % 251);
  b.write(`file ${seed}`, 0);
  if (middle !== undefined) b[DUPE_SIZE >> 1] = middle;
  return b;
}

/**
 * Duplicates of every kind the pipeline tells apart: 6 triples, 6 unique files of the same size,
 * 2 files whose samples match and middles differ (full hashes split them), and 3 small pairs.
 */
function writeDupesTree(root: string): void {
  for (let g = 0; g < 6; g++)
    for (let c = 0; c < 3; c++) {
      fs.mkdirSync(path.join(root, `d${c}`), { recursive: true });
      fs.writeFileSync(path.join(root, `d${c}`, `g${g}.bin`), content(g));
    }
  for (let u = 0; u < 6; u++) fs.writeFileSync(path.join(root, `u${u}.bin`), content(100 + u));
  fs.writeFileSync(path.join(root, 'm0.bin'), content(200, 1));
  fs.writeFileSync(path.join(root, 'm1.bin'), content(200, 2));
  for (let p = 0; p < 3; p++) for (const c of ['a', 'b']) fs.writeFileSync(path.join(root, `s${p}${c}.txt`), `small ${p}\n`);
}

/** The duplicate groups by content (sha256 of every byte): each group's sorted paths, joined. */
function groupsByContent(root: string): string[] {
  const by = new Map<string, string[]>();
  for (const f of filesBelow(root)) {
    const data = fs.readFileSync(f);
    if (data.length === 0) continue;
    const h = createHash('sha256').update(data).digest('hex');
    by.set(h, [...(by.get(h) ?? []), f]);
  }
  return [...by.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort().join('|'))
    .sort();
}

/** Every regular file below `root`, absolute. */
function filesBelow(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .flatMap((d) => (d.isFile() ? [path.join(d.parentPath, d.name)] : []));
}

/**
 * The cluster with its job database (FILER_DATABASE_URL, a PostgreSQL of the test's own): Redis is
 * flushed in the middle of a move, and neither a job record nor a per-item outcome is lost — the
 * records come back from PostgreSQL (none is written to the results volume), every file moved so
 * far has its `done` row, and `GET /v1/items` and `filer --server … jobs find-path` say which job
 * moved a file and where.
 */
describe('the cluster with a PostgreSQL job store', () => {
  let postgres: PostgresHandle;
  let redis: RedisHandle;
  let cluster: ClusterHandle;
  let db: pg.Pool;
  let base: string;

  const get = async (id: string): Promise<Job | undefined> => {
    const res = await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read }).catch(() => undefined);
    return res?.status === 200 ? ((await res.json()) as Job) : undefined;
  };
  const submit = async (spec: unknown): Promise<Job> => {
    const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
    expect(res.status, await res.clone().text()).toBe(202);
    return (await res.json()) as Job;
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const doneTargets = async (id: string): Promise<string[]> =>
    (
      await db.query<{ target: string }>("SELECT target FROM job_items WHERE job_id = $1 AND state = 'done' ORDER BY target", [id])
    ).rows.map((r) => r.target);

  beforeAll(async () => {
    base = fastTmpDir('filer-pg-store-');
    // Both servers at once: each takes a second or two.
    [postgres, redis] = await Promise.all([startPostgres(), startRedis({ detached: true })]);
    db = new pg.Pool({ connectionString: postgres.url, max: 2 });
    cluster = await startCluster({
      allowedRoots: [base],
      redis,
      batch: 1,
      env: {
        FILER_DATABASE_URL: postgres.url,
        FILER_VOLUMES: `${base}=${VOLUME}`,
        FILER_BATCH_SHARD_SIZE: '100',
        FILER_WORKER_CONCURRENCY: '1',
        FILER_LOCK_DURATION_MS: '2000',
        FILER_STALLED_INTERVAL_MS: '1000',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await db?.end();
    await Promise.all([postgres?.stop(), redis?.stop()]);
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }, 120_000);

  it('FLUSHALL mid-move loses no record and no per-item outcome; /v1/items and jobs find-path find a moved file', async () => {
    // The API's readiness includes the database.
    const ready = (await (await cluster.request('GET', '/health/ready')).json()) as { checks: Record<string, string> };
    expect(ready.checks.database).toBe('ok');
    const src = path.join(base, 'src');
    const dest = path.join(base, 'dest');
    writeWideTree(src, FILES);
    const before = contentListing(src);
    const earlier = await submit({ kind: 'find', roots: [src], options: { format: 'paths' } });
    await until('the find job completed', async () => ((await get(earlier.id))?.state === 'completed' ? true : undefined));
    const move = await submit({ kind: 'move', roots: [src], options: { dest }, apply: true });
    await until('the move half-way', async () =>
      (await get(move.id))?.state === 'applying' && filesBelow(dest).length > 0 ? true : undefined,
    );

    // Freeze the batch worker while Redis is flushed, so the loss lands mid-job, with a shard maybe half-done.
    const batch = cluster.workers.find((w) => w.name === 'batch-1')!;
    process.kill(batch.pid, 'SIGSTOP');
    const movedAtLoss = filesBelow(dest).length;
    try {
      expect(movedAtLoss).toBeLessThan(FILES);
      const redis = new Redis(cluster.redis.url);
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
    } finally {
      process.kill(batch.pid, 'SIGCONT');
    }

    // The records are back from PostgreSQL: the results volume holds no copy of them.
    expect(fs.existsSync(path.join(cluster.resultsDir, move.id, 'record.json'))).toBe(false);
    expect((await get(move.id))?.id).toBe(move.id);
    const listed = (await (await cluster.request('GET', '/v1/jobs?limit=10', { token: cluster.tokens.read })).json()) as { jobs: Job[] };
    expect(listed.jobs.map((j) => j.id)).toEqual(expect.arrayContaining([move.id, earlier.id]));
    const failed = await until('the move failed', async () => {
      const j = await get(move.id);
      return j !== undefined && ['failed', 'completed'].includes(j.state) ? j : undefined;
    });
    expect([failed.state, failed.code]).toEqual(['failed', 'E_QUEUE_STATE_LOST']);
    expect((await get(earlier.id))?.state).toBe('completed');

    // Every file moved so far has its `done` outcome, and no outcome names a file that is not there.
    const moved = await until('every moved file has its outcome', async () => {
      const onDisk = filesBelow(dest).sort();
      const rows = await doneTargets(move.id);
      return onDisk.length > 0 && rows.join('\n') === onDisk.join('\n') ? onDisk : undefined;
    });
    expect(moved.length).toBeGreaterThanOrEqual(movedAtLoss);
    expect(moved.length).toBeLessThan(FILES);
    console.info(`FLUSHALL with ${movedAtLoss} of ${FILES} files moved; ${moved.length} once the frozen shard finished`);

    // Resume finishes the move from the journals; then every file has its outcome.
    const resumed = await cluster.request('POST', `/v1/jobs/${move.id}/resume`, { token: cluster.tokens.write });
    expect(resumed.status, await resumed.clone().text()).toBe(202);
    const done = await until('the resumed move', async () => {
      const j = await get(move.id);
      return j !== undefined && ['failed', 'completed'].includes(j.state) ? j : undefined;
    });
    expect(done.state).toBe('completed');
    expect(contentListing(dest)).toEqual(before);
    expect(await doneTargets(move.id)).toEqual(filesBelow(dest).sort());
    const { rows } = await db.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM job_items WHERE job_id = $1 GROUP BY state',
      [move.id],
    );
    expect(rows).toEqual([{ state: 'done', n: FILES }]);
    const record = await db.query<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [move.id]);
    expect(record.rows[0]?.state).toBe('completed');

    // "Where did my file go?" — by its old path, from the API and from the CLI.
    const file = path.join(src, 'a0', 'b1', 'c2', 'f1234.txt');
    const res = await cluster.request('GET', `/v1/items?path=${encodeURIComponent(file)}`, { token: cluster.tokens.read });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { jobId: string; action: string; source: string; target: string; state: string }[] };
    expect(body.items).toEqual([
      expect.objectContaining({
        jobId: move.id,
        action: 'move',
        source: file,
        target: path.join(dest, 'a0', 'b1', 'c2', 'f1234.txt'),
        state: 'done',
      }),
    ]);
    const bad = await cluster.request('GET', '/v1/items?path=relative/x', { token: cluster.tokens.read });
    expect(bad.status).toBe(400);
    const cli = await runFiler(
      ['--server', cluster.url, '--token', cluster.tokens.read, 'jobs', 'find-path', path.join(dest, 'a0', 'b1', 'c2', 'f1234.txt')],
      {
        env: { FILER_TOKEN: '' },
      },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^\\S+  ${move.id}  move   done    ${file} → ${dest}/a0/b1/c2/f1234.txt\\n$`));
  }, 120_000);

  it('a dupes rerun on the unchanged tree reads 0 bytes (the shared hash index); a changed file is read again', async () => {
    const tree = path.join(base, 'dupes');
    writeDupesTree(tree);
    const run = async (): Promise<{ dupes: NonNullable<Job['dupes']>; groups: string[] }> => {
      const { id } = await submit({ kind: 'dupes', roots: [tree] });
      const done = await until('the dupes job', async () => {
        const j = await get(id);
        return j !== undefined && ['failed', 'completed'].includes(j.state) ? j : undefined;
      });
      expect(done.state).toBe('completed');
      const res = await cluster.request('GET', `/v1/jobs/${id}/results`, { token: cluster.tokens.read });
      const lines = (await res.text()).split('\n').filter((l) => l !== '');
      const groups = lines.map((l) => (JSON.parse(l) as { paths: string[] }).paths.sort().join('|')).sort();
      return { dupes: done.dupes!, groups };
    };

    const first = await run();
    expect(first.groups).toEqual(groupsByContent(tree));
    expect(first.groups).toHaveLength(6 + 3);
    expect(first.dupes.bytesHashed).toBeGreaterThan(0);
    expect(first.dupes.cacheHits).toBe(0);
    const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM file_hashes WHERE volume = $1', [VOLUME]);
    expect(rows.rows[0].n).toBeGreaterThan(0);

    // The same job again: every candidate's hashes come from PostgreSQL, no byte of content is read.
    const second = await run();
    expect(second.groups).toEqual(first.groups);
    expect([second.dupes.bytesHashed, second.dupes.filesHashed]).toEqual([0, 0]);
    expect(second.dupes.cacheHits).toBe(6 * 3 + 6 + 2 + 3 * 2);

    // One copy of a triple changes in its middle (same size, same sample, new mtime): it alone is read
    // again, its sample and then its whole content, and it leaves its group.
    const changed = path.join(tree, 'd1', 'g4.bin');
    fs.writeFileSync(changed, content(4, 7));
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(changed, later, later);
    const third = await run();
    expect(third.groups).toEqual(groupsByContent(tree));
    expect(third.groups).not.toContain(first.groups.find((g) => g.includes(changed)));
    expect(third.groups.some((g) => g.includes(changed))).toBe(false);
    expect(third.dupes.filesHashed).toBe(2); // the sample, then the full hash, of one file
    expect(third.dupes.bytesHashed).toBeGreaterThan(DUPE_SIZE);
    expect(third.dupes.bytesHashed).toBeLessThanOrEqual(2 * DUPE_SIZE);
    // The old version's rows are gone: one identity per inode and scope.
    const ino = fs.statSync(changed).ino;
    const versions = await db.query<{ n: number }>(
      'SELECT count(DISTINCT (size, mtime_s, mtime_ns))::int AS n FROM file_hashes WHERE volume = $1 AND ino = $2',
      [VOLUME, ino],
    );
    expect(versions.rows[0].n).toBe(1);
  }, 60_000);
});
