import { describe, expect, it } from 'vitest';
import { ConfigError } from '@filer/jobs';
import { readWorkerAppConfig } from './worker-config.js';

const base = { FILER_RESULTS_DIR: '/tmp/r', FILER_ALLOWED_ROOTS: '/tmp' };

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    readWorkerAppConfig('scanner', env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('no ConfigError');
};

describe('a worker app’s configuration (one zod schema)', () => {
  it('takes each app’s defaults when the variables are unset or empty', () => {
    const scanner = readWorkerAppConfig('scanner', { ...base, FILER_WORKER_HOST: '' });
    expect(scanner).toMatchObject({ port: 9464, host: '0.0.0.0', shutdownTimeoutMs: 30_000 });
    expect(scanner.cluster).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      resultsDir: '/tmp/r',
      allowedRoots: ['/tmp'],
      allowedS3: [],
      shardBudget: 50_000,
      s3Listings: 16,
      batchShardSize: 2_000,
      attempts: 5,
      lockDurationMs: 15_000,
      stalledIntervalMs: 5_000,
      maxStalledCount: 3,
      logLevel: 'info',
    });
    expect(readWorkerAppConfig('batch', { ...base, FILER_WORKER_PORT: '' }).port).toBe(9465);
  });

  it('reads every variable at the ends of its range', () => {
    const c = readWorkerAppConfig('batch', {
      ...base,
      FILER_WORKER_PORT: '0',
      FILER_WORKER_HOST: '127.0.0.1',
      FILER_SHUTDOWN_TIMEOUT_MS: '86400000',
      FILER_MAX_STALLED_COUNT: '0',
      FILER_WORKER_CONCURRENCY: '256',
      FILER_S3_LISTINGS: '1',
    });
    expect(c).toMatchObject({ port: 0, host: '127.0.0.1', shutdownTimeoutMs: 86_400_000 });
    expect(c.cluster).toMatchObject({ maxStalledCount: 0, concurrency: 256, s3Listings: 1 });
  });

  it('names every bad variable in one ConfigError, the cluster’s first, in the words of the operations guide', () => {
    const problems = problemsOf({
      FILER_REDIS_URL: 'http://x',
      FILER_ALLOWED_ROOTS: 'rel:/ok',
      FILER_SHARD_BUDGET: '99',
      FILER_WORKER_CONCURRENCY: '1.5',
      FILER_LOG_LEVEL: 'loud',
      FILER_WORKER_PORT: '65536',
      FILER_SHUTDOWN_TIMEOUT_MS: '-1',
    });
    expect(problems).toEqual([
      'FILER_REDIS_URL=http://x: expected redis://host:port or rediss://…',
      'FILER_RESULTS_DIR: required, an absolute directory shared by the API and the workers',
      "FILER_ALLOWED_ROOTS: 'rel' is not an absolute path",
      'FILER_SHARD_BUDGET=99: expected a whole number from 100 to 1000000000',
      'FILER_WORKER_CONCURRENCY=1.5: expected a whole number from 1 to 256',
      'FILER_LOG_LEVEL=loud: expected fatal, error, warn, info, debug, trace or silent',
      'FILER_WORKER_PORT=65536: expected a whole number from 0 to 65535',
      'FILER_SHUTDOWN_TIMEOUT_MS=-1: expected a whole number from 0 to 86400000',
    ]);
    expect(() => readWorkerAppConfig('scanner', { FILER_WORKER_PORT: 'x' })).toThrow(
      /^invalid configuration:\n {2}FILER_RESULTS_DIR: required[\s\S]*\n {2}FILER_ALLOWED_ROOTS: required[\s\S]*\n {2}FILER_WORKER_PORT=x: /,
    );
  });

  it('reads FILER_VOLUMES as directories and ids, and names a bad entry', () => {
    const c = readWorkerAppConfig('batch', { ...base, FILER_VOLUMES: '/srv/a=3f1c9e2a-7d4b-4c1e-9a0f-2b6d8e5c1a77,/srv/b=photos.2' });
    expect(c.cluster.volumes).toEqual([
      { root: '/srv/a', id: '3f1c9e2a-7d4b-4c1e-9a0f-2b6d8e5c1a77' },
      { root: '/srv/b', id: 'photos.2' },
    ]);
    expect(readWorkerAppConfig('batch', base).cluster.volumes).toEqual([]);
    expect(problemsOf({ ...base, FILER_VOLUMES: 'rel=x,/srv/a=,/srv/b=ok,/srv/b=again' })).toEqual([
      "FILER_VOLUMES: 'rel=x': expected /absolute/dir=id (id: 1 to 64 letters, digits, '.', '_' or '-'; a UUID is best)",
      "FILER_VOLUMES: '/srv/a=': expected /absolute/dir=id (id: 1 to 64 letters, digits, '.', '_' or '-'; a UUID is best)",
      "FILER_VOLUMES: '/srv/b' is named twice",
    ]);
  });
});
