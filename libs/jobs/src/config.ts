import * as os from 'node:os';
import { z } from 'zod';
import { parseAllowedS3, parseS3Uri, type AllowedS3, type HashVolume, type S3Location } from '@filer/storage';

/**
 * Every setting the cluster reads, from environment variables with the same names in
 * docker-compose, the Helm chart and docs/operations.md. Read once at start-up; a bad value
 * stops the process with a message naming the variable.
 */
export interface ClusterConfig {
  redisUrl: string;
  /**
   * PostgreSQL holding job records and per-item outcomes (FILER_DATABASE_URL); unset: records are
   * copied to the results volume and outcomes stay in the shard journals only.
   */
  databaseUrl?: string;
  /** The shared results directory; with `resultsS3`, this process's own scratch directory. */
  resultsDir: string;
  /** Results, journals and record copies on S3 instead (FILER_RESULTS=s3://bucket/prefix/). */
  resultsS3?: S3Location;
  allowedRoots: string[];
  /**
   * Directories whose files' hashes the job database keeps (FILER_VOLUMES=/path=id,…), each with an
   * id that is the same on every host that mounts it; empty: local files are never cached.
   */
  volumes: HashVolume[];
  /** Buckets and prefixes jobs may read and write (FILER_ALLOWED_S3); empty: S3 paths are refused. */
  allowedS3: AllowedS3[];
  /** Entries a scan shard may list before it hands the rest of its directories to new shards. */
  shardBudget: number;
  /** S3 listings one scan shard keeps in flight (FILER_S3_LISTINGS). */
  s3Listings: number;
  /** Actions per apply shard and files per hash shard. */
  batchShardSize: number;
  concurrency: number;
  attempts: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  logLevel: string;
  /** Days a finished job's parts, journals and record are kept after it finished (FILER_RETENTION_DAYS). */
  retentionDays: number;
  /** Days an undoable job (applied, not undone) is kept; 0: until it is undone or deleted with force (FILER_RETENTION_UNDOABLE_DAYS). */
  retentionUndoableDays: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Ctx = z.core.$RefinementCtx<unknown>;

/** Records one problem, worded in full (it names its variable), on the variable being read. */
export function configProblem(ctx: Ctx, message: string): void {
  ctx.addIssue({ code: 'custom', message });
}

/** An optional variable: unset or empty reads as `fallback`; otherwise `read` checks it (recording problems on `ctx`). */
export function envVar<T>(fallback: T, read: (raw: string, ctx: Ctx) => T) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => (raw === undefined || raw === '' ? fallback : read(raw, ctx)));
}

/** A whole number in [min, max], named `name` in its problem. */
export function envInt(name: string, fallback: number, min = 1, max = 1e9) {
  return envVar(fallback, (raw, ctx) => {
    if (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max) return Number(raw);
    configProblem(ctx, `${name}=${raw}: expected a whole number from ${min} to ${max}`);
    return fallback;
  });
}

/** Problems the schema records at once, one line each; a value of another type than a string is reported by its variable. */
function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((i) => (i.code === 'custom' ? i.message : `${i.path.map(String).join('.')}: ${i.message}`));
}

/** Reads an environment with an app's schema: every problem of every variable in one ConfigError. */
export function parseConfig<S extends z.ZodType<unknown, Env>>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(problemsOf(result.error));
  return result.data;
}

/** A volume's id in FILER_VOLUMES: a token that needs no quoting in the variable or in SQL logs. */
const VOLUME_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The cluster's variables, shared by the API's and the workers' schemas (each spreads this shape
 * into its own `z.object`, so the cluster's problems come first, then the app's).
 */
