import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SCHEMAS } from './schemas.js';

/**
 * The OpenAPI document, from the controllers' decorators plus the component schemas of
 * docs/schemas.ts (JobSpec and FilterSpec generated from core's zod schemas). Open routes
 * (`@Public()`) say `security: []`; every other one needs the bearer token.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Filer API')
    .setDescription(
      'Find, de-duplicate, rename, copy and move over file trees, run by a cluster of workers. ' +
        'Every route but /health needs a bearer token with the read (GET), write (POST) or admin (/admin/queues) scope. ' +
        'Each token has a rate limit (FILER_RATE_LIMIT requests at once, refilled over FILER_RATE_LIMIT_WINDOW_S): past it, 429 with Retry-After. ' +
        'POST /v1/jobs takes an Idempotency-Key header: a retry with the same key and body gets the first answer again, never a second job.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Relative: the document describes the server that serves it, wherever it is deployed.
    .addServer('/', 'The server serving this document')
    .addBearerAuth()
    .build();
  config.components = { ...config.components, schemas: { ...config.components?.schemas, ...SCHEMAS } };
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs, the JSON at /docs-json; both need a `read` token (see auth/browser-auth.ts for browsers). */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
