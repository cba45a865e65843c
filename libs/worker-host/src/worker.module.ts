import { BullModule, Processor } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { FilerError } from '@filer/core';
import {
  checkWorkerHandlers,
  openClusterContext,
  QUEUE_PREFIX,
  shardWorkerOptions,
  WORKER_QUEUES,
  type ClusterContext,
  type QueueName,
} from '@filer/jobs';
import { createMetrics, type Logger } from '@filer/observability';
import type { ShardProcessor } from './shard-processor.js';
import { CLUSTER, LOG, METRICS, SHARD_PROCESSORS, WORKER_APP, WORKER_CONFIG } from './tokens.js';
import type { WorkerAppConfig, WorkerAppName } from './worker-config.js';
import { WorkerRuntime } from './worker-runtime.js';
import { WorkerState } from './worker-state.js';

/** What `runWorkerApp` hands the app's module: its name, configuration (read and checked) and logger. */
export interface WorkerHostOptions {
  app: WorkerAppName;
  config: WorkerAppConfig;
  log: Logger;
}

/** The processor class of each queue an app consumes. */
export type ProcessorClasses = Partial<Record<QueueName, Type<ShardProcessor>>>;

/** The start-up check, before anything is opened: the app's processors serve exactly its queues, and every job name on them has one handler. */
function checkProcessors(app: WorkerAppName, processors: ProcessorClasses): QueueName[] {
  const queues = Object.keys(processors) as QueueName[];
  const want: readonly QueueName[] = WORKER_QUEUES[app];
  if (queues.length !== want.length || !want.every((q) => queues.includes(q)))
    throw new FilerError('E_INVALID_ARGUMENT', `the ${app} worker must process ${want.join(', ')}, not ${queues.join(', ')}`, {
      field: 'processors',
    });
  checkWorkerHandlers(queues);
  return queues;
}

/** Holds the values every module of a worker app may inject (see WorkerModule.forRoot). */
@Module({})
class WorkerCoreModule {}

/**
 * The module every worker app builds on: the cluster's connections, logs and metrics, BullMQ
 * through @nestjs/bullmq (the Redis connection and key prefix the API's queues use), the app's
 * processors and the runtime that starts and stops them. Global, so an app's own providers
 * (the batch worker's reconciler) inject the cluster and the logger.
 */
@Module({})
export class WorkerModule {
  static forRoot(host: WorkerHostOptions & { processors: ProcessorClasses }): DynamicModule {
    const { app, config, log, processors } = host;
    const queues = checkProcessors(app, processors);
    // Worker options come from the configuration read at start, which a decorator written on the
    // class cannot see: each processor is declared for its queue here. `autorun: false`: the
    // runtime starts the workers once Redis' settings are checked.
    const classes = queues.map((queue) => {
      const cls = processors[queue]!;
      Processor(queue, { ...shardWorkerOptions(config.cluster), autorun: false })(cls);
      return cls;
    });
    const shared = [
      { provide: WORKER_APP, useValue: app },
      { provide: WORKER_CONFIG, useValue: config },
      { provide: LOG, useValue: log },
      { provide: METRICS, useValue: createMetrics(`${app}-worker`) },
      { provide: CLUSTER, useFactory: () => openClusterContext(config.cluster) },
    ];
    const core: DynamicModule = { module: WorkerCoreModule, global: true, providers: shared, exports: shared.map((p) => p.provide) };
    return {
      module: WorkerModule,
      imports: [
        core,
        BullModule.forRootAsync({
          inject: [CLUSTER],
          // One connection of the cluster's (ctx.connect: retried for ever) for the app's workers; each adds its own blocking one.
          useFactory: (ctx: ClusterContext) => ({ connection: ctx.connect(), prefix: QUEUE_PREFIX }),
        }),
        // Registering the consumed queues is what makes @nestjs/bullmq create the processors' workers.
        BullModule.registerQueue(...queues.map((name) => ({ name }))),
      ],
      providers: [
        WorkerState,
        ...classes,
        { provide: SHARD_PROCESSORS, useFactory: (...ps: ShardProcessor[]) => ps, inject: classes },
        WorkerRuntime,
      ],
      exports: [WorkerState, WorkerRuntime],
    };
  }
}
