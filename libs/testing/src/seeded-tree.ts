import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { noiseBytes } from './file-fixtures.js';
import type { ManifestEntry } from './tree-manifest.js';

/** A deterministic generator of numbers in [0, 1) (xorshift32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** mulberry32: another small seeded generator of numbers in [0, 1), for the tests and fault schedules that were written with it. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options for `writeSeededTree`. */
export interface SeededTreeOptions {
  files: number;
  dirs: number;
  /** Sizes are spread log-uniformly over 0 B … maxSize (many small files, a few large ones); both ends occur. */
  maxSize: number;
  seed: number;
}

/**
 * Writes `files` files spread over `dirs` directories below `root` (created), each with distinct
 * content (its own name, then a slice of seeded noise), and returns the manifest written (relative
 * path → size and sha256): the same seed always gives the same tree.
 */
export function writeSeededTree(root: string, opts: SeededTreeOptions): Map<string, ManifestEntry> {
  const rnd = seededRandom(opts.seed);
  const pool = noiseBytes(opts.maxSize + 64 * 1024, opts.seed);
  const bits = Math.log2(opts.maxSize + 1);
  const out = new Map<string, ManifestEntry>();
  for (let d = 0; d < opts.dirs; d++) fs.mkdirSync(path.join(root, `d${String(d).padStart(3, '0')}`), { recursive: true });
  for (let i = 0; i < opts.files; i++) {
    const rel = `d${String(i % opts.dirs).padStart(3, '0')}/f${String(i).padStart(5, '0')}.dat`;
    // The first file is empty and the second of the largest size; the rest log-uniform.
    const size = i === 0 ? 0 : i === 1 ? opts.maxSize : Math.min(opts.maxSize, Math.floor(2 ** (rnd() * bits)) - 1);
    const head = Buffer.from(`${rel}\n`);
    const off = Math.floor(rnd() * (pool.length - size));
    const data = size <= head.length ? head.subarray(0, size) : Buffer.concat([head, pool.subarray(off, off + size - head.length)]);
    fs.writeFileSync(path.join(root, rel), data);
    out.set(rel, { size, sha256: createHash('sha256').update(data).digest('hex') });
  }
  return out;
}
