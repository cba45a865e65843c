import * as os from 'node:os';
import { parseAllowedS3, type AllowedS3 } from '@filer/storage';

/**
 * Every setting the cluster reads, from environment variables with the same names in
 * docker-compose, the Helm chart and docs/operations.md. Read once at start-up; a bad value
 * stops the process with a message naming the variable.
 */
export interface ClusterConfig {
  redisUrl: string;
  resultsDir: string;
  allowedRoots: string[];
  /** Buckets and prefixes jobs may read and write (FILER_ALLOWED_S3); empty: S3 paths are refused. */
  allowedS3: AllowedS3[];
  /** Entries a scan shard may list before it hands the rest of its directories to new shards. */
  shardBudget: number;
  /** Actions per apply shard and files per hash shard. */
  batchShardSize: number;
  concurrency: number;
  attempts: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads a whole number in [min, max], recording a problem instead of throwing at the first. */
export function intVar(env: Env, name: string, fallback: number, problems: string[], min = 1, max = 1e9): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return Number(raw);
}

export function readClusterConfig(env: Env = process.env): ClusterConfig {
  const problems: string[] = [];
  const redisUrl = env.FILER_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(redisUrl)) problems.push(`FILER_REDIS_URL=${redisUrl}: expected redis://host:port or rediss://…`);
  const resultsDir = env.FILER_RESULTS_DIR ?? '';
  if (resultsDir === '' || !resultsDir.startsWith('/'))
    problems.push('FILER_RESULTS_DIR: required, an absolute directory shared by the API and the workers');
  const allowedRoots = (env.FILER_ALLOWED_ROOTS ?? '').split(':').filter((r) => r !== '');
  if (allowedRoots.length === 0) problems.push('FILER_ALLOWED_ROOTS: required, absolute directories separated by ":"');
  for (const r of allowedRoots) if (!r.startsWith('/')) problems.push(`FILER_ALLOWED_ROOTS: '${r}' is not an absolute path`);
  const s3 = parseAllowedS3(env.FILER_ALLOWED_S3);
  problems.push(...s3.problems);
  const config: ClusterConfig = {
    redisUrl,
    resultsDir,
    allowedRoots,
    allowedS3: s3.allowed,
    shardBudget: intVar(env, 'FILER_SHARD_BUDGET', 50_000, problems, 100),
    batchShardSize: intVar(env, 'FILER_BATCH_SHARD_SIZE', 2_000, problems, 1),
    concurrency: intVar(env, 'FILER_WORKER_CONCURRENCY', Math.max(1, os.availableParallelism()), problems, 1, 256),
    attempts: intVar(env, 'FILER_SHARD_ATTEMPTS', 5, problems, 1, 100),
    lockDurationMs: intVar(env, 'FILER_LOCK_DURATION_MS', 15_000, problems, 1000),
    stalledIntervalMs: intVar(env, 'FILER_STALLED_INTERVAL_MS', 5_000, problems, 500),
    maxStalledCount: intVar(env, 'FILER_MAX_STALLED_COUNT', 3, problems, 0, 100),
    logLevel: env.FILER_LOG_LEVEL ?? 'info',
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel))
    problems.push(`FILER_LOG_LEVEL=${config.logLevel}: expected fatal, error, warn, info, debug, trace or silent`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The cluster's settings plus an app's own, with every problem of both reported in one
 * ConfigError: an operator fixes the whole environment in one go.
 */
export function readAppConfig<T extends object>(env: Env, own: (problems: string[]) => T): T & { cluster: ClusterConfig } {
  const problems: string[] = [];
  let cluster: ClusterConfig | undefined;
  try {
    cluster = readClusterConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  const mine = own(problems);
  if (problems.length > 0 || cluster === undefined) throw new ConfigError(problems);
  return { ...mine, cluster };
}
