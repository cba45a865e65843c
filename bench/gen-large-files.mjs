#!/usr/bin/env node
// Generates the deterministic large-file set of the batch benchmark (copy of big files), cached under bench/.cache/.
//
//   node bench/gen-large-files.mjs [MB]      MB (total, 10^6 bytes) defaults to $BENCH_LARGE_MB, then 1000
//
// The files land in bench/.cache/large-<MB>MB/; bench/.cache/large-<MB>MB.json is written last and
// marks the set complete (generator version, names, sizes). A set without a matching marker is
// deleted and rebuilt.
//
// Shape: max(2, round(MB / 75)) files (13 for the default 1,000 MB) in two directories (videos/,
// disk-images/), sizes drawn uniformly from 50–100 MB and scaled by one common factor so they sum to
// exactly MB × 10^6 bytes (small sets get smaller files); contents are AES-128-CTR keystream under a
// per-file key (incompressible, no two files alike). Same MB + GENERATOR_VERSION = same names and bytes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from './gen-tree.mjs';
import { mulberry32 } from './lib/random.mjs';

/** Bump whenever the shape or content changes: cached sets of another version are rebuilt. */
export const GENERATOR_VERSION = 1;
export const DEFAULT_LARGE_MB = 1000;

const CHUNK = 16 * 2 ** 20;

/** Total size in MB from an explicit argument, else $BENCH_LARGE_MB, else the default. */
export function resolveLargeMB(arg) {
  const text = arg !== undefined && arg !== '' ? arg : process.env.BENCH_LARGE_MB || String(DEFAULT_LARGE_MB);
  if (!/^\d+$/.test(String(text).replace(/_/g, '')) || Number(String(text).replace(/_/g, '')) < 1)
    throw new Error(`invalid large-file total '${text}' (expected whole MB, e.g. 1000)`);
  return Number(String(text).replace(/_/g, ''));
}

export function largePaths(mb) {
  return { root: path.join(CACHE_DIR, `large-${mb}MB`), marker: path.join(CACHE_DIR, `large-${mb}MB.json`) };
}

/** Names and sizes: [{rel, size}], summing to mb × 10^6 bytes. */
export function largePlan(mb) {
  const rand = mulberry32(0x1a59e ^ mb);
  const total = mb * 1e6;
  const count = Math.max(2, Math.round(mb / 75));
  const raw = Array.from({ length: count }, () => 50e6 + rand() * 50e6);
  const factor = total / raw.reduce((a, b) => a + b, 0);
  const sizes = raw.map((s) => Math.floor(s * factor));
  sizes[0] += total - sizes.reduce((a, b) => a + b, 0);
  return sizes.map((size, i) => ({
    rel: i % 3 === 2 ? `disk-images/backup-${String(i + 1).padStart(2, '0')}.img` : `videos/clip-${String(i + 1).padStart(2, '0')}.mp4`,
    size,
  }));
}

/** Returns the manifest of a complete set of mb MB, or undefined. */
export function readLargeManifest(mb) {
  const { root, marker } = largePaths(mb);
  try {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
    if (
      m.generatorVersion === GENERATOR_VERSION &&
      m.mb === mb &&
      m.complete === true &&
      m.list.every((f) => fs.statSync(path.join(root, f.rel)).size === f.size)
    )
      return { ...m, root };
  } catch {
    // no marker, a file missing, or unreadable: not complete
  }
  return undefined;
}

/**
 * Makes sure the set of mb MB exists and is complete; generates it if not.
 * Returns its manifest (files, bytes, the list of names and sizes) with `root` added.
 */
export function ensureLargeFiles(mb, { log = (s) => process.stderr.write(s + '\n') } = {}) {
  const existing = readLargeManifest(mb);
  const { root, marker } = largePaths(mb);
  if (existing) {
    log(
      `large files: ${root} (${existing.files} files, ${(existing.bytes / 1e9).toFixed(2)} GB, generator v${GENERATOR_VERSION}) is cached`,
    );
    return existing;
  }
  fs.rmSync(marker, { force: true });
  if (fs.existsSync(root)) {
    log(`large files: removing incomplete or outdated ${root}`);
    fs.rmSync(root, { recursive: true, force: true });
  }
  const list = largePlan(mb);
  log(`large files: writing ${list.length} files, ${(mb / 1000).toFixed(2)} GB in ${root}`);
  const started = Date.now();
  const zeros = Buffer.alloc(CHUNK);
  for (const f of list) {
    const file = path.join(root, f.rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const key = crypto.createHash('sha256').update(`filer-bench:large:${f.rel}`).digest();
    const cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
    const fd = fs.openSync(file, 'wx');
    try {
      for (let done = 0; done < f.size;) {
        const n = Math.min(CHUNK, f.size - done);
        const chunk = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
        for (let w = 0; w < n;) w += fs.writeSync(fd, chunk, w, n - w);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const bytes = list.reduce((s, f) => s + f.size, 0);
  const manifest = {
    generatorVersion: GENERATOR_VERSION,
    complete: true,
    createdAt: new Date().toISOString(),
    mb,
    files: list.length,
    bytes,
    minSize: Math.min(...list.map((f) => f.size)),
    maxSize: Math.max(...list.map((f) => f.size)),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    list,
  };
  fs.writeFileSync(marker, JSON.stringify(manifest, null, 2) + '\n');
  log(`large files: done in ${manifest.seconds} s: ${list.length} files, ${bytes.toLocaleString('en-US')} bytes`);
  return { ...manifest, root };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const m = ensureLargeFiles(resolveLargeMB(process.argv[2]));
  process.stdout.write(m.root + '\n');
}
