import type { AddressInfo } from 'node:net';
import type { Job, Worker } from 'bullmq';
import { createLogger, createMetrics, startHealthServer, type Logger, type Metrics } from '@filer/observability';
import { openClusterContext, type ClusterContext } from './cluster-context.js';
import { checkRedis, redisSettings } from './cluster-checks.js';
import { ConfigError, intVar, readAppConfig, type ClusterConfig } from './config.js';
import { Reconciler } from './reconciler.js';
import { checkWorkerHandlers, startWorker, WORKER_QUEUES, type ShardObserver } from './workers.js';

/** The two worker apps: which queues each consumes is `WORKER_QUEUES[app]`. */
export type WorkerAppName = keyof typeof WORKER_QUEUES;

/** Health and metrics ports when FILER_WORKER_PORT is unset (Prometheus' exporter range). */
export const WORKER_DEFAULT_PORTS: Record<WorkerAppName, number> = { scanner: 9464, batch: 9465 };

export interface WorkerAppConfig {
  cluster: ClusterConfig;
  /** Port of /health, /health/ready and /metrics; 0 picks a free one (logged at start). */
  port: number;
  host: string;
  /** How long a shutdown waits for shards in flight before it exits anyway. */
  shutdownTimeoutMs: number;
}

/** The cluster's settings plus the worker's own, every problem reported in one ConfigError. */
export function readWorkerAppConfig(app: WorkerAppName, env: Record<string, string | undefined>): WorkerAppConfig {
  return readAppConfig(env, (problems) => ({
    port: intVar(env, 'FILER_WORKER_PORT', WORKER_DEFAULT_PORTS[app], problems, 0, 65_535),
    shutdownTimeoutMs: intVar(env, 'FILER_SHUTDOWN_TIMEOUT_MS', 30_000, problems, 0, 86_400_000),
    host: env.FILER_WORKER_HOST || '0.0.0.0',
  }));
}

/** A running worker app. */
export interface WorkerApp {
  /** The port the health server bound (useful when 0 was asked for). */
  port: number;
  log: Logger;
  metrics: Metrics;
  /** Stops taking shards, waits for those in flight, then closes the connections and the health server. */
  close(): Promise<void>;
}

const ids = (job: Job) => ({ jobId: (job.data as { jobId?: string }).jobId, shardId: job.id, shard: job.name, queue: job.queueName });

/** Logs and metrics of every shard this process runs. */
function shardObserver(log: Logger, metrics: Metrics): ShardObserver {
  return {
    started(job) {
      log.info({ ...ids(job), attempt: job.attemptsMade + 1 }, 'shard started');
    },
    finished(job, result, seconds) {
      const outcome = result?.cancelled ? 'cancelled' : 'completed';
      metrics.shards.inc({ shard: job.name, outcome });
      metrics.shardSeconds.observe({ shard: job.name }, seconds);
      if (result !== undefined) {
        const c = result.counters;
        metrics.files.inc(c.entries);
        metrics.matched.inc(c.matched);
        metrics.bytes.inc(c.bytes);
        for (const [code, n] of Object.entries(c.errorsByCode)) metrics.errors.inc({ code }, n);
      }
      log.info(
        {
          ...ids(job),
          outcome,
          seconds: Math.round(seconds * 1000) / 1000,
          counters: result?.counters,
          spawned: result?.spawned,
          extra: result?.extra,
        },
        'shard finished',
      );
    },
    handedBack(job) {
      metrics.shards.inc({ shard: job.name, outcome: 'handed-back' });
      log.info({ ...ids(job) }, 'shard handed back: this worker is stopping, another one runs it');
    },
    failed(job, err) {
      if (job === undefined) {
        log.error({ err }, 'worker error');
        return;
      }
      // BullMQ has counted this attempt already: a shard with attempts left goes back to the queue.
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
      const outcome = final ? 'failed' : 'retried';
      metrics.shards.inc({ shard: job.name, outcome });
      if (job.processedOn !== undefined) metrics.shardSeconds.observe({ shard: job.name }, (Date.now() - job.processedOn) / 1000);
      log[final ? 'error' : 'warn'](
        { ...ids(job), outcome, attempt: job.attemptsMade, err },
        final ? 'shard failed' : 'shard failed, will retry',
      );
    },
  };
}

/** Readiness: Redis answers, and the results directory, where both apps write their parts, is writable. */
async function readiness(ctx: ClusterContext, closing: () => boolean): Promise<Record<string, string>> {
  const checks: Record<string, string> = { worker: closing() ? 'shutting down' : 'ok', redis: 'ok', results: 'ok' };
  try {
    await checkRedis(ctx);
  } catch (e) {
    checks.redis = `error: ${(e as Error).message}`;
  }
  try {
    ctx.results.check();
  } catch (e) {
    checks.results = `error: ${(e as Error).message}`;
  }
  return checks;
}

/** Redis runs with a setting the workers refuse (an evicting maxmemory-policy): the process exits with code 2. */
export class UnsafeRedisError extends Error {
  constructor(readonly problems: string[]) {
    super(`refusing to start: ${problems.join('; ')}`);
    this.name = 'UnsafeRedisError';
  }
}

