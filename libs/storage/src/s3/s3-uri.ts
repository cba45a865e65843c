import { invalidArgument } from '@filer/core';

/** A bucket and a key (or key prefix) inside it. */
export interface S3Location {
  bucket: string;
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True for `s3://…` paths. Cheap, so callers can decide before loading the AWS SDK. */
export function isS3Uri(p: string): boolean {
  return p.startsWith('s3://');
}

/**
 * Parses `s3://bucket/prefix/` (or `s3://bucket/key`). The key is kept exactly as written after
 * the bucket's slash — trailing slash included — since S3 keys are plain strings. Errors name the
 * input field (`roots`, `dest`, `out`…) and the value.
 */
export function parseS3Uri(uri: string, field = 'uri'): S3Location {
  if (!isS3Uri(uri)) throw invalidArgument(field, uri, `'${uri}' is not an S3 URI: expected s3://bucket/prefix/`);
  const rest = uri.slice(5);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw invalidArgument(field, uri, `'${uri}' names no bucket: expected s3://bucket/prefix/`);
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw invalidArgument(
      field,
      uri,
      `invalid bucket name '${bucket}' in '${uri}': 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit`,
    );
  return { bucket, key };
}

export function formatS3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/**
 * The key prefix a walk lists for a directory path in its own syntax (`s3://b/p` → `p/`,
 * `s3://b` → ''): the walk strips a root's trailing slashes and joins children with '/'
 * (s3ChildPath), so a path that ends in '/' is a directory with an empty name — the `a/` of
 * a key `a//x` — whose prefix is `a//`.
 */
export function listingPrefix(dirPath: string): S3Location {
  const { bucket, key } = parseS3Uri(dirPath, 'roots');
  return { bucket, key: dirPath.indexOf('/', 5) < 0 ? '' : key + '/' };
}

/**
 * A child of an S3 directory path: always joined with '/', so empty key segments survive
 * (`s3://b` + '' + 'x' is `s3://b//x`, the key `/x`) instead of folding into another key.
 */
export function s3ChildPath(dirPath: string, name: string): string {
  return dirPath + '/' + name;
}
