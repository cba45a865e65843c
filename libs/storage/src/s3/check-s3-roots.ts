import { HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { FilerError } from '@filer/core';
import { isNotFound, s3ErrorCode } from './s3-errors.js';
import { parseS3Uri } from './s3-uri.js';

/**
 * Checks S3 roots before a walk: the bucket exists and the prefix lists at least one key. An
 * empty prefix does not exist in S3, so it is reported as a missing root; a key that is an
 * object rather than a prefix is "not a directory".
 */
export async function checkS3Roots(client: S3Client, roots: readonly string[]): Promise<void> {
  for (const root of roots) {
    const { bucket, key } = parseS3Uri(root, 'roots');
    const details = { path: root, field: 'roots', value: root };
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (e) {
      const code = s3ErrorCode(e);
      const why =
        code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not accessible (access denied)' : `cannot be reached (${code})`;
      throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}': bucket '${bucket}' ${why}`, { ...details, cause: e });
    }
    const base = key.replace(/\/+$/, '');
    const prefix = base === '' ? '' : base + '/';
    let out;
    try {
      out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    } catch (e) {
      throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}' cannot be listed (${s3ErrorCode(e)})`, { ...details, cause: e });
    }
    if ((out.KeyCount ?? out.Contents?.length ?? 0) > 0) continue;
    if (base !== '') {
      const isObject = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: base })).then(
        () => true,
        (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)),
      );
      if (isObject) throw new FilerError('E_ROOT_NOT_DIRECTORY', `root '${root}' is an object, not a prefix`, details);
    }
    if (prefix !== '') throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}' does not exist: no object under it`, details);
  }
}
