import { z } from 'zod';
import { clusterConfigOf, clusterEnvShape, configProblem, envInt, envVar, parseConfig, type ClusterConfig } from '@filer/jobs';
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

/** FILER_METRICS_PUBLIC and the like: true/1 or false/0, unset is false. */
const envBool = (name: string) =>
  envVar(false, (raw, ctx) => {
    if (raw === 'true' || raw === '1') return true;
    if (raw !== 'false' && raw !== '0') configProblem(ctx, `${name}=${raw}: expected true or false`);
    return false;
  });

/** The API's configuration: the cluster's variables, then its own, every problem reported in one ConfigError. */
export const ApiConfigSchema = z
  .object({
    ...clusterEnvShape,
    FILER_API_PORT: envInt('FILER_API_PORT', 8080, 1, 65_535),
    FILER_API_HOST: envVar('0.0.0.0', (host, ctx) => {
      if (/\s/.test(host)) configProblem(ctx, `FILER_API_HOST=${host}: expected a host name or address`);
      return host;
    }),
    FILER_MAX_BODY_BYTES: envInt('FILER_MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    FILER_METRICS_PUBLIC: envBool('FILER_METRICS_PUBLIC'),
    FILER_TOKENS: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const problems: string[] = [];
        const tokens = parseTokens(raw, problems);
        for (const p of problems) configProblem(ctx, p);
        return tokens;
      }),
    FILER_RATE_LIMIT: envInt('FILER_RATE_LIMIT', RATE_LIMIT_DEFAULT, 0, 1_000_000),
    FILER_RATE_LIMIT_WINDOW_S: envInt('FILER_RATE_LIMIT_WINDOW_S', RATE_LIMIT_WINDOW_S_DEFAULT, 1, 86_400),
    FILER_IDEMPOTENCY_TTL_S: envInt('FILER_IDEMPOTENCY_TTL_S', IDEMPOTENCY_TTL_S_DEFAULT, 1, 30 * 86_400),
  })
  .transform((env): ApiConfig => ({
    port: env.FILER_API_PORT,
    host: env.FILER_API_HOST,
    tokens: env.FILER_TOKENS,
    maxBodyBytes: env.FILER_MAX_BODY_BYTES,
    metricsPublic: env.FILER_METRICS_PUBLIC,
    rateLimit: env.FILER_RATE_LIMIT === 0 ? undefined : { limit: env.FILER_RATE_LIMIT, windowMs: env.FILER_RATE_LIMIT_WINDOW_S * 1000 },
    idempotencyTtlMs: env.FILER_IDEMPOTENCY_TTL_S * 1000,
    cluster: clusterConfigOf(env),
  }));

/**
 * Reads the API's variables and the cluster's (FILER_REDIS_URL, FILER_RESULTS_DIR,
 * FILER_ALLOWED_ROOTS, ...) and reports every problem at once in one ConfigError.
 */
export function readApiConfig(env: Env = process.env): ApiConfig {
  return parseConfig(ApiConfigSchema, env);
}
