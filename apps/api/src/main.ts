import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, EventHub, IdempotencyStore, openClusterContext, RateLimiter, type ClusterContext } from '@filer/jobs';
import { createLogger, createMetrics } from '@filer/observability';
import { FilerError } from '@filer/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { registerBullBoard } from './admin/bull-board.js';
import { AppModule } from './app.module.js';
import { browserAuthHook } from './auth/browser-auth.js';
import { readApiConfig, type ApiConfig } from './config/api-config.js';
import { setupOpenApi } from './docs/openapi.js';
import { PENDING_TTL_MS } from './jobs/idempotency.js';
import type { JobAccepted } from './jobs/params.js';
import { rateLimitHook } from './limits/rate-limit.hook.js';

/** Exit code of a configuration the process cannot start with (the CLI's "invalid usage"). */
const EXIT_CONFIG = 2;
/** Longest wait for the Redis clients to close at shutdown. */
const CLOSE_TIMEOUT_MS = 3_000;

function fail(message: string): never {
  process.stderr.write(`filer-api: ${message}\n`);
  process.exit(EXIT_CONFIG);
}

function configure(): { config: ApiConfig; ctx: ClusterContext } {
  let config: ApiConfig;
  try {
    config = readApiConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  try {
    return { config, ctx: openClusterContext(config.cluster) };
  } catch (e) {
    // An allowed root that does not exist is a configuration problem too.
    if (e instanceof FilerError) fail(`invalid configuration:\n  FILER_ALLOWED_ROOTS: ${e.message}`);
    throw e;
  }
}

async function main(): Promise<void> {
  const { config, ctx } = configure();
  const logger = createLogger('api', config.cluster.logLevel);
  const metrics = createMetrics('api');
  const hub = new EventHub(ctx.connect());
  const idempotency = new IdempotencyStore<JobAccepted>(ctx.redis, { ttlMs: config.idempotencyTtlMs, pendingTtlMs: PENDING_TTL_MS });

  const adapter = new FastifyAdapter({ bodyLimit: config.maxBodyBytes, trustProxy: false });
  const root = AppModule.forRoot({ config, ctx, metrics, hub, idempotency }, logger);
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, { bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', browserAuthHook(config.tokens));
  if (config.rateLimit !== undefined)
    fastify.addHook('onRequest', rateLimitHook(new RateLimiter(ctx.redis, config.rateLimit), config.tokens, logger));
  fastify.addHook('onResponse', async (req, reply) => {
    metrics.httpSeconds.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  fastify.addHook('onClose', async () => {
    // With Redis unreachable, closing its clients could wait for a reconnect that never comes.
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    await Promise.race([Promise.all([hub.close(), ctx.close()]), giveUp]);
    clearTimeout(timer);
  });

  await registerBullBoard(app, ctx);
  setupOpenApi(app);

  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.info(
    { url: `http://${shown}:${config.port}`, host: config.host, port: config.port },
    `filer-api listening on http://${shown}:${config.port}`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`filer-api: failed to start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
