import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from '@filer/jobs';
import { createLogger } from '@filer/observability';
import { NestLogger } from './nest-logger.js';
import { UnsafeRedisError } from './redis-guard.js';
import { readWorkerAppConfig, type WorkerAppName } from './worker-config.js';
import type { WorkerHostOptions } from './worker.module.js';

/**
 * A worker app's whole life, for its `main.ts`: configuration (exit 2 naming every bad variable,
 * or Redis' maxmemory-policy when it evicts), the Nest application context of the app's module,
 * and a graceful stop on SIGTERM or SIGINT. The stop hands scan shards back at once and waits for
 * the other shards in flight; a second signal or FILER_SHUTDOWN_TIMEOUT_MS exits at once (code
 * 1), and the shards still running go back to the queue when their locks lapse — every shard is
 * safe to run again.
 */
export async function runWorkerApp(
  app: WorkerAppName,
  rootModule: (host: WorkerHostOptions) => DynamicModule,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const fail = (message: string, code: number): never => {
    process.stderr.write(`filer ${app}-worker: ${message}\n`);
    process.exit(code);
  };
  let host: WorkerHostOptions;
  try {
    const config = readWorkerAppConfig(app, env);
    host = { app, config, log: createLogger(`${app}-worker`, config.cluster.logLevel) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return fail(e.message, 2);
  }
  const { config, log } = host;
  // Stopped while starting (waiting for Redis, say): nothing has been consumed yet.
  const stopEarly = (): never => process.exit(0);
  process.once('SIGTERM', stopEarly);
  process.once('SIGINT', stopEarly);
  let nest;
  try {
    // abortOnError off: a failed start is reported here (Nest would abort the process with a core dump).
    nest = await NestFactory.createApplicationContext(rootModule(host), { logger: new NestLogger(log), abortOnError: false });
  } catch (e) {
    // An unsafe Redis, the health port taken, a handler missing: nothing has been consumed yet.
    return fail((e as Error).message, e instanceof UnsafeRedisError ? 2 : 1);
  }
  process.off('SIGTERM', stopEarly);
  process.off('SIGINT', stopEarly);
  const running = nest;
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
