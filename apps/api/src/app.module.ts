import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AuthGuard } from './auth/auth.guard.js';
import { ConfigModule, type AppDeps } from './config/config.module.js';
import { ApiExceptionFilter } from './errors/exception.filter.js';
import { HealthController } from './health/health.controller.js';
import { EventsController } from './jobs/events.controller.js';
import { ItemsController } from './jobs/items.controller.js';
import { JobsController } from './jobs/jobs.controller.js';
import { ResultsController } from './jobs/results.controller.js';
import { loggerParams } from './logging/logging.js';
import type { Logger } from '@filer/observability';
import { MetricsController } from './metrics/metrics.controller.js';

@Module({})
export class AppModule {
  static forRoot(deps: AppDeps, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(deps), LoggerModule.forRoot(loggerParams(logger))],
      controllers: [JobsController, ResultsController, EventsController, ItemsController, HealthController, MetricsController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
