import * as fs from 'node:fs';
import { createHash } from 'node:crypto';

/** Strips the quotes S3 puts around an ETag. */
export function bareEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

/**
 * The ETags a multipart upload of `file` in parts of `partSize` may get: AWS, MinIO and Ceph give
 * the MD5 of the parts' binary MD5s followed by `-` and the part count; some stores (s3rver) the
 * MD5 of the whole content. Either proves the bytes arrived. (A single PUT's ETag is the MD5 of
 * its body, unless the bucket encrypts with SSE-KMS/SSE-C: then no ETag is a checksum.)
 * An ETag is a content hash only for single-part objects, so dupes never trusts it.
 */
export function multipartEtags(file: string, size: number, partSize: number): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(partSize, 8 << 20));
    const whole = createHash('md5');
    const parts: Buffer[] = [];
    let part = createHash('md5');
    let inPart = 0;
    for (let pos = 0; pos < size;) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, partSize - inPart, size - pos), pos);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      whole.update(chunk);
      part.update(chunk);
      inPart += n;
      pos += n;
      if (inPart === partSize) {
        parts.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
    if (inPart > 0) parts.push(part.digest());
    return [`${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}`, whole.digest('hex')];
  } finally {
    fs.closeSync(fd);
  }
}
