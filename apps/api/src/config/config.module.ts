import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ClusterContext, EventHub } from '@filer/jobs';
import type { Metrics } from '@filer/observability';
import type { ApiConfig } from './api-config.js';
import { API_CONFIG, CLUSTER, EVENT_HUB, METRICS } from './tokens.js';

/** What the process shares between requests: configuration, the cluster's connections, metrics and the SSE hub. */
export interface AppDeps {
  config: ApiConfig;
  ctx: ClusterContext;
  metrics: Metrics;
  hub: EventHub;
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
    ];
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
