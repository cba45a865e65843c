import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterSpec } from '@filer/core';
import { emptyWalkStats } from '@filer/engine';
import { createS3Client, s3ConfigFromEnv, S3Objects } from '@filer/storage/s3';
import { startRedis, startS3Server, type RedisHandle, type S3ServerHandle } from '@filer/testing';
import { openClusterContext, readClusterConfig, redisKeys, type ClusterContext, type ScanShardData } from '@filer/jobs';
import { walkShard } from '../src/scan-shard.js';

/*
 * One shard runner for local directories and S3 prefixes: a worker that is stopping makes either
 * kind of shard hand itself back between tasks, and nothing of that run stays in the job's live
 * progress (the shard runs again elsewhere and counts everything then). A finished shard's counts
 * all reach it: a timer's report in flight while the walk goes on loses none.
 */

const BUCKET = 'handback';
let redis: RedisHandle;
let server: S3ServerHandle;
let ctx: ClusterContext;
let results: string;

beforeAll(async () => {
  [redis, server] = await Promise.all([startRedis(), startS3Server({ buckets: [BUCKET] })]);
  Object.assign(process.env, server.env());
  results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-handback-'));
  const client = createS3Client(s3ConfigFromEnv());
  const objects = new S3Objects(client);
  const keys: string[] = [];
  for (let t = 0; t < 4; t++) for (let s = 0; s < 10; s++) for (let f = 0; f < 6; f++) keys.push(`tree/t${t}/s${s}/f${f}.txt`);
  for (const key of keys) {
    fs.mkdirSync(path.dirname(path.join(results, 'local', key)), { recursive: true });
    fs.writeFileSync(path.join(results, 'local', key), key);
  }
  for (let i = 0; i < keys.length; i += 8)
    await Promise.all(keys.slice(i, i + 8).map((key) => objects.putNew({ bucket: BUCKET, key }, Buffer.from(key))));
  client.destroy();
  ctx = openClusterContext(
    readClusterConfig({
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: results,
      FILER_ALLOWED_ROOTS: results,
      FILER_ALLOWED_S3: BUCKET,
      FILER_SHARD_BUDGET: '1000',
    }),
  );
}, 300_000);

afterAll(async () => {
  await ctx?.close();
  await Promise.all([redis?.stop(), server?.stop()]);
  if (results) fs.rmSync(results, { recursive: true, force: true });
});

async function run(
  jobId: string,
  root: string,
  stopAfter: number,
): Promise<{ end: unknown; seen: number; progress: Record<string, string> }> {
  const data: ScanShardData = { jobId, tasks: [], root, spec: parseFilterSpec({}), records: 'find', statAll: true, identity: false };
  let seen = 0;
  const end = await walkShard(
    ctx,
    { id: `${jobId}-scan-root`, data } as Job<ScanShardData>,
    [],
    emptyWalkStats(),
    {
      entry: () => void seen++,
      records: (_text, count) => void (seen += count),
      error: (e) => {
        throw new Error(`${e.path}: ${e.message}`);
      },
    },
    { stopping: () => seen >= stopAfter },
  );
  return { end, seen, progress: await ctx.redis.hgetall(redisKeys.progress(jobId)) };
}

describe('a scan shard of a stopping worker', () => {
  it.each([
    ['local', () => path.join(results, 'local', 'tree')],
    ['S3', () => `s3://${BUCKET}/tree`],
  ])('%s: hands itself back between tasks, its counts taken back out of the live progress', async (kind, root) => {
    const all = await run(`all-${kind}`, root(), Infinity);
    // The root, 4 + 40 directories (prefixes) and 240 files: the whole tree in one shard. Every count
    // reaches the live progress, though the walk goes on while a report is in flight.
    expect(all.end).toEqual([]);
    expect(all.seen).toBe(240);
    expect(all.progress).toEqual({ entries: '284', dirs: '45', matched: '240' });
    const stopped = await run(`stop-${kind}`, root(), 20);
    expect(stopped.end).toBe('handed-back');
    expect(stopped.seen).toBeGreaterThanOrEqual(20);
    expect(stopped.seen).toBeLessThan(240);
    expect(Number(stopped.progress.entries ?? 0)).toBe(0);
    expect(Number(stopped.progress.dirs ?? 0)).toBe(0);
  });
});
