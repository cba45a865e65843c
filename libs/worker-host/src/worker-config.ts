import { z } from 'zod';
import { clusterConfigOf, clusterEnvShape, envInt, parseConfig, WORKER_QUEUES, type ClusterConfig } from '@filer/jobs';

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

/** A worker app's configuration: the cluster's variables, then the worker's own. */
export function workerConfigSchema(app: WorkerAppName) {
  return z
    .object({
      ...clusterEnvShape,
      FILER_WORKER_PORT: envInt('FILER_WORKER_PORT', WORKER_DEFAULT_PORTS[app], 0, 65_535),
      FILER_SHUTDOWN_TIMEOUT_MS: envInt('FILER_SHUTDOWN_TIMEOUT_MS', 30_000, 0, 86_400_000),
      FILER_WORKER_HOST: z.string().optional(),
    })
    .transform((env): WorkerAppConfig => ({
      cluster: clusterConfigOf(env),
      port: env.FILER_WORKER_PORT,
      shutdownTimeoutMs: env.FILER_SHUTDOWN_TIMEOUT_MS,
      host: env.FILER_WORKER_HOST || '0.0.0.0',
    }));
}

/** The cluster's settings plus the worker's own, every problem reported in one ConfigError. */
export function readWorkerAppConfig(app: WorkerAppName, env: Record<string, string | undefined>): WorkerAppConfig {
  return parseConfig(workerConfigSchema(app), env);
}
