import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { FilerError } from '@filer/core';
import type { FastifyReply } from 'fastify';
import { ApiError, CODE_BY_STATUS, fromFilerError } from './api-error.js';

/** Maps anything thrown while serving a request to `{ error: { code, message, fields? } }`. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (statusOf(e) === 413) return new ApiError(413, CODE_BY_STATUS[413], 'the request body is larger than FILER_MAX_BODY_BYTES allows');
  if (e instanceof FilerError) return fromFilerError(e);
  if (e instanceof HttpException) {
    const status = e.getStatus();
    return new ApiError(status, CODE_BY_STATUS[status] ?? `E_HTTP_${status}`, status === 404 ? 'no such route' : e.message);
  }
  // Fastify's own errors (body too large, bad JSON, unsupported media type) carry a 4xx statusCode.
  const status = statusOf(e);
  if (status !== undefined && status >= 400 && status < 500) {
    const message = (e as Error).message;
    return new ApiError(status, CODE_BY_STATUS[status] ?? `E_HTTP_${status}`, message, status === 400 ? [] : undefined);
  }
  return new ApiError(500, 'E_INTERNAL', 'internal error');
}

function statusOf(e: unknown): number | undefined {
  if (e instanceof HttpException) return e.getStatus();
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const err = toApiError(exception);
    if (err.status >= 500) this.log.error(exception as Error);
    if (reply.sent || reply.raw.headersSent) {
      // A stream failed half-way: the status is gone, so cut the connection instead of ending cleanly.
      reply.raw.destroy(exception as Error);
      return;
    }
    void reply.status(err.status).headers(err.headers).send(err.body());
  }
}
