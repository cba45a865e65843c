import { createHash } from 'node:crypto';
import type { IdempotencyStore } from '@filer/jobs';
import { ApiError } from '../errors/api-error.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** UUIDs, ULIDs, base64 and hex all fit; spaces and commas would make a repeated header ambiguous. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._~:+/=-]{1,255}$/;
/** How long a request waits for another one with the same key that is still under way. */
const WAIT_FOR_PENDING_MS = 5_000;
const POLL_MS = 50;
/** How long a claim lasts when the process that made it dies before answering. */
export const PENDING_TTL_MS = 60_000;

/**
 * The `Idempotency-Key` header's value, or undefined when there is none. A structured-field
 * string (`"…"`, as the IETF draft writes it) is accepted too.
 */
export function idempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const bad = (why: string): ApiError =>
    new ApiError(400, 'E_INVALID_ARGUMENT', `${IDEMPOTENCY_HEADER} ${why}`, [{ field: IDEMPOTENCY_HEADER, message: why }]);
  if (Array.isArray(raw)) throw bad('given more than once');
  const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key))
    throw bad(`must be 1 to 255 characters of A-Z a-z 0-9 . _ ~ : + / = - (a UUID fits), not '${key.slice(0, 64)}'`);
  return key;
}

/** JSON with object keys sorted, so the same request written in another key order has the same fingerprint. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** What identifies a request's body for an idempotency key. */
export const requestFingerprint = (body: unknown): string => createHash('sha256').update(canonicalJson(body)).digest('hex');

/**
 * Runs `work` once per (scope, key): the first request claims the key and its response is kept;
 * a later one with the same body gets that response (`replayed`), one with another body a 422,
 * and one that arrives while the first is still under way waits for it (409 after 5 s). When
 * `work` throws (a 400, Redis away), the claim is released: nothing was made, so a retry runs afresh.
 */
export async function runIdempotent<R>(
  store: IdempotencyStore<R>,
  scope: string,
  key: string,
  fingerprint: string,
  work: () => Promise<R>,
  onLapsed: () => void,
): Promise<{ response: R; replayed: boolean }> {
  const deadline = Date.now() + WAIT_FOR_PENDING_MS;
  for (;;) {
    const outcome = await store.claim(scope, key, fingerprint);
    switch (outcome.kind) {
      case 'claimed': {
        let response: R;
        try {
          response = await work();
        } catch (e) {
          await outcome.release().catch(() => undefined);
          throw e;
        }
        // The work is done: a failure to record it must not turn into an error that invites a second submit.
        const kept = await outcome.complete(response).catch(() => false);
        if (!kept) onLapsed();
        return { response, replayed: false };
      }
      case 'replay':
        return { response: outcome.response, replayed: true };
      case 'mismatch':
        throw new ApiError(
          422,
          'E_IDEMPOTENCY_KEY_REUSED',
          `${IDEMPOTENCY_HEADER} '${key}' was already used with a different request body: use a new key for a new request`,
          [{ field: IDEMPOTENCY_HEADER, message: 'already used with a different request body' }],
        );
      case 'pending':
        if (Date.now() >= deadline)
          throw new ApiError(
            409,
            'E_IDEMPOTENCY_IN_PROGRESS',
            `a request with ${IDEMPOTENCY_HEADER} '${key}' is still being processed: retry shortly`,
            undefined,
            { 'retry-after': '1' },
          );
        await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
