import { invalidArgument } from '@filer/core';

/**
 * Where and how to reach S3. Credentials are not here: the AWS SDK's default chain finds them
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE and the shared
 * files, web identity, ECS and EC2 instance roles).
 */
export interface S3Config {
  /** An S3-compatible store (MinIO, Ceph RGW, s3rver): `http://host:9000`. Unset for AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Per-request bound: a request with no progress for this long fails (and is retried). */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Attempts per request, the first included (exponential backoff with jitter between them). */
  maxAttempts: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw invalidArgument(name, text, `${name} must be a whole number ≥ 1, not '${text}'`);
  return Number(text);
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (/^(1|true|yes)$/i.test(text)) return true;
  if (/^(0|false|no)$/i.test(text)) return false;
  throw invalidArgument(name, text, `${name} must be true or false, not '${text}'`);
}

/**
 * Reads FILER_S3_ENDPOINT, FILER_S3_REGION (else AWS_REGION, else us-east-1),
 * FILER_S3_FORCE_PATH_STYLE (default: true when an endpoint is set), FILER_S3_TIMEOUT_MS
 * (default 30000), FILER_S3_MAX_ATTEMPTS (default 5). Bad values are errors naming the variable.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3Config {
  const endpoint = env.FILER_S3_ENDPOINT === '' ? undefined : env.FILER_S3_ENDPOINT;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint))
    throw invalidArgument('FILER_S3_ENDPOINT', endpoint, `FILER_S3_ENDPOINT must be http(s)://host[:port], not '${endpoint}'`);
  return {
    endpoint,
    region: env.FILER_S3_REGION || env.AWS_REGION || 'us-east-1',
    forcePathStyle: bool(env, 'FILER_S3_FORCE_PATH_STYLE', endpoint !== undefined),
    timeoutMs: positive(env, 'FILER_S3_TIMEOUT_MS', 30_000),
    connectTimeoutMs: 5_000,
    maxAttempts: positive(env, 'FILER_S3_MAX_ATTEMPTS', 5),
  };
}
