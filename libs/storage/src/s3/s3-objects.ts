import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bareEtag, multipartEtags } from './s3-etag.js';
import { httpStatusOf, isNotFound, s3Error, S3OpError } from './s3-errors.js';
import { formatS3Uri, type S3Location } from './s3-uri.js';

export interface S3ObjectInfo {
  size: number;
  mtimeMs: number;
  etag?: string;
}

export interface S3TransferLimits {
  /** Files above this go up as multipart uploads (default 16 MiB). */
  multipartThreshold: number;
  /** Part size of multipart uploads (default 16 MiB): memory per upload is partSize × queueSize. */
  partSize: number;
  /** Parts in flight per multipart upload (default 4). */
  queueSize: number;
  /** Objects above this are copied server-side part by part with UploadPartCopy (S3's CopyObject limit, 5 GiB). */
  copyObjectMax: number;
  /** Part size of UploadPartCopy (default 512 MiB). */
  copyPartSize: number;
}

export const DEFAULT_TRANSFER_LIMITS: S3TransferLimits = {
  multipartThreshold: 16 << 20,
  partSize: 16 << 20,
  queueSize: 4,
  copyObjectMax: 5 * 1024 ** 3,
  copyPartSize: 512 << 20,
};

/** Attempts for a whole download (a stream cut mid-body is not retried by the SDK). */
const DOWNLOAD_ATTEMPTS = 4;

const where = (loc: S3Location): string => formatS3Uri(loc);

/** What identifies the version of an object a job planned: its size and ETag. */
export interface ObjectVersion {
  size: number;
  etag?: string;
}

/** E_CHANGED unless the object found is the version expected. */
function checkVersion(loc: S3Location, expect: ObjectVersion, found: ObjectVersion): void {
  if (found.size === expect.size && (expect.etag === undefined || found.etag === expect.etag)) return;
  throw new S3OpError(
    'E_CHANGED',
    `${where(loc)} changed since it was planned: expected ${expect.size} bytes, ETag ${expect.etag}; found ${found.size} bytes, ETag ${found.etag}`,
  );
}

/**
 * Object operations the batch engine needs, each verified: uploads are compared with the ETag
 * they should have (MD5, or the multipart MD5-of-MD5s), server-side copies with the source's
 * size (and ETag when the source's is a plain MD5), downloads with the object's size.
 * No-overwrite puts use `If-None-Match: *` where the bucket honours it (probed once per bucket),
 * else a HEAD check right before the put.
 */
export class S3Objects {
  private readonly conditional = new Map<string, Promise<boolean>>();

  constructor(
    readonly client: S3Client,
    readonly limits: S3TransferLimits = DEFAULT_TRANSFER_LIMITS,
  ) {}

