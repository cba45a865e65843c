import type { ListedPage } from './list-xml.js';

/** What a listing asks for: one ListObjectsV2 page. */
export interface ListPageInput {
  bucket: string;
  prefix: string;
  delimiter?: string;
  token?: string;
  startAfter?: string;
  maxKeys?: number;
}

/**
 * Lists S3 pages: the walks' only need of S3. Two implementations: the AWS SDK client's
 * (sdkLister, s3-list-page.ts) and a lean signed GET (leanLister, lean-lister.ts) that a CLI
 * listing uses when it can, so it need not load the SDK at all. Errors look like the SDK's
 * (`name` = the S3 error code, `$metadata.httpStatusCode`), so s3Error/s3ErrorCode map both.
 */
export interface S3Lister {
  list(input: ListPageInput): Promise<ListedPage>;
  /** Closes its own sockets, if it has any. */
  close?(): void;
}

/** Keys per ListObjectsV2 page (S3's maximum). */
export const PAGE_KEYS = 1000;
