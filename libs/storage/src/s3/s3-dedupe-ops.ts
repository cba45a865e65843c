import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { sameVersion, type FileIdentity, type FileStat, type ObjectAt, type ObjectDedupeOps } from '@filer/engine';
import { changedError } from '../local/local-identity.js';
import { S3OpError } from './s3-errors.js';
import { objectIdentity } from './s3-file-ops.js';
import type { S3Objects } from './s3-objects.js';
import { parseS3Uri } from './s3-uri.js';

const loc = (uri: string): ReturnType<typeof parseS3Uri> => parseS3Uri(uri, 'path');

/** A single-part object's ETag: the MD5 of its bytes (a multipart one ends in `-<parts>`). */
const isMd5Etag = (etag: string | undefined): etag is string => etag !== undefined && /^[0-9a-f]{32}$/.test(etag);

/**
 * The object operations of a dedupe job on S3 (`remove`, `move-to`): HEAD for identity,
 * CopyObject with copy-source-if-match on the planned ETag, DELETE after a HEAD and with If-Match.
 * Bytes are compared by ETag where both are single-part MD5s (equal MD5s of equal sizes: equal
 * bytes, with no read), else both objects are read and their SHA-256s compared.
 */
export class S3DedupeOps implements ObjectDedupeOps {
  constructor(private readonly objects: S3Objects) {}

  async stat(uri: string): Promise<FileStat | undefined> {
    const info = await this.objects.head(loc(uri));
    return info && objectIdentity(info);
  }

  async sameBytes(a: ObjectAt, b: ObjectAt): Promise<boolean> {
    if (a.id.size !== b.id.size) return false;
    if (isMd5Etag(a.id.etag) && a.id.etag === b.id.etag) return true;
    return (await this.sha256(a.uri)) === (await this.sha256(b.uri));
  }

  async copyIf(from: string, to: string, expect: FileIdentity): Promise<FileStat> {
    const info = await this.objects.copy(loc(from), loc(to), false, { size: expect.size, etag: expect.etag });
    const copied = objectIdentity(info);
    // A single-part source's copy keeps its ETag (S3Objects.copy checked it against the source's
    // HEAD, which matched `expect`); any other copy is read back and compared.
    if (!isMd5Etag(expect.etag) && !(await this.sameBytes({ uri: from, id: expect }, { uri: to, id: copied }))) {
      await this.objects.delete(loc(to));
      throw new S3OpError('E_VERIFY', `the copy of ${from} at ${to} does not hold its bytes; removed`);
    }
    return copied;
  }

  /** Deletes only the version expected: a HEAD right before, and If-Match on the DELETE (honoured by AWS). */
  async unlinkIf(uri: string, expected: FileIdentity): Promise<void> {
    const found = await this.stat(uri);
    if (found === undefined || !sameVersion(found, expected)) throw changedError(uri, expected, found, 'changed since it was planned');
    if (found.etag === undefined) await this.objects.delete(loc(uri));
    else await this.objects.deleteIfMatch(loc(uri), found.etag);
  }

  /** Keys have no directories to remove. */
  removeEmptyDir(): boolean {
    return true;
  }

  private async sha256(uri: string): Promise<string> {
    const h = createHash('sha256');
    for await (const chunk of (await this.objects.read(loc(uri))) as Readable) h.update(chunk as Buffer);
    return h.digest('hex');
  }
}
