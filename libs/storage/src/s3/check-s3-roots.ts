import type { S3Client } from '@aws-sdk/client-s3';
import { FilerError } from '@filer/core';
import { isNotFound, s3ErrorCode } from './s3-errors.js';
import type { ListedPage } from './list-xml.js';
import type { S3Lister } from './s3-lister.js';
import { parseS3Uri } from './s3-uri.js';

/**
 * Checks S3 roots before a walk: the bucket exists and the prefix lists at least one key. An
 * empty prefix does not exist in S3, so it is reported as a missing root; a key that is an
 * object rather than a prefix is "not a directory". One request per root when it lists: the
 * bucket is asked about (HeadBucket) only when the listing fails, to say why — a HeadBucket
 * costs a request (on s3rver, a 1,000-key listing of the whole bucket) that a root which lists
 * does not need. With `pageKeys` above 1 the check's listing is a walk's first flat page: they
 * are returned by firstPageKey(bucket, prefix), for the walk to start from instead of asking again.
 */
export async function checkS3Roots(
  lister: S3Lister,
  roots: readonly string[],
  sdk: () => Promise<S3Client>,
  pageKeys = 1,
): Promise<Map<string, ListedPage>> {
  const pages = new Map<string, ListedPage>();
  for (const root of roots) {
    const { bucket, key } = parseS3Uri(root, 'roots');
    const details = { path: root, field: 'roots', value: root };
    const base = key.replace(/\/+$/, '');
    const prefix = base === '' ? '' : base + '/';
    let out;
    try {
      out = await lister.list({ bucket, prefix, maxKeys: pageKeys });
    } catch (e) {
      await checkBucket(await sdk(), root, bucket, details);
      throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}' cannot be listed (${s3ErrorCode(e)})`, { ...details, cause: e });
    }
    if (out.keys.length > 0 || out.prefixes.length > 0) {
      if (pageKeys > 1) pages.set(firstPageKey(bucket, prefix), out);
      continue;
    }
    if (base !== '') {
      const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
      const isObject = await (await sdk()).send(new HeadObjectCommand({ Bucket: bucket, Key: base })).then(
        () => true,
        (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)),
      );
      if (isObject) throw new FilerError('E_ROOT_NOT_DIRECTORY', `root '${root}' is an object, not a prefix`, details);
    }
    if (prefix !== '') throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}' does not exist: no object under it`, details);
  }
  return pages;
}

/** How checkS3Roots files the first page of a flat listing of `prefix`. */
export function firstPageKey(bucket: string, prefix: string): string {
  return `${bucket}/${prefix}`;
}

/** Throws E_ROOT_NOT_FOUND saying why when the bucket of `root` is missing or cannot be reached; returns when it answers. */
async function checkBucket(
  client: S3Client,
  root: string,
  bucket: string,
  details: { path: string; field: string; value: string },
): Promise<void> {
  const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const code = s3ErrorCode(e);
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not accessible (access denied)' : `cannot be reached (${code})`;
    throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}': bucket '${bucket}' ${why}`, { ...details, cause: e });
  }
}
