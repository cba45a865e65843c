import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ResultObject, ResultObjects } from '../results/result-objects.js';
import { bareEtag } from './s3-etag.js';
import { isNotFound, s3Error } from './s3-errors.js';
import { S3Objects } from './s3-objects.js';
import { formatS3Uri, type S3Location } from './s3-uri.js';

/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;

/**
 * The results' objects under `s3://bucket/prefix/` (FILER_RESULTS). Uploads go through `S3Objects`
 * (one PUT checked by MD5 up to 16 MiB, multipart above), replacing: a retried shard's part or a
 * journal saved again is meant to replace the last one.
 */
export class S3ResultObjects implements ResultObjects {
  private readonly objects: S3Objects;
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    private readonly root: S3Location,
  ) {
    this.objects = new S3Objects(client);
    this.location = formatS3Uri(root);
  }

  private loc(key: string): S3Location {
    return { bucket: this.root.bucket, key: this.root.key + key };
  }

  async putFile(key: string, file: string): Promise<void> {
    await this.objects.upload(file, this.loc(key), true);
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    const loc = this.loc(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: body }));
    } catch (e) {
      throw s3Error(e, `cannot write ${formatS3Uri(loc)}`);
    }
  }

  async read(key: string): Promise<Readable | undefined> {
    const loc = this.loc(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return out.Body as Readable;
    } catch (e) {
      if (isNotFound(e) && (e as { name?: string }).name !== 'NoSuchBucket') return undefined;
      throw s3Error(e, `cannot read ${formatS3Uri(loc)}`);
    }
  }

  async download(key: string, file: string): Promise<boolean> {
    const body = await this.read(key);
    if (body === undefined) return false;
    try {
      await pipeline(body, fs.createWriteStream(file, { flags: 'wx' }));
    } catch (e) {
      fs.rmSync(file, { force: true });
      throw s3Error(e, `cannot download ${formatS3Uri(this.loc(key))} to ${file}`);
    }
    return true;
  }

  async *list(prefix: string): AsyncGenerator<ResultObject> {
    const loc = this.loc(prefix);
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.key, ContinuationToken: token }));
      } catch (e) {
        throw s3Error(e, `cannot list ${formatS3Uri(loc)}`);
      }
      for (const o of out.Contents ?? []) yield { key: o.Key!.slice(this.root.key.length), etag: bareEtag(o.ETag) ?? '' };
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async children(prefix: string): Promise<string[]> {
    const loc = this.loc(prefix);
    const names: string[] = [];
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.key, Delimiter: '/', ContinuationToken: token }),
        );
      } catch (e) {
        throw s3Error(e, `cannot list ${formatS3Uri(loc)}`);
      }
      for (const p of out.CommonPrefixes ?? []) names.push(p.Prefix!.slice(loc.key.length, -1));
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
    return names;
  }

  async removeAll(prefix: string): Promise<void> {
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const Objects = batch.map((k) => ({ Key: this.root.key + k }));
      batch = [];
      try {
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.root.bucket, Delete: { Objects, Quiet: true } }));
      } catch (e) {
        throw s3Error(e, `cannot remove ${formatS3Uri(this.loc(prefix))}`);
      }
    };
    // Listed to the end before deleting, so deletions never shift the pages being listed.
    const keys: string[] = [];
    for await (const o of this.list(prefix)) keys.push(o.key);
    for (const k of keys) {
      batch.push(k);
      if (batch.length === DELETE_BATCH) await flush();
    }
    await flush();
  }

  async remove(key: string): Promise<void> {
    const loc = this.loc(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (e) {
      if (!isNotFound(e)) throw s3Error(e, `cannot remove ${formatS3Uri(loc)}`);
    }
  }

  async check(): Promise<void> {
    await this.objects.checkBucket(this.root.bucket);
  }
}
