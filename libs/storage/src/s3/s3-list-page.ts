import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { parseListPage, type ListedPage } from './list-xml.js';

import { PAGE_KEYS, type ListPageInput, type S3Lister } from './s3-lister.js';

export type { ListedPage } from './list-xml.js';

/** What the SDK's parser is left with once a page was read here: an empty, valid ListBucketResult. */
const EMPTY_PAGE = new TextEncoder().encode('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>');

interface RawResponse {
  statusCode?: number;
  body?: unknown;
}

async function readBody(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * A middleware placed just inside the SDK's deserializer: a successful response's body is read
 * here with parseListPage and the SDK is handed an empty page instead (its XML document tree and
 * schema walk cost most of a listing's CPU). Everything else stays the SDK's: signing, retries,
 * timeouts, and every error response (left untouched, so errors keep their names and status).
 * A body parseListPage does not plainly understand goes to the SDK as it came.
 */
function fastPageMiddleware(onPage: (page: ListedPage) => void) {
  return (next: (args: unknown) => Promise<{ response: unknown }>) =>
    async (args: unknown): Promise<{ response: unknown }> => {
      const result = await next(args);
      const response = result.response as RawResponse;
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300 || response.body === undefined) return result;
      const bytes = await readBody(response.body);
      const page = parseListPage(bytes.toString('utf8'));
      if (page !== undefined) onPage(page);
      response.body = page !== undefined ? EMPTY_PAGE : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return result;
    };
}

/** The SDK's own output as a ListedPage (the fallback when a body was left to its parser). */
function fromSdk(out: ListObjectsV2CommandOutput): ListedPage {
  const page: ListedPage = {
    keys: [],
    sizes: [],
    mtimesMs: [],
    etags: [],
    prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix!),
    truncated: out.IsTruncated === true,
    nextToken: out.NextContinuationToken,
  };
  for (const o of out.Contents ?? []) {
    page.keys.push(o.Key!);
    page.sizes.push(o.Size ?? 0);
    page.mtimesMs.push(o.LastModified?.getTime() ?? 0);
    page.etags.push(o.ETag?.replace(/^"|"$/g, ''));
  }
  return page;
}

/**
 * One ListObjectsV2 page through `client` (its credentials, signing, retries and timeouts), read
 * by the lean parser of list-xml.ts. Errors are the SDK's, as from `client.send`.
 */
export async function listPage(client: S3Client, input: ListPageInput): Promise<ListedPage> {
  const command = new ListObjectsV2Command({
    Bucket: input.bucket,
    Prefix: input.prefix,
    Delimiter: input.delimiter,
    ContinuationToken: input.token,
    StartAfter: input.startAfter,
    MaxKeys: input.maxKeys ?? PAGE_KEYS,
  });
  let page: ListedPage | undefined;
  const middleware = fastPageMiddleware((p) => (page = p)) as unknown as Parameters<typeof command.middlewareStack.add>[0];
  command.middlewareStack.add(middleware, { step: 'deserialize', priority: 'low', name: 'filerFastListPage' });
  const out = await client.send(command);
  return page ?? fromSdk(out);
}

/** Pages through an SDK client (its credential chain, endpoint rules, retries). */
export function sdkLister(client: S3Client): S3Lister {
  return { list: (input) => listPage(client, input) };
}
