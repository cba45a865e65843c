import { ApiError } from '../errors/api-error.js';
import { findToken, type Scope, type TokenEntry } from './tokens.js';

const REALM = 'Bearer realm="filer"';

/**
 * Checks a presented token (possibly absent) for a scope: 401 with `WWW-Authenticate: Bearer`
 * when it is missing or unknown, 403 when it is valid but lacks the scope. Returns the token's entry.
 */
export function authorize(tokens: readonly TokenEntry[], presented: string | undefined, need: Scope): TokenEntry {
  if (presented === undefined)
    throw new ApiError(401, 'E_UNAUTHORIZED', 'a bearer token is required', undefined, { 'www-authenticate': REALM });
  const token = findToken(tokens, presented);
  if (token === undefined)
    throw new ApiError(401, 'E_UNAUTHORIZED', 'the bearer token is not valid', undefined, {
      'www-authenticate': `${REALM}, error="invalid_token"`,
    });
  if (!token.scopes.has(need))
    throw new ApiError(403, 'E_FORBIDDEN', `this token lacks the '${need}' scope`, undefined, {
      'www-authenticate': `${REALM}, error="insufficient_scope", scope="${need}"`,
    });
  return token;
}
