import type { PathError } from '@filer/core';
import type { DupeFile, HashAlgorithm, HashScope } from '@filer/engine';

/** Numbers sent per file: size, dev, ino, mtimeSec, mtimeNsec. */
export const META_FIELDS = 5;

/**
 * A batch travels packed, not as objects: structured cloning an object per file cost more than
 * hashing its sample. Paths are joined by NUL (never part of a path); the rest is one Float64Array.
 */
export type ToHashWorker = { batch: number; paths: string; meta: Float64Array; scope: HashScope };
/** Digests joined by '\n' ('' where the file failed); the failures by index. */
export type FromHashWorker = { batch: number; hashes: string; errors: [number, PathError][]; bytesRead: number };
export interface HashWorkerInit {
  algorithm: HashAlgorithm;
  follow: boolean;
  native: boolean;
}

export function packFiles(files: readonly DupeFile[]): { paths: string; meta: Float64Array } {
  const meta = new Float64Array(files.length * META_FIELDS);
  const paths = new Array<string>(files.length);
  for (let i = 0, o = 0; i < files.length; i++, o += META_FIELDS) {
    const f = files[i];
    paths[i] = f.path;
    meta[o] = f.size;
    meta[o + 1] = f.dev;
    meta[o + 2] = f.ino;
    meta[o + 3] = f.mtimeSec;
    meta[o + 4] = f.mtimeNsec;
  }
  return { paths: paths.join('\0'), meta };
}

export function unpackFiles(paths: string, meta: Float64Array): DupeFile[] {
  const names = paths.split('\0');
  const files = new Array<DupeFile>(names.length);
  for (let i = 0, o = 0; i < names.length; i++, o += META_FIELDS) {
    files[i] = { path: names[i], size: meta[o], dev: meta[o + 1], ino: meta[o + 2], mtimeSec: meta[o + 3], mtimeNsec: meta[o + 4] };
  }
  return files;
}
