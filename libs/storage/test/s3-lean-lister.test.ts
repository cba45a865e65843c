import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { startFaultProxy, startS3Server, type S3ServerHandle } from '@filer/testing';
import {
  createS3Client,
  leanListerFromEnv,
  parseListPage,
  s3ConfigFromEnv,
  s3Error,
  sdkLister,
  signGet,
  type ListPageInput,
  type S3Lister,
} from '@filer/storage/s3';

/**
 * The lean ListObjectsV2 client (a SigV4 GET read by parseListPage, no AWS SDK) against the SDK
 * client on the same s3rver: the same pages for awkward keys, the same errors, retries through
 * a proxy that fails half the requests; and the page parser on its own, including what it leaves
 * to the SDK's parser. s3rver does not check SigV4 signatures, so the signature is checked against
 * the SDK's own signer (@smithy/signature-v4) instead.
 */

let server: S3ServerHandle;
let client: S3Client;
let lean: S3Lister;

const KEYS = [
  'plain.txt',
  'a&b<c>d.txt',
  'quote"and\'apos',
  'sp ace/in dir/x.txt',
  'ünï/cødé/ñ.txt',
  'emoji-😀/f.txt',
  'tab\there',
  'ctl\u0001char',
  'deep/a/b/c/d.txt',
  'deep/a/b/e.txt',
  'deep/z.txt',
  'marker/',
];

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-lean'] });
  Object.assign(process.env, server.env());
  client = createS3Client(s3ConfigFromEnv());
  lean = leanListerFromEnv(s3ConfigFromEnv())!;
  for (const [i, key] of KEYS.entries())
    await client.send(new PutObjectCommand({ Bucket: 'filer-lean', Key: key, Body: 'x'.repeat(i), ContentLength: i }));
}, 120_000);

afterAll(async () => {
  client?.destroy();
  lean?.close?.();
  await server?.stop();
});

/** Every page of a listing, tokens left out (each client gets its own). */
async function allPages(lister: S3Lister, input: Omit<ListPageInput, 'token'>): Promise<unknown[]> {
  const pages: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await lister.list({ ...input, token });
    const { nextToken, ...rest } = page;
    pages.push(rest);
    token = page.truncated ? nextToken : undefined;
  } while (token !== undefined);
  return pages;
}

