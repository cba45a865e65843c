import * as http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * A minimal S3 endpoint of the test's own, in memory, on a loopback port: for keys no real
 * store here can hold (s3rver keeps objects as files, so `a/../../x`, `/abs` or `b//c` cannot
 * exist there). It answers what filer's walk, plan and transfers ask — ListObjectsV2 (prefix,
 * delimiter, continuation tokens: a bucket of many keys is paged as S3 pages it), HeadBucket, and HEAD, GET, PUT (CopyObject with x-amz-copy-source),
 * DELETE of objects — and records every request. Keys are taken from the raw request path,
 * never normalised. Signatures are not checked.
 */
export interface StubS3 {
  endpoint: string;
  /** The objects, by bucket and key. */
  objects: Map<string, Map<string, Buffer>>;
  /** Every request: method and the raw decoded key (or '' for a bucket request). */
  requests: { method: string; bucket: string; key: string }[];
  /** FILER_S3_* and AWS_* variables pointing filer at this stub. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const etagOf = (b: Buffer): string => `"${createHash('md5').update(b).digest('hex')}"`;
/** One fixed time for every object, so identities do not depend on when the stub started. */
const MODIFIED = new Date('2026-01-02T03:04:05.000Z');

/** Keys in order, per bucket map (dropped when a PUT or DELETE changes it): paging a large bucket sorts it once. */
const sortedKeys = new WeakMap<Map<string, Buffer>, string[]>();

function keysOf(all: Map<string, Buffer>): string[] {
  let keys = sortedKeys.get(all);
  if (keys === undefined) sortedKeys.set(all, (keys = [...all.keys()].sort()));
  return keys;
}

/** The index of the first key above `after` (binary search). */
function firstAbove(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One ListObjectsV2 page: keys and common prefixes in key order, at most `maxKeys`, resumed after
 * `token` (the last one sent), else after `startAfter` (S3's StartAfter, ignored with a token).
 */
function listXml(
  bucket: string,
  all: Map<string, Buffer>,
  q: { prefix: string; delimiter: string | null; maxKeys: number; token: string | null; startAfter: string | null },
): string {
  const { prefix, delimiter, maxKeys, token, startAfter } = q;
  const base = prefix === '' ? '' : prefix.slice(0, -1);
  const sorted = keysOf(all);
  const contents: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let truncated = false;
  for (let i = firstAbove(sorted, token ?? (startAfter !== null && startAfter > base ? startAfter : base)); i < sorted.length; i++) {
    const key = sorted[i];
    if (!key.startsWith(prefix)) {
      if (key > prefix) break;
      continue;
    }
    // A token that is a common prefix resumes after every key below it.
    if (token !== null && delimiter && token.endsWith(delimiter) && key.startsWith(token)) continue;
    const rest = key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const item = cut >= 0 ? prefix + rest.slice(0, cut + delimiter!.length) : key;
    if (item === last) continue;
    if (contents.length + prefixes.length === maxKeys) {
      truncated = true;
      break;
    }
    (cut >= 0 ? prefixes : contents).push(item);
    last = item;
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${contents.length + prefixes.length}</KeyCount>` +
    `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
    (truncated ? `<NextContinuationToken>${xml(last!)}</NextContinuationToken>` : '') +
    contents
      .map(
        (k) =>
          `<Contents><Key>${xml(k)}</Key><LastModified>${MODIFIED.toISOString()}</LastModified>` +
          `<ETag>${xml(etagOf(all.get(k)!))}</ETag><Size>${all.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('') +
    prefixes.map((p) => `<CommonPrefixes><Prefix>${xml(p)}</Prefix></CommonPrefixes>`).join('') +
    `</ListBucketResult>`
  );
}

export async function startStubS3(initial: Record<string, Record<string, string | Buffer>>): Promise<StubS3> {
  const objects = new Map<string, Map<string, Buffer>>();
  for (const [bucket, keys] of Object.entries(initial))
    objects.set(bucket, new Map(Object.entries(keys).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)])));
  const requests: StubS3['requests'] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://stub');
      // Path style: /bucket/key… — the key is the raw path after the bucket, decoded, not normalised.
      const raw = req.url!.split('?')[0];
      const slash = raw.indexOf('/', 1);
      const bucket = decodeURIComponent(slash < 0 ? raw.slice(1) : raw.slice(1, slash));
      const key = slash < 0 ? '' : decodeURIComponent(raw.slice(slash + 1));
      const method = req.method!;
      requests.push({ method, bucket, key });
      const store = objects.get(bucket);
      const send = (status: number, body = '', headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/xml', ...headers });
        res.end(body);
      };
      const error = (status: number, code: string): void =>
        send(
          status,
          method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
        );
      if (store === undefined) return error(404, 'NoSuchBucket');
      if (key === '') {
        if (method === 'HEAD') return send(200);
        if (method === 'GET' && url.searchParams.get('list-type') === '2')
          return send(
            200,
            listXml(bucket, store, {
              prefix: url.searchParams.get('prefix') ?? '',
              delimiter: url.searchParams.get('delimiter'),
              maxKeys: Number(url.searchParams.get('max-keys') ?? 1000),
              token: url.searchParams.get('continuation-token'),
              startAfter: url.searchParams.get('start-after'),
            }),
          );
        return error(400, 'NotImplemented');
      }
      const body = store.get(key);
      const headers = (b: Buffer): Record<string, string> => ({
        'content-length': String(b.length),
        etag: etagOf(b),
        'last-modified': MODIFIED.toUTCString(),
        'content-type': 'application/octet-stream',
      });
      switch (method) {
        case 'HEAD':
          return body === undefined ? error(404, 'NotFound') : (res.writeHead(200, headers(body)), res.end());
        case 'GET':
          return body === undefined ? error(404, 'NoSuchKey') : (res.writeHead(200, headers(body)), res.end(body));
        case 'DELETE':
          store.delete(key);
          sortedKeys.delete(store);
          return send(204);
        case 'PUT': {
          if (req.headers['if-none-match'] === '*' && body !== undefined) return error(412, 'PreconditionFailed');
          const from = req.headers['x-amz-copy-source'];
          if (typeof from === 'string') {
            const src = decodeURIComponent(from.replace(/^\//, ''));
            const cut = src.indexOf('/');
            const data = objects.get(src.slice(0, cut))?.get(src.slice(cut + 1));
            if (data === undefined) return error(404, 'NoSuchKey');
            store.set(key, data);
            sortedKeys.delete(store);
            return send(
              200,
              `<CopyObjectResult><ETag>${xml(etagOf(data))}</ETag><LastModified>${MODIFIED.toISOString()}</LastModified></CopyObjectResult>`,
            );
          }
          const data = Buffer.concat(chunks);
          store.set(key, data);
          sortedKeys.delete(store);
          return send(200, '', { etag: etagOf(data) });
        }
        default:
          return error(400, 'NotImplemented');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    objects,
    requests,
    env: () => ({
      FILER_S3_ENDPOINT: endpoint,
      FILER_S3_REGION: 'us-east-1',
      FILER_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'stub',
      AWS_SECRET_ACCESS_KEY: 'stub',
    }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
