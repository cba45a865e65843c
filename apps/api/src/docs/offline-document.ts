import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { createLogger, createMetrics } from '@filer/observability';
import { AppModule } from '../app.module.js';
import type { AppDeps } from '../config/config.module.js';
import { buildOpenApiDocument } from './openapi.js';

/**
 * The OpenAPI document main.ts serves, built without configuration, Redis or a listening socket
 * (for `npm run lint`'s check of it, scripts/lint-openapi.mjs): the controllers only use their
 * dependencies when a request comes, and none comes here.
 */
export async function offlineOpenApiDocument(): Promise<OpenAPIObject> {
  const unused = {} as never;
  const deps: AppDeps = { config: unused, ctx: unused, metrics: createMetrics('api'), hub: unused, idempotency: unused };
  const root = AppModule.forRoot(deps, createLogger('api', 'silent'));
  const app = await NestFactory.create<NestFastifyApplication>(root, new FastifyAdapter(), { logger: false, abortOnError: false });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
