import type { FileEntry } from '@filer/core';

/**
 * What tells one version of a file from another at the same path: the same path with another
 * identity is another file (a stranger, or this file changed). Objects have no inode: an S3
 * identity is dev -1, ino 0, its size, LastModified and ETag.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  /** Modification time in nanoseconds since the epoch, in decimal: beyond 2^53, so not a number. */
  mtimeNs: string;
  /** S3 only: the object's ETag (unquoted). */
  etag?: string;
}

/** An lstat-like answer: the identity, and whether the name is a symbolic link (never followed). */
export interface FileStat extends FileIdentity {
  symlink?: boolean;
}

/** The device number S3 identities carry: no file system uses it. */
export const OBJECT_DEV = -1;

/** Both name one version of one file: device, inode, size, mtime to the nanosecond (and ETag for objects). */
export function sameVersion(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && (a.etag ?? '') === (b.etag ?? '');
}

/** Both are one inode (or one object key's identity): a hard link of it, whatever was written to it since. */
export function sameInode(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.dev !== OBJECT_DEV;
}

/** Nanoseconds from whole seconds and their nanosecond part, as a decimal string. */
export function mtimeNsOf(sec: number, nsec: number): string {
  return (BigInt(sec) * 1_000_000_000n + BigInt(nsec)).toString();
}

/**
 * The identity a walk recorded for an entry: device, inode and mtime in nanoseconds for local
 * files (walks asked for `identity`), LastModified and ETag for objects. Undefined when the walk
 * recorded too little to tell versions apart.
 */
export function identityOfEntry(e: FileEntry): FileIdentity | undefined {
  if (e.size === undefined) return undefined;
  if (e.etag !== undefined)
    return { dev: OBJECT_DEV, ino: 0, size: e.size, mtimeNs: mtimeNsOf(Math.floor((e.mtimeMs ?? 0) / 1000), 0), etag: e.etag };
  if (e.dev === undefined || e.ino === undefined || e.mtimeSec === undefined || e.mtimeNsec === undefined) return undefined;
  return { dev: e.dev, ino: e.ino, size: e.size, mtimeNs: mtimeNsOf(e.mtimeSec, e.mtimeNsec) };
}

/** Human words for an identity, in error messages. */
export function describeIdentity(id: FileIdentity): string {
  return id.etag !== undefined
    ? `${id.size} bytes, ETag ${id.etag}`
    : `inode ${id.ino} on device ${id.dev}, ${id.size} bytes, mtime ${id.mtimeNs} ns`;
}
