import type { FileEntry } from '@filer/core';
import type { DupeFile } from '@filer/engine';

/**
 * Listed S3 objects as the duplicate finder's files. Objects have no device or inode, and two keys
 * are never one object, so every distinct key gets its own number (dev 0, ino 1, 2, …, in the
 * order first seen; the same key listed twice — overlapping roots — keeps its number and counts
 * once). mtime is the listing's LastModified.
 */
export class S3DupeFiles {
  readonly files: DupeFile[] = [];
  private readonly inodes = new Map<string, number>();

  add(e: FileEntry): void {
    let ino = this.inodes.get(e.path);
    if (ino === undefined) {
      ino = this.inodes.size + 1;
      this.inodes.set(e.path, ino);
    }
    const ms = e.mtimeMs ?? 0;
    const mtimeSec = Math.floor(ms / 1000);
    const file: DupeFile = { path: e.path, size: e.size ?? 0, dev: 0, ino, mtimeSec, mtimeNsec: (ms - mtimeSec * 1000) * 1e6 };
    if (e.etag !== undefined) file.etag = e.etag;
    this.files.push(file);
  }
}