  async head(loc: S3Location): Promise<S3ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return { size: out.ContentLength ?? 0, mtimeMs: out.LastModified?.getTime() ?? 0, etag: bareEtag(out.ETag) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw s3Error(e, `cannot stat ${where(loc)}`);
    }
  }

  /** Fails (ENOENT, EACCES, …) unless the bucket exists and can be reached. */
  async checkBucket(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (e) {
      throw s3Error(e, `bucket s3://${bucket}/`);
    }
  }

  async delete(loc: S3Location): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (e) {
      throw s3Error(e, `cannot delete ${where(loc)}`);
    }
  }

  /**
   * Deletes `loc` only while its ETag is `etag`: `If-Match` on the DELETE where the server honours
   * it (AWS; s3rver ignores it, so callers HEAD right before). 412 is E_CHANGED; a server that
   * rejects the header as not implemented gets a plain DELETE.
   */
  async deleteIfMatch(loc: S3Location, etag: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key, IfMatch: `"${etag}"` }));
    } catch (e) {
      if (httpStatusOf(e) === 412)
        throw new S3OpError('E_CHANGED', `${where(loc)} changed (ETag no longer ${etag}); not deleted`, { cause: e });
      if (httpStatusOf(e) === 501 || (e as { name?: string }).name === 'NotImplemented') return this.delete(loc);
      throw s3Error(e, `cannot delete ${where(loc)}`);
    }
  }

  /** Whether the bucket refuses a second `If-None-Match: *` put (AWS since 2024, MinIO); s3rver ignores it. */
  supportsConditionalWrites(bucket: string): Promise<boolean> {
    let known = this.conditional.get(bucket);
    if (known === undefined) {
      known = this.probeConditional(bucket);
      this.conditional.set(bucket, known);
    }
    return known;
  }

  private async probeConditional(bucket: string): Promise<boolean> {
    const key = `.filer-probe-${randomBytes(8).toString('hex')}`;
    const put = (): Promise<unknown> =>
      this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0, IfNoneMatch: '*' }));
    try {
      await put();
      try {
        await put();
        return false;
      } catch (e) {
        if (httpStatusOf(e) === 412) return true;
        throw e;
      }
    } catch (e) {
      throw s3Error(e, `cannot write to s3://${bucket}/`);
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    }
  }

  /**
   * Refuses (EEXIST) when something is at `loc` and overwriting was not asked for. The request
   * carries `If-None-Match: *` then; a HEAD right before it stands in where the condition does not
   * hold: on a bucket that ignores it (unless `headGuard` is false: the caller checked the key, e.g.
   * by listing the destination) and for a request that cannot carry it (`conditional: false`).
   */
  private async guard(
    loc: S3Location,
    overwrite: boolean,
    opts: { headGuard?: boolean; conditional?: boolean } = {},
  ): Promise<{ ifNoneMatch?: string }> {
    if (overwrite) return {};
    const honoured = await this.supportsConditionalWrites(loc.bucket);
    const head = honoured ? opts.conditional === false : opts.headGuard !== false;
    if (head && (await this.head(loc)) !== undefined) throw new S3OpError('EEXIST', `${where(loc)} exists (not overwritten)`);
    return { ifNoneMatch: '*' };
  }

  /**
   * Uploads a local file to `loc`, never replacing an object unless `overwrite`. Small files go in
   * one PUT from a buffer (so the SDK can retry it); larger ones as a multipart upload whose
   * parts are buffered `queueSize` at a time. The stored ETag must be the one the bytes give, and
   * a HEAD afterwards the size (it also gives LastModified, which the journal keeps). `headGuard:
   * false` drops the HEAD before the put on buckets that ignore `If-None-Match` (see guard).
   */
  async upload(file: string, loc: S3Location, overwrite: boolean, opts: { headGuard?: boolean } = {}): Promise<S3ObjectInfo> {
    const st = await fsp.stat(file);
    const multipart = st.size > this.limits.multipartThreshold;
    // lib-storage does not pass If-None-Match to CompleteMultipartUpload: a multipart upload is guarded by a HEAD.
    const { ifNoneMatch } = await this.guard(loc, overwrite, { headGuard: opts.headGuard, conditional: !multipart });
    try {
      if (!multipart) {
        const body = await fsp.readFile(file);
        if (body.length !== st.size) throw new S3OpError('E_CHANGED', `${file} changed while it was read`);
        await this.putChecked(loc, body, ifNoneMatch, file);
      } else {
        const upload = new Upload({
          client: this.client,
          params: { Bucket: loc.bucket, Key: loc.key, Body: fs.createReadStream(file, { highWaterMark: 1 << 20 }) },
          partSize: this.limits.partSize,
          queueSize: this.limits.queueSize,
          leavePartsOnError: false,
        });
        const out = await upload.done();
        const etag = bareEtag(out.ETag);
        const want = multipartEtags(file, st.size, this.limits.partSize);
        if (!want.includes(etag!)) await this.rejectUpload(loc, `ETag ${etag} is neither of ${want.join(', ')}, the ones ${file} gives`);
      }
    } catch (e) {
      if (e instanceof S3OpError) throw e;
      const err = s3Error(e, `cannot upload ${file} to ${where(loc)}`);
      if (err.code === 'EEXIST') throw new S3OpError('EEXIST', `${where(loc)} exists (not overwritten)`, { cause: e });
      throw err;
    }
    const info = await this.head(loc);
    if (info === undefined || info.size !== st.size) await this.rejectUpload(loc, `stored size ${info?.size} is not ${st.size}`);
    return info!;
  }

  /** One PUT with Content-MD5 (and `If-None-Match` when given); the ETag must be the body's MD5. */
  private async putChecked(loc: S3Location, body: Buffer, ifNoneMatch: string | undefined, what: string): Promise<void> {
    const md5 = createHash('md5').update(body);
    const out = await this.client.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: loc.key,
        Body: body,
        ContentLength: body.length,
        ContentMD5: md5.copy().digest('base64'),
        IfNoneMatch: ifNoneMatch,
      }),
    );
    const etag = bareEtag(out.ETag);
    if (etag !== md5.digest('hex')) await this.rejectUpload(loc, `ETag ${etag} is not the MD5 of ${what}`);
  }

  /**
   * Writes `body` as a new object at `loc` (a manifest, a report), never replacing one: the same
   * guard as uploads (`If-None-Match: *` where the bucket honours it, else a HEAD right before the
   * PUT) — EEXIST when something is there. Verified by ETag (MD5) and stored size.
   */
  async putNew(loc: S3Location, body: Buffer): Promise<S3ObjectInfo> {
    const { ifNoneMatch } = await this.guard(loc, false);
    try {
      await this.putChecked(loc, body, ifNoneMatch, `the ${body.length} bytes sent`);
    } catch (e) {
      if (e instanceof S3OpError) throw e;
      const err = s3Error(e, `cannot write ${where(loc)}`);
      if (err.code === 'EEXIST') throw new S3OpError('EEXIST', `${where(loc)} exists (not overwritten)`, { cause: e });
      throw err;
    }
    const info = await this.head(loc);
    if (info === undefined || info.size !== body.length) await this.rejectUpload(loc, `stored size ${info?.size} is not ${body.length}`);
    return info!;
  }

  /** A put that did not store the bytes sent is removed (it was ours: the key was free) and reported. */
  private async rejectUpload(loc: S3Location, why: string): Promise<never> {
    await this.delete(loc).catch(() => undefined);
    throw new S3OpError('E_VERIFY', `upload to ${where(loc)} failed verification: ${why}`);
  }

  /**
   * Streams an object into a new file (`wx`: never an existing one), mtime set to LastModified,
   * size checked. With `expect`, an object of another size or ETag is E_CHANGED (nothing kept).
   */
  async download(loc: S3Location, file: string, expect?: ObjectVersion): Promise<S3ObjectInfo> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
        if (expect !== undefined) checkVersion(loc, expect, { size: out.ContentLength ?? 0, etag: bareEtag(out.ETag) });
        await pipeline(out.Body as Readable, fs.createWriteStream(file, { flags: 'wx' }));
        const size = (await fsp.stat(file)).size;
        if (size !== out.ContentLength)
          throw new S3OpError('E_VERIFY', `download of ${where(loc)} has ${size} bytes, not ${out.ContentLength}`);
        const mtime = out.LastModified ?? new Date();
        await fsp.utimes(file, mtime, mtime);
        return { size, mtimeMs: mtime.getTime(), etag: bareEtag(out.ETag) };
      } catch (e) {
        await fsp.rm(file, { force: true });
        const code = (e as { code?: string }).code;
        if (isNotFound(e) || code === 'ENOSPC' || code === 'EEXIST' || code === 'E_CHANGED' || attempt >= DOWNLOAD_ATTEMPTS) {
          throw e instanceof S3OpError || code !== undefined ? e : s3Error(e, `cannot download ${where(loc)}`);
        }
      }
    }
  }

  /** Reads an object as a stream. */
  async read(loc: S3Location): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return out.Body as Readable;
    } catch (e) {
      throw s3Error(e, `cannot read ${where(loc)}`);
    }
  }

  /**
   * Copies an object server-side (no bytes through this machine): CopyObject up to 5 GiB, above
   * that a multipart upload of UploadPartCopy ranges. Checked by size, and by ETag when the
   * source's is a plain MD5 (a single-part object's copy keeps it). With `expect`, a source of
   * another size or ETag is E_CHANGED and nothing is copied.
   */
  async copy(from: S3Location, to: S3Location, overwrite: boolean, expect?: ObjectVersion): Promise<S3ObjectInfo> {
    const src = await this.head(from);
    if (src === undefined) throw new S3OpError('ENOENT', `${where(from)} does not exist`);
    if (expect !== undefined) checkVersion(from, expect, src);
    const { ifNoneMatch } = await this.guard(to, overwrite);
    const copySource = encodeURIComponent(`${from.bucket}/${from.key}`).replaceAll('%2F', '/');
    // The server copies only the version checked (where it honours copy-source-if-match; s3rver does not).
    const ifMatch = expect?.etag === undefined ? undefined : `"${expect.etag}"`;
    try {
      if (src.size <= this.limits.copyObjectMax) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: to.bucket,
            Key: to.key,
            CopySource: copySource,
            CopySourceIfMatch: ifMatch,
            IfNoneMatch: ifNoneMatch,
          }),
        );
      } else {
        await this.copyInParts(copySource, src.size, to, ifMatch);
      }
    } catch (e) {
      // 412 answers either condition: the source no longer matching, or the target taken.
      if (httpStatusOf(e) === 412 && expect !== undefined) {
        const now = await this.head(from);
        if (now === undefined || now.size !== expect.size || now.etag !== expect.etag)
          throw new S3OpError('E_CHANGED', `${where(from)} changed since it was planned; not copied`, { cause: e });
      }
      throw s3Error(e, `cannot copy ${where(from)} to ${where(to)}`);
    }
    const info = await this.head(to);
    if (info === undefined || info.size !== src.size) await this.rejectUpload(to, `copied size ${info?.size} is not ${src.size}`);
    const plain = src.etag !== undefined && /^[0-9a-f]{32}$/.test(src.etag);
    if (plain && info!.etag !== src.etag) await this.rejectUpload(to, `copy's ETag ${info!.etag} is not the source's ${src.etag}`);
    return info!;
  }

  private async copyInParts(copySource: string, size: number, to: S3Location, ifMatch?: string): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key }));
    try {
      const parts: { ETag?: string; PartNumber: number }[] = [];
      const step = this.limits.copyPartSize;
      for (let start = 0, n = 1; start < size; start += step, n++) {
        const end = Math.min(size, start + step) - 1;
        const out = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: to.bucket,
            Key: to.key,
            UploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceIfMatch: ifMatch,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ ETag: out.CopyPartResult?.ETag, PartNumber: n });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId })).catch(() => undefined);
      throw e;
    }
  }
}
