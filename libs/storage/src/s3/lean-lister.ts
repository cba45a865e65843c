import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseListPage, type ListedPage } from './list-xml.js';
import type { S3Config } from './s3-config.js';
import { PAGE_KEYS, type ListPageInput, type S3Lister } from './s3-lister.js';

/** SHA-256 of an empty body: a GET's payload hash. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Codes retried besides 5xx and 429, as the SDK's standard mode does. */
const RETRIED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError']);
const MAX_SOCKETS = 64;

/** An error shaped like the SDK's service errors: s3Error and s3ErrorCode read `name`, `code` and `$metadata`. */
class LeanS3Error extends Error {
  constructor(
    name: string,
    message: string,
    readonly $metadata: { httpStatusCode?: number },
  ) {
    super(message);
    this.name = name;
  }
}

/** RFC 3986 encoding, as SigV4 wants it in the canonical query. */
const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const hmac = (key: string | Buffer, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * A ListObjectsV2 client of its own, for listings that need nothing else (`filer find s3://…`):
 * one signed GET (SigV4, the payload hash of an empty body) per page on keep-alive sockets, the
 * page read by parseListPage — no AWS SDK to load (about 80 ms of CPU at start-up) and no
 * middleware stack per request. Only where the request is plain: credentials from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN, no AWS_PROFILE — the
 * SDK's chain would take the same keys first), and an endpoint given (FILER_S3_ENDPOINT) or AWS's
 * regional one for a bucket without dots outside the partitions with other domains; otherwise
 * undefined, and the caller uses the SDK. Retries and timeouts follow S3Config as the SDK client
 * does (5xx, 429, throttling codes and network errors; exponential backoff with full jitter);
 * error responses become errors named by the S3 code with the HTTP status, as the SDK's are.
 */
export function leanListerFromEnv(config: S3Config, env: NodeJS.ProcessEnv = process.env): S3Lister | undefined {
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = env;
  if (!id || !secret || env.AWS_PROFILE) return undefined;
  if (config.endpoint === undefined) {
    const sdkEndpointRules = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'];
    if (sdkEndpointRules.some((v) => env[v]) || !/^[a-z]{2}-[a-z]+-\d$/.test(config.region) || /^(cn|us-gov|us-iso)/.test(config.region))
      return undefined;
  }
  return new LeanLister(config, { accessKeyId: id, secretAccessKey: secret, sessionToken: token || undefined });
}

class LeanLister implements S3Lister {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private signingKey: SigningKey | undefined;

  constructor(
    private readonly config: S3Config,
    private readonly credentials: Credentials,
  ) {
    this.base = new URL(config.endpoint ?? `https://s3.${config.region}.amazonaws.com`);
    const options = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  close(): void {
    this.agent.destroy();
  }

  async list(input: ListPageInput): Promise<ListedPage> {
    // Virtual-hosted unless path style is asked for; a bucket with dots would not match a TLS certificate.
    if (!this.config.forcePathStyle && input.bucket.includes('.'))
      throw new LeanS3Error('InvalidBucketName', `bucket '${input.bucket}' needs path-style requests`, {});
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(input);
      } catch (e) {
        if (attempt >= this.config.maxAttempts || !retryable(e)) throw e;
        await sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
      }
    }
  }

  private once(input: ListPageInput): Promise<ListedPage> {
    const query: [string, string][] = [['list-type', '2']];
    if (input.token !== undefined) query.push(['continuation-token', input.token]);
    if (input.delimiter !== undefined) query.push(['delimiter', input.delimiter]);
    query.push(['max-keys', String(input.maxKeys ?? PAGE_KEYS)]);
    query.push(['prefix', input.prefix]);
    if (input.startAfter !== undefined) query.push(['start-after', input.startAfter]);
    query.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const qs = query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    const pathStyle = this.config.forcePathStyle;
    const host = pathStyle ? this.base.host : `${input.bucket}.${this.base.host}`;
    const path = pathStyle ? `/${input.bucket}/` : '/';
    const date = new Date();
    this.signingKey = signingKeyFor(this.signingKey, this.credentials.secretAccessKey, this.config.region, date);
    const headers = signGet({ host, path, qs, region: this.config.region, credentials: this.credentials, date, key: this.signingKey });
    return new Promise<ListedPage>((resolve, reject) => {
      const req = (this.base.protocol === 'https:' ? https : http).request(
        {
          protocol: this.base.protocol,
          // An IPv6 literal keeps its brackets in the Host header, not in the address connected to.
          hostname: pathStyle ? this.base.hostname.replace(/^\[(.*)\]$/, '$1') : `${input.bucket}.${this.base.hostname}`,
          port: this.base.port,
          method: 'GET',
          path: `${path}?${qs}`,
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) return reject(errorOf(status, text));
            const page = parseListPage(text);
            if (page === undefined)
              return reject(new LeanS3Error('UnparsableListing', 'ListObjectsV2 response not understood', { httpStatusCode: status }));
            resolve(page);
          });
        },
      );
      const timeout = (ms: number, what: string) => () =>
        req.destroy(Object.assign(new Error(`${what} after ${ms} ms`), { code: 'ETIMEDOUT' }));
      req.setTimeout(this.config.timeoutMs, timeout(this.config.timeoutMs, 'no response'));
      req.on('socket', (socket) => {
        if (socket.connecting) {
          const timer = setTimeout(timeout(this.config.connectTimeoutMs, 'no connection'), this.config.connectTimeoutMs);
          socket.once('connect', () => clearTimeout(timer));
          socket.once('close', () => clearTimeout(timer));
        }
      });
      req.on('error', reject);
      req.end();
    });
  }
}