describe('leanListerFromEnv', () => {
  it('lists the same pages as the SDK client: flat, with a delimiter, after a key, two keys a page', async () => {
    expect(lean).toBeDefined();
    const inputs: Omit<ListPageInput, 'token'>[] = [
      { bucket: 'filer-lean', prefix: '' },
      { bucket: 'filer-lean', prefix: '', maxKeys: 2 },
      { bucket: 'filer-lean', prefix: '', delimiter: '/' },
      { bucket: 'filer-lean', prefix: 'deep/', delimiter: '/', maxKeys: 1 },
      { bucket: 'filer-lean', prefix: '', startAfter: 'deep/a/b/c/d.txt', maxKeys: 3 },
    ];
    for (const input of inputs) {
      const mine = await allPages(lean, input);
      expect(mine, JSON.stringify(input)).toEqual(await allPages(sdkLister(client), input));
    }
    const keys = (await allPages(lean, { bucket: 'filer-lean', prefix: '' })).flatMap((p) => (p as { keys: string[] }).keys);
    expect([...keys].sort()).toEqual([...KEYS].sort());
  });

  it("signs as the SDK's SignatureV4 does, session token and awkward query values included", async () => {
    const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
      typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
    class Sha256 {
      private readonly h;
      constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
        this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
      }
      update(data: string | ArrayBuffer | ArrayBufferView): void {
        this.h.update(bytes(data));
      }
      digest(): Promise<Uint8Array> {
        return Promise.resolve(new Uint8Array(this.h.digest()));
      }
    }
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET', sessionToken: 'TOKEN' };
    const signer = new SignatureV4({
      credentials,
      region: 'eu-west-3',
      service: 's3',
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const date = new Date('2026-12-07T21:00:00Z');
    const host = 'bucket.s3.eu-west-3.amazonaws.com';
    const query: Record<string, string> = {
      'list-type': '2',
      prefix: 'a b/ü&x',
      'continuation-token': '1a+b/c=',
      'max-keys': '1000',
      delimiter: '/',
      'start-after': "q'(x)*!~",
    };
    const headers = { host, 'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' };
    const sdk = await signer.sign(
      { method: 'GET', protocol: 'https:', hostname: host, path: '/b/', query, headers },
      { signingDate: date },
    );
    const enc = (v: string): string => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    const qs = Object.entries(query)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => `${enc(k)}=${enc(v)}`)
      .join('&');
    const mine = signGet({ host, path: '/b/', qs, region: 'eu-west-3', credentials, date });
    expect(mine.authorization).toBe(sdk.headers.authorization);
    expect(mine['x-amz-security-token']).toBe('TOKEN');
  });

  it('fails as the SDK does: a missing bucket is ENOENT (NoSuchBucket), an unknown access key EACCES', async () => {
    const input = { bucket: 'no-such-bucket-lean', prefix: '' };
    const errs = await Promise.all(
      [lean.list(input), sdkLister(client).list(input)].map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(errs.map((e) => s3Error(e, 'x').code)).toEqual(['ENOENT', 'ENOENT']);
    expect((errs[0] as Error).name).toBe('NoSuchBucket');
    const wrong = leanListerFromEnv(s3ConfigFromEnv(), { ...process.env, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' })!;
    const denied = await wrong.list({ bucket: 'filer-lean', prefix: '' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    wrong.close?.();
    expect(s3Error(denied, 'x').code).toBe('EACCES');
  });

  it('retries 503 SlowDown and dropped connections (FILER_S3_MAX_ATTEMPTS)', async () => {
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0.5, seed: 7 });
    try {
      const env = { ...process.env, FILER_S3_ENDPOINT: proxy.endpoint, FILER_S3_MAX_ATTEMPTS: '12' };
      const flaky = leanListerFromEnv(s3ConfigFromEnv(env), env)!;
      const pages = await allPages(flaky, { bucket: 'filer-lean', prefix: '', maxKeys: 2 });
      flaky.close?.();
      expect(pages).toEqual(await allPages(lean, { bucket: 'filer-lean', prefix: '', maxKeys: 2 }));
      expect(proxy.log.filter((r) => r.outcome !== 'forwarded').length).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  }, 60_000);

  it('is not used where the SDK chain or endpoint rules would decide otherwise', () => {
    const config = s3ConfigFromEnv();
    const keys = { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' };
    expect(leanListerFromEnv(config, {})).toBeUndefined();
    expect(leanListerFromEnv(config, { ...keys, AWS_PROFILE: 'p' })).toBeUndefined();
    const aws = { ...config, endpoint: undefined };
    expect(leanListerFromEnv(aws, { ...keys, AWS_ENDPOINT_URL_S3: 'http://x' })).toBeUndefined();
    expect(leanListerFromEnv({ ...aws, region: 'cn-north-1' }, keys)).toBeUndefined();
    expect(leanListerFromEnv({ ...aws, region: 'eu-west-3' }, keys)).toBeDefined();
  });
});

describe('parseListPage', () => {
  const page = (body: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</ListBucketResult>`;

  it('reads keys, sizes, dates, bare ETags, prefixes and the token, decoding entities', () => {
    const xml = page(
      '<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>' +
        '<Contents><Key>p/a&amp;b&lt;&#x1;&#233;</Key><LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size></Contents>' +
        '<Contents><Key>p/x</Key><Size>0</Size><ETag>"d-2"</ETag><LastModified>2024-01-02T03:04:05.678Z</LastModified></Contents>' +
        '<CommonPrefixes><Prefix>p/dir/</Prefix></CommonPrefixes><NextContinuationToken>tok&amp;en</NextContinuationToken>',
    );
    expect(parseListPage(xml)).toEqual({
      keys: ['p/a&b<\u0001é', 'p/x'],
      sizes: [12, 0],
      mtimesMs: [Date.UTC(2024, 0, 2, 3, 4, 5, 678), Date.UTC(2024, 0, 2, 3, 4, 5, 678)],
      etags: ['abc', 'd-2'],
      prefixes: ['p/dir/'],
      truncated: true,
      nextToken: 'tok&en',
    });
  });

  it('leaves what it does not plainly understand to the SDK (undefined)', () => {
    for (const body of [
      '<Contents><Key><![CDATA[k]]></Key></Contents>',
      '<Contents><Key>k&bogus;</Key></Contents>',
      '<Contents><Key>k</Key><Size>big</Size></Contents>',
      '<Contents><Key>k</Key><LastModified>yesterday</LastModified></Contents>',
      '<Contents><Size>1</Size></Contents>',
      '<EncodingType>url</EncodingType><Contents><Key>k%20</Key></Contents>',
    ])
      expect(parseListPage(page(body)), body).toBeUndefined();
    expect(parseListPage('<Error><Code>x</Code></Error>')).toBeUndefined();
  });
});
