import type { RateDecision, RateLimiter } from '@filer/jobs';
import type { Logger } from '@filer/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { browserPageScope, cookieToken } from '../auth/browser-auth.js';
import { bearerToken, findToken, type TokenEntry } from '../auth/tokens.js';
import { ApiError } from '../errors/api-error.js';

/** Longest wait for Redis' answer: past it the request goes on unlimited rather than hang. */
const LIMITER_TIMEOUT_MS = 1_000;
/** At most one warning this often while Redis does not answer. */
const WARN_EVERY_MS = 10_000;

/** Probes stay open and unlimited: an orchestrator's checks must never be refused. */
export const rateLimitExempt = (route: string): boolean => route === '/health' || route.startsWith('/health/');

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * A Fastify onRequest hook that counts every request made with a valid token against that
 * token's bucket, shared by all API replicas through Redis, and answers 429 with `Retry-After`
 * once it is empty. Requests without a valid token are left to the guard (401), and cost nothing
 * here; /health* is exempt. `RateLimit-Limit` and `RateLimit-Remaining` go with every counted
 * response. When Redis does not answer, requests pass unlimited (the routes that need Redis fail
 * on their own) and a warning is logged.
 */
export function rateLimitHook(limiter: RateLimiter, tokens: readonly TokenEntry[], log: Logger) {
  const { limit, windowMs } = limiter.options;
  let warnedAt = 0;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const route = req.routeOptions.url;
    if (route !== undefined && rateLimitExempt(route)) return undefined;
    const presented =
      bearerToken(req.headers.authorization) ??
      (route !== undefined && browserPageScope(route) !== undefined ? cookieToken(req.headers.cookie) : undefined);
    const token = presented === undefined ? undefined : findToken(tokens, presented);
    if (token === undefined) return undefined;
    let decision: RateDecision;
    try {
      decision = await withTimeout(limiter.take(token.id), LIMITER_TIMEOUT_MS);
    } catch (e) {
      if (Date.now() - warnedAt >= WARN_EVERY_MS) {
        warnedAt = Date.now();
        log.warn({ err: e }, 'rate limit: Redis did not answer, requests pass unlimited meanwhile');
      }
      return undefined;
    }
    void reply.header('ratelimit-limit', String(limit)).header('ratelimit-remaining', String(decision.remaining));
    if (decision.allowed) return undefined;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    const err = new ApiError(
      429,
      'E_TOO_MANY_REQUESTS',
      `this token reached its rate limit (${limit} requests, refilled over ${windowMs / 1000} s): retry after ${seconds} s`,
      undefined,
      { 'retry-after': String(seconds) },
    );
    return reply.code(429).headers(err.headers).send(err.body());
  };
}
