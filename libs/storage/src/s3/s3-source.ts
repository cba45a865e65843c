import { KindCode, type ListingPage, type PagedSource } from '@filer/core';
import { s3Error } from './s3-errors.js';
import type { ListedPage } from './list-xml.js';
import type { S3Lister } from './s3-lister.js';
import { listingPrefix, s3ChildPath } from './s3-uri.js';

/**
 * S3 prefixes as a paged tree: each directory path (`s3://bucket/a/b`) lists the prefix `a/b/`
 * with Delimiter '/', one ListObjectsV2 page at a time, streamed. Objects become files (size,
 * LastModified); CommonPrefixes become directories. An object whose key ends at the prefix itself
 * (`a/b/`, a "folder marker" some consoles create) is not an entry.
 */
export class S3Source implements PagedSource {
  constructor(private readonly lister: S3Lister) {}

  /** The pages of `dirPath`; with `startAfter`, only the keys (and common prefixes of keys) after it. */
  async *listPages(dirPath: string, startAfter?: string): AsyncGenerator<ListingPage> {
    const { bucket, key: prefix } = listingPrefix(dirPath);
    let token: string | undefined;
    // Some stores repeat a common prefix on the next page: keep the last one seen (they are sorted).
    let lastDir = '';
    do {
      let out: ListedPage;
      try {
        out = await this.lister.list({ bucket, prefix, delimiter: '/', token, startAfter: token === undefined ? startAfter : undefined });
      } catch (e) {
        throw s3Error(e, `cannot list s3://${bucket}/${prefix}`);
      }
      const names: string[] = [];
      const kinds: number[] = [];
      const sizes: number[] = [];
      const mtimes: number[] = [];
      const etags: (string | undefined)[] = [];
      for (let i = 0; i < out.keys.length; i++) {
        const name = out.keys[i].slice(prefix.length);
        if (name === '') continue;
        names.push(name);
        kinds.push(KindCode.File);
        sizes.push(out.sizes[i]);
        mtimes.push(out.mtimesMs[i]);
        etags.push(out.etags[i]);
      }
      for (const p of out.prefixes) {
        if (p <= lastDir) continue;
        lastDir = p;
        names.push(p.slice(prefix.length, -1));
        kinds.push(KindCode.Dir);
        sizes.push(0);
        mtimes.push(0);
        etags.push(undefined);
      }
      if (names.length > 0) yield { names, kinds, sizes, mtimesMs: mtimes, etags };
      token = out.truncated ? out.nextToken : undefined;
    } while (token !== undefined);
  }

  join(dirPath: string, name: string): string {
    return s3ChildPath(dirPath, name);
  }
}
