import type { DupeFile } from '@filer/engine';
import { isS3Uri, parseS3Uri, type MountedVolume } from '@filer/storage';

/** A local file's identity in the shared hash index: the volume's id, never the host's device number. */
export interface FileHashKey {
  kind: 'file';
  volume: string;
  ino: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
}

/** An S3 object's identity: what a listing says of it. */
export interface ObjectHashKey {
  kind: 'object';
  bucket: string;
  key: string;
  etag: string;
  size: number;
  /** LastModified, in milliseconds: all a listing gives. */
  mtimeMs: number;
}

export type HashKey = FileHashKey | ObjectHashKey;

/**
 * Where the index keeps `file`'s hashes, or undefined when it is not cached: a local file below no
 * mounted volume, or on another device than its volume's root (a mount inside the volume, whose
 * inode numbers are another file system's), or an object listed without an ETag.
 */
export function hashKeyOf(file: DupeFile, volumes: readonly MountedVolume[]): HashKey | undefined {
  if (isS3Uri(file.path)) {
    if (file.etag === undefined) return undefined;
    const { bucket, key } = parseS3Uri(file.path);
    return {
      kind: 'object',
      bucket,
      key,
      etag: file.etag,
      size: file.size,
      mtimeMs: file.mtimeSec * 1000 + Math.round(file.mtimeNsec / 1e6),
    };
  }
  let best: MountedVolume | undefined;
  for (const v of volumes) {
    const inside = file.path === v.root || file.path.startsWith(v.root === '/' ? '/' : v.root + '/');
    // The innermost volume wins: a volume configured inside another is its own file system.
    if (inside && (best === undefined || v.root.length > best.root.length)) best = v;
  }
  if (best === undefined || best.dev !== file.dev) return undefined;
  return { kind: 'file', volume: best.id, ino: file.ino, size: file.size, mtimeSec: file.mtimeSec, mtimeNsec: file.mtimeNsec };
}

/** One string per identity, for matching rows read back to the files that asked. */
export function hashKeyText(k: HashKey): string {
  return k.kind === 'file'
    ? `f\0${k.volume}\0${k.ino}\0${k.size}\0${k.mtimeSec}\0${k.mtimeNsec}`
    : `o\0${k.bucket}\0${k.key}\0${k.etag}\0${k.size}\0${k.mtimeMs}`;
}
