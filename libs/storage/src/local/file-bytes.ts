import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';

// Local files' bytes: made durable (a file's data, a directory's entries), hashed for --verify and
// compared.

const CHUNK = 1 << 20;

/** Makes a directory entry durable: the rename or link that made it survives a crash. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on directories; the data itself was fsync'ed
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Makes a file's data durable (fdatasync, on the thread pool). */
export async function flushData(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

export function sha256Of(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = fs.openSync(file, 'r');
  try {
    for (let pos = 0; ;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** A copy that is not what it was copied from (--verify, or its size). */
export class VerifyError extends Error {
  readonly code = 'E_VERIFY';
}

/** Whether two paths are regular files with the same bytes. */
export function sameBytes(a: string, b: string): boolean {
  const sa = fs.lstatSync(a);
  const sb = fs.lstatSync(b);
  if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
  // Sized to the file (most are small): two 1 MiB buffers per call kept V8's collector busy when a
  // dedupe job compared tens of thousands of small pairs.
  const len = Math.max(1, Math.min(CHUNK, sa.size));
  const ba = Buffer.allocUnsafe(len);
  const bb = Buffer.allocUnsafe(len);
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    for (let pos = 0; pos < sa.size;) {
      const n = fs.readSync(fa, ba, 0, len, pos);
      const m = fs.readSync(fb, bb, 0, len, pos);
      if (n !== m || n === 0 || ba.compare(bb, 0, m, 0, n) !== 0) return false;
      pos += n;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}