export const clusterEnvShape = {
  FILER_REDIS_URL: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const url = raw ?? 'redis://127.0.0.1:6379';
      if (!/^rediss?:\/\//.test(url)) configProblem(ctx, `FILER_REDIS_URL=${url}: expected redis://host:port or rediss://…`);
      return url;
    }),
  FILER_DATABASE_URL: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      if (!/^postgres(ql)?:\/\//.test(raw)) configProblem(ctx, 'FILER_DATABASE_URL: expected postgres://user:password@host:port/database');
      return raw;
    }),
  FILER_RESULTS_DIR: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const dir = raw ?? '';
      if (!dir.startsWith('/')) configProblem(ctx, 'FILER_RESULTS_DIR: required, an absolute directory shared by the API and the workers');
      return dir;
    }),
  FILER_RESULTS: z
    .string()
    .optional()
    .transform((raw, ctx): S3Location | undefined => {
      if (raw === undefined || raw === '') return undefined;
      const problem = `FILER_RESULTS=${raw}: expected s3://bucket/prefix/ (a prefix ending in "/", or none), or unset for the directory FILER_RESULTS_DIR`;
      try {
        const loc = parseS3Uri(raw, 'FILER_RESULTS');
        if (loc.key !== '' && !loc.key.endsWith('/')) configProblem(ctx, problem);
        return loc;
      } catch {
        configProblem(ctx, problem);
        return undefined;
      }
    }),
  FILER_ALLOWED_ROOTS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const roots = (raw ?? '').split(':').filter((r) => r !== '');
      if (roots.length === 0) configProblem(ctx, 'FILER_ALLOWED_ROOTS: required, absolute directories separated by ":"');
      for (const r of roots) if (!r.startsWith('/')) configProblem(ctx, `FILER_ALLOWED_ROOTS: '${r}' is not an absolute path`);
      return roots;
    }),
  FILER_ALLOWED_S3: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const s3 = parseAllowedS3(raw);
      for (const p of s3.problems) configProblem(ctx, p);
      return s3.allowed;
    }),
  FILER_VOLUMES: envVar<HashVolume[]>([], (raw, ctx) => {
    const volumes: HashVolume[] = [];
    for (const item of raw.split(',').filter((v) => v !== '')) {
      const eq = item.lastIndexOf('=');
      const root = eq < 0 ? '' : item.slice(0, eq);
      const id = eq < 0 ? '' : item.slice(eq + 1);
      if (!root.startsWith('/') || !VOLUME_ID.test(id))
        configProblem(
          ctx,
          `FILER_VOLUMES: '${item}': expected /absolute/dir=id (id: 1 to 64 letters, digits, '.', '_' or '-'; a UUID is best)`,
        );
      else if (volumes.some((v) => v.root === root)) configProblem(ctx, `FILER_VOLUMES: '${root}' is named twice`);
      else volumes.push({ root, id });
    }
    return volumes;
  }),
  FILER_SHARD_BUDGET: envInt('FILER_SHARD_BUDGET', 50_000, 100),
  FILER_S3_LISTINGS: envInt('FILER_S3_LISTINGS', 16, 1, 256),
  FILER_BATCH_SHARD_SIZE: envInt('FILER_BATCH_SHARD_SIZE', 2_000, 1),
  FILER_WORKER_CONCURRENCY: envInt('FILER_WORKER_CONCURRENCY', Math.max(1, os.availableParallelism()), 1, 256),
  FILER_SHARD_ATTEMPTS: envInt('FILER_SHARD_ATTEMPTS', 5, 1, 100),
  FILER_LOCK_DURATION_MS: envInt('FILER_LOCK_DURATION_MS', 15_000, 1000),
  FILER_STALLED_INTERVAL_MS: envInt('FILER_STALLED_INTERVAL_MS', 5_000, 500),
  FILER_MAX_STALLED_COUNT: envInt('FILER_MAX_STALLED_COUNT', 3, 0, 100),
  FILER_RETENTION_DAYS: envInt('FILER_RETENTION_DAYS', 30, 1, 36_500),
  FILER_RETENTION_UNDOABLE_DAYS: envInt('FILER_RETENTION_UNDOABLE_DAYS', 0, 0, 36_500),
  FILER_LOG_LEVEL: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const level = raw ?? 'info';
      if (!LOG_LEVELS.includes(level))
        configProblem(ctx, `FILER_LOG_LEVEL=${level}: expected fatal, error, warn, info, debug, trace or silent`);
      return level;
    }),
};

type ClusterEnv = { [K in keyof typeof clusterEnvShape]: z.output<(typeof clusterEnvShape)[K]> };

/** The cluster's part of a parsed environment, as the code uses it. */
export function clusterConfigOf(env: ClusterEnv): ClusterConfig {
  return {
    redisUrl: env.FILER_REDIS_URL,
    ...(env.FILER_DATABASE_URL !== undefined ? { databaseUrl: env.FILER_DATABASE_URL } : {}),
    resultsDir: env.FILER_RESULTS_DIR,
    ...(env.FILER_RESULTS !== undefined ? { resultsS3: env.FILER_RESULTS } : {}),
    allowedRoots: env.FILER_ALLOWED_ROOTS,
    allowedS3: env.FILER_ALLOWED_S3,
    volumes: env.FILER_VOLUMES,
    shardBudget: env.FILER_SHARD_BUDGET,
    s3Listings: env.FILER_S3_LISTINGS,
    batchShardSize: env.FILER_BATCH_SHARD_SIZE,
    concurrency: env.FILER_WORKER_CONCURRENCY,
    attempts: env.FILER_SHARD_ATTEMPTS,
    lockDurationMs: env.FILER_LOCK_DURATION_MS,
    stalledIntervalMs: env.FILER_STALLED_INTERVAL_MS,
    maxStalledCount: env.FILER_MAX_STALLED_COUNT,
    logLevel: env.FILER_LOG_LEVEL,
    retentionDays: env.FILER_RETENTION_DAYS,
    retentionUndoableDays: env.FILER_RETENTION_UNDOABLE_DAYS,
  };
}

/** The cluster's settings alone (the apps read theirs with their own schema, which includes these). */
export const ClusterConfigSchema = z.object(clusterEnvShape).transform(clusterConfigOf);

export function readClusterConfig(env: Env = process.env): ClusterConfig {
  return parseConfig(ClusterConfigSchema, env);
}
