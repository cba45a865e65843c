#!/usr/bin/env node
// Throughput of candidate content hashes on an in-memory buffer (no I/O), fed in 1 MiB chunks as
// the duplicate finder feeds them: the numbers behind the choice of xxh128 for `filer dupes`.
//
//   node bench/hash-candidates.mjs [MiB]      (default 256 MiB, best of 3)
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createBLAKE3, createXXHash128, createXXHash3 } from 'hash-wasm';

const total = Number(process.argv[2] ?? 256) << 20;
const buf = randomBytes(total);
const CHUNK = 1 << 20;

const nodeHash = (alg) => async () => {
  let h;
  return { init: () => (h = createHash(alg)), update: (b) => h.update(b), digest: () => h.digest('hex') };
};
const candidates = [
  ['xxh128 (hash-wasm, 128-bit)', createXXHash128],
  ['xxh3 (hash-wasm, 64-bit)', createXXHash3],
  ['blake3 (hash-wasm, 256-bit)', createBLAKE3],
  ['md5 (node:crypto, 128-bit)', nodeHash('md5')],
  ['sha1 (node:crypto, 160-bit)', nodeHash('sha1')],
  ['sha256 (node:crypto, 256-bit)', nodeHash('sha256')],
];

console.log(`| hash | GB/s (${total >> 20} MiB, 1 MiB chunks, best of 3) |\n|---|---|`);
for (const [name, make] of candidates) {
  const h = await make();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    h.init();
    for (let o = 0; o < total; o += CHUNK) h.update(buf.subarray(o, o + CHUNK));
    h.digest('hex');
    best = Math.min(best, performance.now() - t);
  }
  console.log(`| ${name} | ${(total / (best / 1000) / 1e9).toFixed(2)} |`);
}
