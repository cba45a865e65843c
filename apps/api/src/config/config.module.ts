import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ClusterContext, EventHub, IdempotencyStore } from '@filer/jobs';
import type { Metrics } from '@filer/observability';
import type { JobAccepted } from '../jobs/params.js';
import type { ApiConfig } from './api-config.js';
import { API_CONFIG, CLUSTER, EVENT_HUB, IDEMPOTENCY, METRICS } from './tokens.js';

/** What the process shares between requests: configuration, the cluster's connections, metrics, the SSE hub, idempotency keys. */
export interface AppDeps {
  config: ApiConfig;
  ctx: ClusterContext;
  metrics: Metrics;
  hub: EventHub;
  idempotency: IdempotencyStore<JobAccepted>;
}

/** Hands the objects main.ts built (config read and checked before Nest starts) to the controllers. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(deps: AppDeps): DynamicModule {
    const providers = [
      { provide: API_CONFIG, useValue: deps.config },
      { provide: CLUSTER, useValue: deps.ctx },
      { provide: METRICS, useValue: deps.metrics },
      { provide: EVENT_HUB, useValue: deps.hub },
      { provide: IDEMPOTENCY, useValue: deps.idempotency },
    ];
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