/**
 * Before any shard is taken: waits for Redis, then refuses an evicting maxmemory-policy (it may
 * drop queued shards, and their jobs would never finish). Where Redis will not tell its policy
 * (INFO and CONFIG both refused), logs an error and sets a metric, and starts.
 */
async function requireSafeRedis(ctx: ClusterContext, log: Logger, metrics: Metrics, closing: () => boolean): Promise<void> {
  for (let waited = 0; !closing(); waited++) {
    if (ctx.redis.status === 'ready') {
      try {
        const settings = await redisSettings(ctx.redis, 10_000);
        if (settings.problems.length > 0) {
          for (const p of settings.problems) log.error(p);
          throw new UnsafeRedisError(settings.problems);
        }
        metrics.redisSettingsUnreadable.set(settings.unreadable === undefined ? 0 : 1);
        if (settings.unreadable !== undefined) log.error(settings.unreadable);
        for (const w of settings.warnings) log.warn(w);
        return;
      } catch (e) {
        if (e instanceof UnsafeRedisError) throw e;
      }
    }
    if (waited % 50 === 10) log.warn({ redis: ctx.redis.status }, 'waiting for Redis before taking shards');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts the workers of one app, its health server and its metrics. */
export async function startWorkerApp(app: WorkerAppName, config: WorkerAppConfig): Promise<WorkerApp> {
  // Before anything is opened: a job name of its queues without exactly one handler is a build that must not start.
  checkWorkerHandlers(WORKER_QUEUES[app]);
  const name = `${app}-worker`;
  const log = createLogger(name, config.cluster.logLevel);
  const metrics = createMetrics(name);
  const ctx = openClusterContext(config.cluster);
  let closing = false;
  let server;
  try {
    server = await startHealthServer({
      port: config.port,
      host: config.host,
      registry: metrics.registry,
      ready: () => readiness(ctx, () => closing),
    });
  } catch (e) {
    await ctx.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const stopServer = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    await requireSafeRedis(ctx, log, metrics, () => closing);
  } catch (e) {
    await Promise.allSettled([ctx.close(), stopServer()]);
    throw e;
  }
  const observer = shardObserver(log, metrics);
  // Scan shards hand themselves back as soon as the worker is stopping (see ShardControl).
  const control = { stopping: () => closing };
  const workers: Worker[] = WORKER_QUEUES[app].map((queue) => {
    const w = startWorker(ctx, queue, observer, control);
    w.on('stalled', (shardId) => {
      metrics.stalled.inc({ queue });
      log.warn({ shardId, queue }, 'shard stalled (its worker stopped renewing the lock): queued again');
    });
    return w;
  });
  // The batch worker owns finalizing, so it also owns the reconciler (one per batch worker; they never fight).
  const reconciler = app === 'batch' ? new Reconciler(ctx, { log }) : undefined;
  reconciler?.start();
  log.info({ port, queues: WORKER_QUEUES[app], concurrency: config.cluster.concurrency }, 'worker started');
  return {
    port,
    log,
    metrics,
    async close() {
      closing = true;
      await Promise.all([...workers.map((w) => w.close()), reconciler?.stop()]);
      await ctx.close();
      await stopServer();
    },
  };
}

/**
 * A worker app's whole life, for its `main.ts`: configuration (exit 2 naming every bad variable,
 * or Redis' maxmemory-policy when it evicts), start, and a graceful stop on SIGTERM or SIGINT. The
 * stop hands scan shards back at once and waits for the other shards in flight; a second signal
 * or FILER_SHUTDOWN_TIMEOUT_MS exits at once (code 1), and the shards still running go back to
 * the queue when their locks lapse — every shard is safe to run again.
 */
export async function runWorkerApp(app: WorkerAppName, env: Record<string, string | undefined> = process.env): Promise<void> {
  let config: WorkerAppConfig;
  try {
    config = readWorkerAppConfig(app, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`filer ${app}-worker: ${e.message}\n`);
    process.exit(2);
  }
  // Stopped while starting (waiting for Redis, say): nothing has been consumed yet.
  const stopEarly = (): never => process.exit(0);
  process.once('SIGTERM', stopEarly);
  process.once('SIGINT', stopEarly);
  let running: WorkerApp;
  try {
    running = await startWorkerApp(app, config);
  } catch (e) {
    // An unsafe Redis, or the health port taken: nothing has been consumed yet.
    process.stderr.write(`filer ${app}-worker: ${(e as Error).message}\n`);
    process.exit(e instanceof UnsafeRedisError ? 2 : 1);
  }
  process.off('SIGTERM', stopEarly);
  process.off('SIGINT', stopEarly);
  const { log } = running;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now; shards in flight return to the queue when their locks lapse');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: finishing the shards in flight');
    setTimeout(() => {
      log.warn(
        { timeoutMs: config.shutdownTimeoutMs },
        'shutdown timed out: exiting; shards in flight return to the queue when their locks lapse',
      );
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    running.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
