import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { KindCode, type ListingPage, type PagedSource } from '@filer/core';
import { s3Error } from './s3-errors.js';
import { bareEtag } from './s3-etag.js';
import { listingPrefix, s3ChildPath } from './s3-uri.js';

/** Keys per ListObjectsV2 page (S3's maximum). */
const PAGE_KEYS = 1000;

/**
 * S3 prefixes as a paged tree: each directory path (`s3://bucket/a/b`) lists the prefix `a/b/`
 * with Delimiter '/', one ListObjectsV2 page at a time, streamed. Objects become files (size,
 * LastModified); CommonPrefixes become directories. An object whose key ends at the prefix itself
 * (`a/b/`, a "folder marker" some consoles create) is not an entry.
 */
export class S3Source implements PagedSource {
  constructor(private readonly client: S3Client) {}

  async *listPages(dirPath: string): AsyncGenerator<ListingPage> {
    const { bucket, key: prefix } = listingPrefix(dirPath);
    let token: string | undefined;
    // Some stores repeat a common prefix on the next page: keep the last one seen (they are sorted).
    let lastDir = '';
    do {
      let out;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token, MaxKeys: PAGE_KEYS }),
        );
      } catch (e) {
        throw s3Error(e, `cannot list s3://${bucket}/${prefix}`);
      }
      const objects = out.Contents ?? [];
      const dirs = out.CommonPrefixes ?? [];
      const names: string[] = [];
      const kinds: number[] = [];
      const sizes: number[] = [];
      const mtimes: number[] = [];
      const etags: (string | undefined)[] = [];
      for (const o of objects) {
        const name = o.Key!.slice(prefix.length);
        if (name === '') continue;
        names.push(name);
        kinds.push(KindCode.File);
        sizes.push(o.Size ?? 0);
        mtimes.push(o.LastModified?.getTime() ?? 0);
        etags.push(bareEtag(o.ETag));
      }
      for (const d of dirs) {
        const p = d.Prefix!;
        if (p <= lastDir) continue;
        lastDir = p;
        names.push(p.slice(prefix.length, -1));
        kinds.push(KindCode.Dir);
        sizes.push(0);
        mtimes.push(0);
        etags.push(undefined);
      }
      if (names.length > 0) yield { names, kinds, sizes, mtimesMs: mtimes, etags };
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  join(dirPath: string, name: string): string {
    return s3ChildPath(dirPath, name);
  }
}
