import type { FastifyReply, FastifyRequest } from 'fastify';
import { toApiError } from '../errors/exception.filter.js';
import { authorize } from './authorize.js';
import { bearerToken, type Scope, type TokenEntry } from './tokens.js';

/** The cookie that carries a token for pages a browser loads (Bull Board, Swagger UI). */
export const TOKEN_COOKIE = 'filer_token';
const COOKIE_MAX_AGE_S = 12 * 3600;

/**
 * Pages a browser loads, which cannot send an Authorization header by themselves, and the scope
 * each needs. Matched on the route pattern Fastify found, not the raw URL, so no spelling of a
 * URL reaches one of these routes without passing here.
 */
export function browserPageScope(route: string): Scope | undefined {
  if (route === '/admin/queues' || route.startsWith('/admin/queues/')) return 'admin';
  if (route === '/docs' || route.startsWith('/docs/') || route.startsWith('/docs-')) return 'read';
  return undefined;
}

/** The token of the `filer_token` cookie, or undefined. */
export function cookieToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * A Fastify onRequest hook for the browser pages. A token is accepted as `Authorization: Bearer`,
 * or as the HttpOnly, SameSite=Strict cookie `filer_token`; `?token=` once sets that cookie and
 * redirects to the same URL without it (so the token leaves the address bar and the history).
 * The API routes under /v1 never read the cookie.
 */
export function browserAuthHook(tokens: readonly TokenEntry[]) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const route = req.routeOptions.url;
    const need = route === undefined ? undefined : browserPageScope(route);
    if (need === undefined) return undefined;
    try {
      const url = new URL(req.url, 'http://localhost');
      const fromQuery = url.searchParams.get('token');
      if (fromQuery !== null) {
        authorize(tokens, fromQuery, need);
        url.searchParams.delete('token');
        const secure = req.protocol === 'https' ? '; Secure' : '';
        return reply
          .header(
            'set-cookie',
            `${TOKEN_COOKIE}=${encodeURIComponent(fromQuery)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${secure}`,
          )
          .header('cache-control', 'no-store')
          .redirect(url.pathname + url.search, 303);
      }
      authorize(tokens, bearerToken(req.headers.authorization) ?? cookieToken(req.headers.cookie), need);
      return undefined;
    } catch (e) {
      // Replied here rather than thrown: Bull Board's plugin has an error handler of its own.
      const err = toApiError(e);
      return reply.code(err.status).headers(err.headers).send(err.body());
    }
  };
}
