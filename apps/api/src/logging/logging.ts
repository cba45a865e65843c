import type { IncomingMessage, ServerResponse } from 'node:http';
import { JOB_ID_PATTERN } from '@filer/jobs';
import type { Logger } from '@filer/observability';
import type { Params } from 'nestjs-pino';

const JOB_PATH = /^\/v1\/jobs\/([^/?#]+)/;

/** The job a request is about, from its URL (`/v1/jobs/:id/...`), for the `jobId` field of its log lines. */
export function jobIdOf(url: string | undefined): string | undefined {
  const id = JOB_PATH.exec(url ?? '')?.[1];
  return id !== undefined && JOB_ID_PATTERN.test(id) ? id : undefined;
}

/** A URL with the value of any `token` query parameter replaced (browser logins carry one once). */
export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&#]*/g, '$1[redacted]');
}

/**
 * nestjs-pino on the same pino logger as the rest of the process: one JSON line per request,
 * with `jobId` on every line about a job. Headers are left out of request logs entirely, so
 * neither Authorization nor the token cookie is ever written.
 */
export function loggerParams(logger: Logger): Params {
  return {
    pinoHttp: {
      logger,
      customProps: (req: IncomingMessage) => {
        const jobId = jobIdOf(req.url);
        return jobId === undefined ? {} : { jobId };
      },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/health/ready' },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
