import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PathError } from '@filer/core';
import {
  sampleIsWhole,
  sampleRanges,
  type DupeFile,
  type FileHasher,
  type HashAlgorithm,
  type HashOutcome,
  type HashScope,
} from '@filer/engine';
import { createStreamingHash, EMPTY_DIGESTS, type StreamingHash } from '../local/streaming-hash.js';
import { isNotFound, s3Error, S3OpError } from './s3-errors.js';
import { parseS3Uri } from './s3-uri.js';

/** Objects hashed at once (each one GET stream in flight). */
const DEFAULT_CONCURRENCY = 16;
/** Attempts per object: a body cut off mid-stream is not retried by the SDK, so the whole hash is. */
const ATTEMPTS = 4;

/** The object is no longer the one the listing saw. */
function changed(f: DupeFile, why: string): S3OpError {
  return new S3OpError('E_CHANGED', `${f.path} changed since it was listed: ${why}`);
}

/**
 * The engine's `FileHasher` over S3 objects (`s3://bucket/key` paths): a sample is the same bytes
 * as for a local file — the head and tail blocks of `sample-layout.ts` (the whole object when it
 * is that small), fetched with ranged GETs — and a full hash streams the whole object. Bodies are
 * streamed into the digest chunk by chunk, never held; `concurrency` objects at a time, each with
 * its own digest. Every response is checked against the listing: the object's total size (from
 * Content-Range) and its LastModified (to the second, the header's precision); a difference is
 * E_CHANGED, so an object rewritten meanwhile is reported, never grouped.
 *
 * ETags are not used as content hashes: a multipart upload's ETag is the MD5 of its parts' MD5s
 * (it depends on the part size the uploader chose), and SSE-KMS/SSE-C objects' ETags are not
 * digests of the content at all, so equal content can have different ETags.
 */
export class S3FileHasher implements FileHasher {
  bytesRead = 0;
  /** Objects hashed so far, for progress. */
  filesHashed = 0;

  constructor(
    private readonly client: S3Client,
    readonly algorithm: HashAlgorithm,
    private readonly concurrency = DEFAULT_CONCURRENCY,
  ) {}

  /** The digest of zero bytes, reported for groups of empty objects. */
  emptyHash(): string {
    return EMPTY_DIGESTS[this.algorithm];
  }

  /** Nothing to start or stop: requests go through the client, which its owner closes. */
  start(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }

  async hash(files: readonly DupeFile[], scope: HashScope): Promise<HashOutcome[]> {
    const out = new Array<HashOutcome>(files.length);
    let next = 0;
    const lanes = Math.min(this.concurrency, files.length);
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        const digest = await createStreamingHash(this.algorithm);
        while (next < files.length) {
          const i = next++;
          out[i] = await this.hashOne(digest, files[i], scope);
          this.filesHashed++;
        }
      }),
    );
    return out;
  }

  private async hashOne(digest: StreamingHash, f: DupeFile, scope: HashScope): Promise<HashOutcome> {
    const ranges: [number, number][] = scope === 'sample' ? sampleRanges(f.size) : [[0, f.size]];
    for (let attempt = 1; ; attempt++) {
      try {
        digest.init();
        let bytes = 0;
        for (const [start, length] of ranges) bytes += await this.readRange(digest, f, start, length);
        this.bytesRead += bytes;
        return { hash: digest.digest(), whole: scope === 'full' || sampleIsWhole(f.size) };
      } catch (e) {
        const final = e instanceof S3OpError || isNotFound(e) || attempt >= ATTEMPTS;
        if (final) return { error: toPathError(e, f.path) };
      }
    }
  }

  /** Feeds bytes [start, start + length) of the object into `digest`; returns how many were read. */
  private async readRange(digest: StreamingHash, f: DupeFile, start: number, length: number): Promise<number> {
    if (length === 0) return 0;
    const { bucket, key } = parseS3Uri(f.path, 'roots');
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${start + length - 1}` }));
    const body = out.Body as Readable;
    const total = out.ContentRange === undefined ? out.ContentLength : Number(/\/(\d+)$/.exec(out.ContentRange)?.[1]);
    const modifiedSec = out.LastModified === undefined ? f.mtimeSec : Math.floor(out.LastModified.getTime() / 1000);
    if (total !== f.size || modifiedSec !== f.mtimeSec) {
      body.destroy();
      throw changed(f, total !== f.size ? `${total} bytes, not ${f.size}` : `LastModified ${out.LastModified?.toISOString()}`);
    }
    let n = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      digest.update(chunk);
      n += chunk.length;
    }
    if (n !== length) throw changed(f, `read ${n} bytes at ${start}, expected ${length}`);
    return n;
  }
}

function toPathError(e: unknown, path: string): PathError {
  const err = e instanceof S3OpError ? e : s3Error(e, `cannot read ${path}`);
  return { path, code: err.code, message: err.message };
}
