import * as fs from 'node:fs';

/** What a walk records for `path`: size, device, inode and the exact mtime (the shape of a DupeFile). */
export function walkedIdentity(path: string): {
  path: string;
  size: number;
  dev: number;
  ino: number;
  mtimeSec: number;
  mtimeNsec: number;
} {
  const st = fs.statSync(path, { bigint: true });
  return {
    path,
    size: Number(st.size),
    dev: Number(st.dev),
    ino: Number(st.ino),
    mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
    mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
  };
}

/** Deterministic pseudo-random bytes (xorshift32): the same seed gives the same content. */
export function noiseBytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
