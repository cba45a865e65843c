import type { S3Client } from '@aws-sdk/client-s3';
import { s3Error } from './s3-errors.js';
import { listPage } from './s3-list-page.js';
import { parseS3Uri } from './s3-uri.js';

/**
 * Lists every key below an S3 destination with flat ListObjectsV2 pages, handing each page's keys
 * (as `s3://` URIs) to `onPage` as it comes: the caller decides whether they are held (a Set) or
 * stored (a plan store). Returns the prefix listed, as a URI ending in '/'.
 */
export async function listS3Prefix(client: S3Client, dest: string, onPage: (keys: string[]) => void): Promise<string> {
  const { bucket, key } = parseS3Uri(dest, 'dest');
  const prefix = key === '' || key.endsWith('/') ? key : key + '/';
  let token: string | undefined;
  do {
    let out;
    try {
      out = await listPage(client, { bucket, prefix, token });
    } catch (e) {
      throw s3Error(e, `cannot list ${dest}`);
    }
    const keys = out.keys.map((k) => `s3://${bucket}/${k}`);
    if (keys.length > 0) onPage(keys);
    token = out.truncated ? out.nextToken : undefined;
  } while (token !== undefined);
  return `s3://${bucket}/${prefix}`;
}
