import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FileEntry } from '@filer/core';
import type { DupeFile } from '@filer/engine';
import { hashesOf, type NamingIo } from '../batch/name-files.js';
import type { CaptureDate } from '../media/capture-date.js';
import { S3FileHasher } from './s3-file-hasher.js';
import { parseS3Uri } from './s3-uri.js';

/** The head read for a capture date: a JPEG's APP1 (EXIF) segment is at most 64 KiB, a CR3's moov 10–60 KiB. */
const HEAD_BYTES = 128 << 10;
/** Objects whose heads are read at once. */
const CONCURRENCY = 16;

/** An object's first `bytes` bytes (fewer when it is shorter), one ranged GET. */
async function readHead(client: S3Client, uri: string, bytes: number): Promise<Buffer> {
  const { bucket, key } = parseS3Uri(uri, 'path');
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/**
 * What a rename on S3 reads to name its objects: a `{date}` is the EXIF capture date found in the
 * object's first 128 KiB (one ranged GET each; the same parser as local files, given those bytes),
 * else the object's LastModified — said so in the plan as `dateSource: LastModified`. A `{hash:N}`
 * hashes the whole object's content over GETs (never its ETag).
 */
export function s3Naming(client: S3Client): NamingIo {
  return {
    async captureDates(entries: readonly FileEntry[]): Promise<(CaptureDate | undefined)[]> {
      const { captureDateOfHead } = await import('../media/capture-date.js');
      const out = new Array<CaptureDate | undefined>(entries.length);
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < entries.length) {
          const i = next++;
          const e = entries[i];
          // An empty object has no head to read (a 0-byte range is unsatisfiable); an unreadable one falls back too.
          if ((e.size ?? 0) === 0) continue;
          out[i] = await readHead(client, e.path, HEAD_BYTES).then(
            (head) => captureDateOfHead(head, e.path),
            () => undefined,
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, lane));
      return out;
    },
    async hashes(entries: readonly FileEntry[]): Promise<string[]> {
      return hashesOf(await new S3FileHasher(client, 'sha256').hash(entries as readonly DupeFile[], 'full'));
    },
    fallbackSource: 'LastModified',
  };
}
