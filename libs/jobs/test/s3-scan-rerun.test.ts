import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterSpec, type FileEntry } from '@filer/core';
import { emptyWalkStats, type DirTask } from '@filer/engine';
import { createS3Client, s3ConfigFromEnv, S3Objects } from '@filer/storage/s3';
import { startRedis, startS3Server, type RedisHandle, type S3ServerHandle } from '@filer/testing';
import { openClusterContext, readClusterConfig, type ClusterContext, type ScanShardData } from '@filer/jobs';
import { walkShard } from '../src/scan-shard.js';

/*
 * Which prefixes an S3 scan shard lists before its budget runs out depends on the order pages
 * arrive; a re-run (a retry, a stalled shard run again) must list exactly the first run's share
 * and hand the same prefixes to the same children, or some objects would be listed twice.
 */

const BUCKET = 'rerun';
let redis: RedisHandle;
let server: S3ServerHandle;
let ctx: ClusterContext;
let results: string;

beforeAll(async () => {
  [redis, server] = await Promise.all([startRedis(), startS3Server({ buckets: [BUCKET] })]);
  Object.assign(process.env, server.env());
  const client = createS3Client(s3ConfigFromEnv());
  const objects = new S3Objects(client);
  const keys: string[] = [];
  for (let t = 0; t < 4; t++) for (let s = 0; s < 10; s++) for (let f = 0; f < 6; f++) keys.push(`tree/t${t}/s${s}/f${f}.txt`);
  for (let i = 0; i < keys.length; i += 8)
    await Promise.all(keys.slice(i, i + 8).map((key) => objects.putNew({ bucket: BUCKET, key }, Buffer.from(key))));
  client.destroy();
  results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-rerun-'));
  ctx = openClusterContext(
    readClusterConfig({
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: results,
      FILER_ALLOWED_ROOTS: results,
      FILER_ALLOWED_S3: BUCKET,
      FILER_SHARD_BUDGET: '100',
    }),
  );
}, 300_000);

afterAll(async () => {
  await ctx?.close();
  await Promise.all([redis?.stop(), server?.stop()]);
  if (results) fs.rmSync(results, { recursive: true, force: true });
});

async function runShard(id: string): Promise<{ paths: string[]; groups: DirTask[][] }> {
  const data: ScanShardData = {
    jobId: 'j1',
    tasks: [],
    root: `s3://${BUCKET}/tree`,
    spec: parseFilterSpec({}),
    records: 'find',
    statAll: true,
    identity: false,
  };
  const paths: string[] = [];
  const end = await walkShard(ctx, { id, data } as Job<ScanShardData>, [], emptyWalkStats(), {
    entry: (e: FileEntry) => void paths.push(e.path),
    error: (e) => {
      throw new Error(`${e.path}: ${e.message}`);
    },
  });
  if (end === 'cancelled' || end === 'handed-back') throw new Error(end);
  return { paths: paths.sort(), groups: end };
}

describe('an S3 scan shard run again', () => {
  it('lists the first run’s share and hands the same prefixes on', async () => {
    const first = await runShard('j1-scan-a');
    expect(first.groups.length).toBeGreaterThan(0);
    const again = await runShard('j1-scan-a');
    expect(again.groups).toEqual(first.groups);
    expect(again.paths).toEqual(first.paths);
    // The share and the children's prefixes cover every object exactly once.
    const handed = first.groups.flat().map((t) => t.path + '/');
    expect(first.paths.filter((p) => handed.some((h) => p.startsWith(h)))).toEqual([]);
    const listedObjects = first.paths.filter((p) => p.endsWith('.txt')).length;
    expect(listedObjects + handed.length * 6).toBe(240);
  });
});
