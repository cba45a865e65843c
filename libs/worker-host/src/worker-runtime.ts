import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { startHealthServer } from '@filer/observability';
import { readiness, requireSafeRedis } from './redis-guard.js';
import type { ShardProcessor } from './shard-processor.js';
import { SHARD_PROCESSORS, WORKER_CONFIG } from './tokens.js';
import type { WorkerAppConfig } from './worker-config.js';
import { WorkerState } from './worker-state.js';

/**
 * A worker app's life around its processors: the health and metrics server first (so a worker
 * waiting for Redis reports it), then Redis' settings checked, then the workers started; at
 * shutdown the workers stop taking shards and finish those in flight, then the connections and
 * the server close.
 */
@Injectable()
export class WorkerRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private server: Server | undefined;
  /** The port the health server bound (useful when 0 was asked for). */
  port = 0;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerAppConfig,
    @Inject(SHARD_PROCESSORS) private readonly processors: ShardProcessor[],
    @Inject(WorkerState) private readonly state: WorkerState,
  ) {}

  async onModuleInit(): Promise<void> {
    const { ctx, metrics } = this.state;
    this.server = await startHealthServer({
      port: this.config.port,
      host: this.config.host,
      registry: metrics.registry,
      ready: () => readiness(ctx, () => this.state.closing),
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { ctx, log, metrics } = this.state;
    await requireSafeRedis(ctx, log, metrics, () => this.state.closing);
    for (const p of this.processors) p.start();
    const queues = this.processors.map((p) => p.worker.name);
    log.info({ port: this.port, queues, concurrency: this.config.cluster.concurrency }, 'worker started');
  }

  /** Stops taking shards (scan shards hand themselves back at once) and waits for those in flight. */
  async beforeApplicationShutdown(): Promise<void> {
    this.state.closing = true;
    await Promise.all(this.processors.map((p) => p.worker.close()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.state.ctx.close();
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