interface SigningKey {
  day: string;
  key: Buffer;
}

const amzDateOf = (date: Date): string => date.toISOString().replace(/[-:]|\.\d{3}/g, '');

/** The day's SigV4 signing key for S3 in `region` (kept while the day lasts). */
function signingKeyFor(previous: SigningKey | undefined, secret: string, region: string, date: Date): SigningKey {
  const day = amzDateOf(date).slice(0, 8);
  if (previous?.day === day) return previous;
  return { day, key: hmac(hmac(hmac(hmac('AWS4' + secret, day), region), 's3'), 'aws4_request') };
}

/**
 * SigV4 headers (host, x-amz-date, x-amz-content-sha256, x-amz-security-token, authorization)
 * for a GET of `path?qs` (qs already canonical: sorted, RFC 3986-encoded) on `host`.
 */
export function signGet(req: {
  host: string;
  path: string;
  qs: string;
  region: string;
  credentials: Credentials;
  date: Date;
  key?: SigningKey;
}): Record<string, string> {
  const amzDate = amzDateOf(req.date);
  const day = amzDate.slice(0, 8);
  const { accessKeyId, secretAccessKey, sessionToken } = req.credentials;
  const headers: Record<string, string> = { host: req.host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': amzDate };
  if (sessionToken !== undefined) headers['x-amz-security-token'] = sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = ['GET', req.path, req.qs, ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), EMPTY_SHA256].join('\n');
  const scope = `${day}/${req.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical, 'utf8').digest('hex')].join('\n');
  const key = signingKeyFor(req.key, secretAccessKey, req.region, req.date).key;
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return headers;
}

/** An S3 error response as an error named by its Code (NoSuchBucket, AccessDenied…), else by its status. */
function errorOf(status: number, body: string): LeanS3Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? `HTTP ${status}`;
  const name = code ?? (status === 404 ? 'NotFound' : status === 403 ? 'Forbidden' : `Http${status}`);
  return new LeanS3Error(name, message, { httpStatusCode: status });
}

function retryable(e: unknown): boolean {
  if (e instanceof LeanS3Error) {
    const status = e.$metadata.httpStatusCode ?? 0;
    return status >= 500 || status === 429 || RETRIED.has(e.name);
  }
  // Network errors: reset, refused, timed out, a socket closed under the request.
  return typeof (e as { code?: unknown }).code === 'string';
}
