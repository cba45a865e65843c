import { intVar, readAppConfig, type ClusterConfig } from '@filer/jobs';
import { parseTokens, type TokenEntry } from '../auth/tokens.js';

type Env = Record<string, string | undefined>;

/**
 * 6,000 requests at once per token, refilled at 100 a second: far above what a person or a
 * polling script needs, and above the load test's burst (100 submits, then about 200 polls a
 * second from one token), while one runaway client cannot take a replica's whole capacity.
 */
export const RATE_LIMIT_DEFAULT = 6_000;
export const RATE_LIMIT_WINDOW_S_DEFAULT = 60;
/** Stripe keeps idempotency keys for 24 h: long enough for any client's retries. */
export const IDEMPOTENCY_TTL_S_DEFAULT = 86_400;

/** Everything the API reads from its environment, checked once at start-up. */
export interface ApiConfig {
  port: number;
  host: string;
  tokens: TokenEntry[];
  /** Largest request body accepted (Fastify's bodyLimit); larger bodies get 413. */
  maxBodyBytes: number;
  /** `/metrics` without a token (for scrapers that cannot send one); off by default. */
  metricsPublic: boolean;
  /** Requests per token: a burst of `limit`, refilled over `windowMs` (see limits/rate-limit.hook.ts); undefined: no limit. */
  rateLimit: { limit: number; windowMs: number } | undefined;
  /** How long the response to a request with an `Idempotency-Key` is kept for replays. */
  idempotencyTtlMs: number;
  cluster: ClusterConfig;
}

function boolVar(env: Env, name: string, problems: string[]): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name}=${raw}: expected true or false`);
  return false;
}

/**
 * Reads the API's variables and the cluster's (FILER_REDIS_URL, FILER_RESULTS_DIR,
 * FILER_ALLOWED_ROOTS, ...) and reports every problem at once in one ConfigError.
 */
export function readApiConfig(env: Env = process.env): ApiConfig {
  return readAppConfig(env, (problems) => {
    const port = intVar(env, 'FILER_API_PORT', 8080, problems, 1, 65_535);
    const host = env.FILER_API_HOST === undefined || env.FILER_API_HOST === '' ? '0.0.0.0' : env.FILER_API_HOST;
    if (/\s/.test(host)) problems.push(`FILER_API_HOST=${host}: expected a host name or address`);
    const maxBodyBytes = intVar(env, 'FILER_MAX_BODY_BYTES', 1024 * 1024, problems, 1024, 1024 * 1024 * 1024);
    const metricsPublic = boolVar(env, 'FILER_METRICS_PUBLIC', problems);
    const tokens = parseTokens(env.FILER_TOKENS, problems);
    const limit = intVar(env, 'FILER_RATE_LIMIT', RATE_LIMIT_DEFAULT, problems, 0, 1_000_000);
    const windowS = intVar(env, 'FILER_RATE_LIMIT_WINDOW_S', RATE_LIMIT_WINDOW_S_DEFAULT, problems, 1, 86_400);
    const rateLimit = limit === 0 ? undefined : { limit, windowMs: windowS * 1000 };
    const idempotencyTtlMs = intVar(env, 'FILER_IDEMPOTENCY_TTL_S', IDEMPOTENCY_TTL_S_DEFAULT, problems, 1, 30 * 86_400) * 1000;
    return { port, host, tokens, maxBodyBytes, metricsPublic, rateLimit, idempotencyTtlMs };
  });
}
