import * as http from 'node:http';
import * as https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from './s3-config.js';

/** Sockets per client: enough for 16 listings and a few dozen transfers at once. */
const MAX_SOCKETS = 64;

/**
 * An S3 client for `config`. Retries use the SDK's standard mode: exponential backoff with jitter
 * on throttling (SlowDown, 503), 5xx and network errors (reset, refused, timeout), up to
 * `maxAttempts`. Every request is bounded: `connectionTimeout` for the connection, `requestTimeout`
 * for a socket that stays silent. Checksums only when an operation requires one: the SDK's default
 * flexible checksums send streamed bodies in aws-chunked framing, which S3-compatible stores
 * (s3rver at least) store verbatim as the object.
 */
export function createS3Client(config: S3Config): S3Client {
  // The SDK warns on Node 20 that releases after early 2027 will need Node 22; the version is
  // pinned (see STACK.md), so the warning would only be noise on every S3 command's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    maxAttempts: config.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      requestTimeout: config.timeoutMs,
      connectionTimeout: config.connectTimeoutMs,
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
    },
  });
}
