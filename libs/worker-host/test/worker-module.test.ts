import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, QUEUES } from '@filer/jobs';
import { createLogger } from '@filer/observability';
import { startRedis, type RedisHandle } from '@filer/testing';
import { readWorkerAppConfig, ShardProcessor, WorkerModule, WorkerRuntime, type WorkerHostOptions } from '../src/index.js';

class ScanProcessor extends ShardProcessor {}
class BatchProcessor extends ShardProcessor {}
class FinalizeProcessor extends ShardProcessor {}

/** WorkerModule as an app composes it, against a real Redis: what @nestjs/bullmq builds from the configuration. */
describe('WorkerModule', () => {
  let redis: RedisHandle;
  let dir: string;
  let host: WorkerHostOptions;

  beforeAll(async () => {
    redis = await startRedis();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-worker-module-'));
    const config = readWorkerAppConfig('batch', {
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: dir,
      FILER_ALLOWED_ROOTS: dir,
      FILER_WORKER_PORT: '0',
      FILER_WORKER_HOST: '127.0.0.1',
      FILER_WORKER_CONCURRENCY: '3',
      FILER_LOCK_DURATION_MS: '4000',
      FILER_STALLED_INTERVAL_MS: '700',
      FILER_MAX_STALLED_COUNT: '7',
    });
    host = { app: 'batch', config, log: createLogger('batch-worker', 'silent') };
  });

  afterAll(async () => {
    await redis?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses processors that do not serve exactly the app’s queues, before anything is opened', () => {
    expect(() => WorkerModule.forRoot({ ...host, processors: { [QUEUES.batch]: BatchProcessor } })).toThrow(
      /the batch worker must process filer-batch, filer-finalize, not filer-batch/,
    );
    expect(() =>
      WorkerModule.forRoot({ ...host, app: 'scanner', processors: { [QUEUES.scan]: ScanProcessor, [QUEUES.batch]: BatchProcessor } }),
    ).toThrow(/the scanner worker must process filer-scan/);
  });

  it('runs one BullMQ worker per queue with the configured concurrency, locks and prefix, run by the runtime (not at creation)', async () => {
    const module = WorkerModule.forRoot({ ...host, processors: { [QUEUES.batch]: BatchProcessor, [QUEUES.finalize]: FinalizeProcessor } });
    const app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
    try {
      for (const [cls, queue] of [
        [BatchProcessor, QUEUES.batch],
        [FinalizeProcessor, QUEUES.finalize],
      ] as const) {
        const { worker } = app.get(cls);
        expect(worker.name).toBe(queue);
        expect(worker.opts).toMatchObject({
          prefix: QUEUE_PREFIX,
          concurrency: 3,
          lockDuration: 4000,
          stalledInterval: 700,
          maxStalledCount: 7,
        });
        expect(worker.isRunning()).toBe(true);
      }
      const { port } = app.get(WorkerRuntime);
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
