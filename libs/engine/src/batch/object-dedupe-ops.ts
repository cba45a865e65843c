import type { FileOps } from './batch-types.js';
import type { FileIdentity, FileStat } from './file-identity.js';

/** An object and the identity its HEAD gave (size, LastModified, ETag). */
export interface ObjectAt {
  uri: string;
  id: FileIdentity;
}

/**
 * What a dedupe job on an object store (S3) needs: objects have no links, so `remove` and
 * `move-to` are a server-side copy to the target key and a delete of the copy's key, each only
 * while the object is the version planned. `stat` is a HEAD, `unlinkIf` a conditional delete
 * (purge uses both), `removeEmptyDir` is a no-op (keys have no directories).
 */
export interface ObjectDedupeOps extends Pick<FileOps, 'stat' | 'unlinkIf' | 'removeEmptyDir' | 'release'> {
  stat(uri: string): Promise<FileStat | undefined>;
  /** Whether two objects hold the same bytes: equal single-part (MD5) ETags say so at once; otherwise both are read and compared. */
  sameBytes(a: ObjectAt, b: ObjectAt): Promise<boolean>;
  /**
   * Copies `from` server-side to the new key `to` (never replacing an object there), only while
   * `from` is still `expect` (E_CHANGED otherwise), and verifies the copy; returns its identity.
   */
  copyIf(from: string, to: string, expect: FileIdentity): Promise<FileStat>;
}
