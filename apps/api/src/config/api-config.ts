import { intVar, readAppConfig, type ClusterConfig } from '@filer/jobs';
import { parseTokens, type TokenEntry } from '../auth/tokens.js';

type Env = Record<string, string | undefined>;

/** Everything the API reads from its environment, checked once at start-up. */
export interface ApiConfig {
  port: number;
  host: string;
  tokens: TokenEntry[];
  /** Largest request body accepted (Fastify's bodyLimit); larger bodies get 413. */
  maxBodyBytes: number;
  /** `/metrics` without a token (for scrapers that cannot send one); off by default. */
  metricsPublic: boolean;
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
    return { port, host, tokens, maxBodyBytes, metricsPublic };
  });
}
