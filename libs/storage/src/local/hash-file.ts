import * as fs from 'node:fs';
import type { PathError } from '@filer/core';
import type { DupeFile, HashAlgorithm, HashOutcome, HashScope } from '@filer/engine';
// The sample layout alone: the hashing threads start faster without the whole engine.
import { SAMPLE_BLOCK, sampleIsWhole, sampleRanges } from '@filer/engine/sample-layout';
import { errnoMessage, errnoName, nativeScan, type NativeScan } from './native-scan.js';
import { createStreamingHash, type StreamingHash } from './streaming-hash.js';

export { createStreamingHash } from './streaming-hash.js';

/** Reads go through one reusable buffer this large: few syscalls, no file content kept. */
const READ_BUFFER_BYTES = 1 << 20;

/** A reader for `algorithm` (on the worker threads: sha256, or any algorithm without the native addon). */
export async function createFileHashReader(
  algorithm: HashAlgorithm,
  follow = false,
  native: NativeScan | null = nativeScan,
): Promise<FileHashReader> {
  return new FileHashReader(await createStreamingHash(algorithm), follow, native);
}

/**
 * The native scanner's result for file i (7 fields: errno, size, dev, ino, mtime s, ns, bytes), or its
 * error: a failed read, or not what the walk recorded.
 */
export function nativeCheck(r: Float64Array, i: number, f: DupeFile): PathError | undefined {
  const o = i * 7;
  const errno = r[o];
  if (errno !== 0) {
    const code = errno === -1 ? 'E_CHANGED' : errnoName(errno);
    return { path: f.path, code, message: errno === -1 ? 'shrank while it was read' : errnoMessage(errno, 'open', f.path) };
  }
  if (r[o + 1] !== f.size || r[o + 2] !== f.dev || r[o + 3] !== f.ino || r[o + 4] !== f.mtimeSec || r[o + 5] !== f.mtimeNsec) {
    return { path: f.path, code: 'E_CHANGED', message: 'changed since it was scanned' };
  }
  return undefined;
}

/** The file is no longer what the walk saw: report it, never group it. */
class ChangedError extends Error {
  readonly code = 'E_CHANGED';
}

function sameAsWalked(st: fs.BigIntStats, f: DupeFile): boolean {
  const ns = st.mtimeNs;
  return (
    Number(st.size) === f.size &&
    Number(st.ino) === f.ino &&
    Number(st.dev) === f.dev &&
    Number(ns / 1_000_000_000n) === f.mtimeSec &&
    Number(ns % 1_000_000_000n) === f.mtimeNsec
  );
}

/**
 * Hashes one file's sample or whole content through a shared buffer. After reading, the open file
 * is checked against what the walk recorded (size, inode, device, mtime to the nanosecond), so a
 * file rewritten, replaced or truncated since the walk or during the read fails with E_CHANGED.
 */
export class FileHashReader {
  /** Bytes of the files hashed successfully (what a cached rerun must bring to zero). */
  bytesRead = 0;
  private readonly buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private sampleBuf = Buffer.alloc(0);

  /** `follow`: the walk followed symlinks (-L), so a path may be a link to the file it recorded. */
  constructor(
    private readonly hash: StreamingHash,
    private readonly follow = false,
    private readonly native: NativeScan | null = nativeScan,
  ) {}

  /**
   * Hashes many files at once. With the native scanner built, a batch's sample bytes come from it
   * in one call. (xxh128 with the scanner never gets here: LocalFileHasher hashes it natively.)
   */
  hashMany(files: readonly DupeFile[], scope: HashScope): HashOutcome[] {
    const native = this.native;
    if (native === null || scope === 'full') return files.map((f) => this.hashFile(f, scope));
    return this.nativeSamples(native, files);
  }

  private nativeSamples(native: NativeScan, files: readonly DupeFile[]): HashOutcome[] {
    const stride = 2 * SAMPLE_BLOCK;
    // One buffer reused for every batch: a fresh one per batch cost page faults on every sample.
    if (this.sampleBuf.length < files.length * stride) this.sampleBuf = Buffer.allocUnsafe(files.length * stride);
    const out = this.sampleBuf;
    const sizes = Float64Array.from(files, (f) => f.size);
    const r = native.readSamples(files.map((f) => f.path).join('\0'), files.length, sizes, SAMPLE_BLOCK, this.follow, out);
    return files.map((f, i) => {
      const error = nativeCheck(r, i, f);
      if (error) return { error };
      const bytes = r[i * 7 + 6];
      this.bytesRead += bytes;
      this.hash.init();
      this.hash.update(out.subarray(i * stride, i * stride + bytes));
      return { hash: this.hash.digest(), whole: sampleIsWhole(f.size) };
    });
  }

  hashFile(f: DupeFile, scope: HashScope): HashOutcome {
    let fd: number | undefined;
    try {
      // Without -L a path that became a symlink is refused; with it, the inode check still applies.
      fd = fs.openSync(f.path, fs.constants.O_RDONLY | (this.follow ? 0 : fs.constants.O_NOFOLLOW));
      const ranges = scope === 'sample' ? sampleRanges(f.size) : ([[0, f.size]] as [number, number][]);
      this.hash.init();
      for (const [start, length] of ranges) this.readRange(fd, start, length);
      // One check after reading covers both windows: a file changed since the walk, or while it
      // was read, no longer has the walk's size, inode, device and mtime.
      if (!sameAsWalked(fs.fstatSync(fd, { bigint: true }), f)) throw new ChangedError('changed since it was scanned');
      for (const [, length] of ranges) this.bytesRead += length;
      return { hash: this.hash.digest(), whole: scope === 'full' || sampleIsWhole(f.size) };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { error: { path: f.path, code: err.code ?? 'EIO', message: err.message } };
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  private readRange(fd: number, start: number, length: number): void {
    let pos = start;
    const end = start + length;
    while (pos < end) {
      const n = fs.readSync(fd, this.buf, 0, Math.min(this.buf.length, end - pos), pos);
      if (n === 0) throw new ChangedError('shrank while it was read');
      this.hash.update(this.buf.subarray(0, n));
      pos += n;
    }
  }
}
