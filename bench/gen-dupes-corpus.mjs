#!/usr/bin/env node
// Generates the deterministic corpus of the duplicates benchmark, cached under bench/.cache/.
//
//   node bench/gen-dupes-corpus.mjs [N [BYTES]]
//
// N (files) defaults to $BENCH_DUPES_FILES, then 54,000 (accepts 54000, 54k); BYTES (total content)
// to $BENCH_DUPES_BYTES, then 2.2e9 (accepts 2.2e9, 100e6, 100M, 2.2G, 512Mi). Quick run:
//   BENCH_DUPES_FILES=3000 BENCH_DUPES_BYTES=100e6 node bench/gen-dupes-corpus.mjs
//
// The corpus lands in bench/.cache/dupes-<N>/ (dupes-<N>-<BYTES> when BYTES is not the default);
// dupes-<N>….groups.json holds the duplicate groups the generator made (relative paths), and
// dupes-<N>….json, written last, marks the corpus complete (generator version + stats). A corpus
// without a matching marker is deleted and rebuilt.
//
// Shape (numbers for the default 54,000 files / 2.2 GB):
//   - ~1,550 directories, nested up to 5 levels below 8 top-level ones (photos, music, backup, ...);
//   - sizes: ~98.6% small files (log-uniform 256 B – 32 KiB, median ~3.7 KB, 30% of them drawn from
//     a handful of "round" sizes such as 4096), 560 medium originals (log-uniform 100 KB – 5 MB; ~720
//     files with their copies) and 12 large ones (uniform 20 – 100 MB; 15 files): ~0.37 GB small,
//     ~0.9 GB medium, ~0.95 GB large; medium and large sizes are scaled by one common factor so the
//     total lands on BYTES (0.95 at the default size; small corpora get smaller "large" files);
//   - 20% of the files are duplicates: exact copies of another file of the corpus (most groups are
//     pairs, some have up to 6 copies; at least one large file is copied), placed in other
//     directories (10% in the same one), half of them under the original's name;
//   - 3% are near-duplicates: same size as another file, same bytes except one, flipped at the
//     last byte (40%), the first (20%), the middle (20%) or a random position (20%); at least one
//     large and one medium file get a last-byte twin, so size grouping and sampling are not enough;
//   - no empty files, no hidden files, no hard links, no symlinks, no ignore files.
// Contents are slices of one 256 MiB pseudo-random pool (AES-128-CTR keystream under a fixed key),
// at offsets drawn with a seeded PRNG (distinct for two files of the same size), written straight
// from the pool: generation is about as fast as the disk takes writes.
// Same N + BYTES + GENERATOR_VERSION = same names, sizes and bytes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, parseCount } from './gen-tree.mjs';
import { mulberry32 } from './lib/random.mjs';

/** Bump whenever the shape or content changes: cached corpora of another version are rebuilt. */
export const GENERATOR_VERSION = 1;
export const DEFAULT_FILES = 54_000;
export const DEFAULT_BYTES = 2.2e9;
export const DEFAULT_HASH_MIB = 512;

const DUP_FRACTION = 0.2;
const VARIANT_FRACTION = 0.03;
const POOL_BYTES = 256 * 2 ** 20;
const MAX_DEPTH = 5;
const MAX_GROUP = 6;

/** Parses 2.2e9, 100e6, 100M, 100MB, 2.2G, 512Mi, 512MiB, 1_000_000 (K/M/G = 1000s, Ki/Mi/Gi = 1024s). */
export function parseBytes(text) {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(?:([kKmMgG])(i?))?[bB]?\s*$/.exec(String(text).replace(/[_,]/g, ''));
  if (!m) throw new Error(`invalid byte count '${text}' (expected e.g. 2.2e9, 100M, 512Mi)`);
  const unit = m[2] === undefined ? 1 : (m[3] ? 1024 : 1000) ** ('kmg'.indexOf(m[2].toLowerCase()) + 1);
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`invalid byte count '${text}'`);
  return n;
}

/** {files, bytes} from explicit arguments, else $BENCH_DUPES_FILES / $BENCH_DUPES_BYTES, else the defaults. */
export function resolveDupesConfig(filesArg, bytesArg) {
  const files =
    filesArg !== undefined && filesArg !== ''
      ? parseCount(filesArg)
      : process.env.BENCH_DUPES_FILES
        ? parseCount(process.env.BENCH_DUPES_FILES)
        : DEFAULT_FILES;
  const bytes =
    bytesArg !== undefined && bytesArg !== ''
      ? parseBytes(bytesArg)
      : process.env.BENCH_DUPES_BYTES
        ? parseBytes(process.env.BENCH_DUPES_BYTES)
        : DEFAULT_BYTES;
  if (files < 100) throw new Error(`dupes corpus: at least 100 files, not ${files}`);
  return { files, bytes };
}

export function corpusPaths(files, bytes) {
  const label = bytes === DEFAULT_BYTES ? '' : bytes % 1e6 === 0 ? `-${bytes / 1e6}MB` : `-${bytes}B`;
  const base = path.join(CACHE_DIR, `dupes-${files}${label}`);
  return { root: base, marker: base + '.json', groups: base + '.groups.json' };
}

/** Returns the manifest of a complete corpus, or undefined. */
export function readCorpusManifest(files, bytes) {
  const { root, marker, groups } = corpusPaths(files, bytes);
  try {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
    if (
      m.generatorVersion === GENERATOR_VERSION &&
      m.files === files &&
      m.requestedBytes === bytes &&
      m.complete === true &&
      fs.existsSync(root) &&
      fs.existsSync(groups)
    )
      return { ...m, root, groupsFile: groups };
  } catch {
    // no marker, or unreadable: not complete
  }
  return undefined;
}

/** The duplicate groups the generator made: arrays of absolute paths. */
export function readExpectedGroups(manifest) {
  return JSON.parse(fs.readFileSync(manifest.groupsFile, 'utf8')).map((g) => g.map((p) => path.join(manifest.root, p)));
}

/** Deterministic pseudo-random bytes: the AES-128-CTR keystream of a key derived from `label`. */
function keystream(label, bytes, onChunk, chunkBytes = 16 * 2 ** 20) {
  const key = crypto.createHash('sha256').update(`filer-bench:${label}`).digest();
  const cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const zeros = Buffer.alloc(Math.min(chunkBytes, bytes));
  for (let done = 0; done < bytes;) {
    const n = Math.min(zeros.length, bytes - done);
    onChunk(cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n)), done);
    done += n;
  }
}

// --- plan ---------------------------------------------------------------------------------------

const TOP_DIRS = ['photos', 'music', 'documents', 'projects', 'downloads', 'backup', 'archive', 'shared'];
const DIR_WORDS = [
  '2019',
  '2020',
  '2021',
  '2022',
  '2023',
  '2024',
  'old',
  'misc',
  'raw',
  'export',
  'src',
  'assets',
  'trip',
  'work',
  'copy',
  'data',
];
const KINDS = {
  small: {
    exts: ['txt', 'json', 'md', 'js', 'py', 'csv', 'html', 'xml', 'log', 'jpg', 'yaml', 'ts'],
    stems: ['notes', 'data', 'config', 'index', 'readme', 'main', 'utils', 'report', 'page', 'thumb', 'todo', 'part'],
  },
  medium: {
    exts: ['jpg', 'png', 'pdf', 'mp3', 'docx', 'xlsx', 'zip', 'JPG', 'epub', 'wav'],
    stems: ['IMG', 'DSC', 'scan', 'song', 'report', 'photo', 'doc', 'slides', 'invoice', 'track'],
  },
  large: {
    exts: ['mp4', 'mkv', 'iso', 'tar', 'zip', 'mov'],
    stems: ['video', 'movie', 'backup', 'disk', 'dataset', 'archive', 'recording'],
  },
};
/** Sizes that many unrelated small files share (block-ish and round numbers). */
const COMMON_SIZES = [512, 1000, 1024, 2000, 2048, 3072, 4000, 4096, 5000, 6144, 8000, 8192, 10000, 12288, 16384, 32768];

/** Lays out the whole corpus in memory: directories, files (path, size, pool offset, flipped byte), groups. */
export function plan(files, bytes) {
  const rand = mulberry32(0xd0_9e5 ^ files ^ Math.round(bytes / 4096));
  const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];
  const logUniform = (lo, hi) => Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));

  const dupCount = Math.round(files * DUP_FRACTION);
  const variantCount = Math.round(files * VARIANT_FRACTION);
  const uniqueCount = files - dupCount - variantCount;
  const largeCount = Math.max(2, Math.round((files * 12) / 54_000));
  const mediumCount = Math.max(4, Math.round((files * 560) / 54_000));
  const smallCount = uniqueCount - largeCount - mediumCount;
  if (smallCount < 1) throw new Error(`dupes corpus: ${files} files is too few`);

  // Originals: distinct contents, each with a size category, a size and (later) a pool offset.
  const bases = [];
  for (let i = 0; i < largeCount; i++) bases.push({ kind: 'large', size: randInt(20e6, 100e6), copies: 0, variants: [] });
  for (let i = 0; i < mediumCount; i++) bases.push({ kind: 'medium', size: logUniform(100e3, 5e6), copies: 0, variants: [] });
  for (let i = 0; i < smallCount; i++)
    bases.push({ kind: 'small', size: rand() < 0.3 ? pick(COMMON_SIZES) : logUniform(256, 32768), copies: 0, variants: [] });

  // Duplicates: at least one large file is copied (15% of them), the rest spread over the others;
  // 70% of copies start a new group (a pair), 30% add to a group that exists.
  const copied = [];
  let dupsLeft = dupCount;
  const largeCopies = Math.min(dupsLeft, Math.max(1, Math.round(largeCount * 0.15)));
  for (let i = 0; i < largeCopies; i++) {
    bases[i].copies++;
    dupsLeft--;
  }
  const nonLarge = bases.length - largeCount;
  while (dupsLeft > 0) {
    let b;
    if (copied.length === 0 || rand() < 0.7) {
      for (let tries = 0; tries < 50 && (b === undefined || bases[b].copies > 0); tries++) b = largeCount + randInt(0, nonLarge - 1);
      if (bases[b].copies === 0) copied.push(b);
    } else {
      b = pick(copied);
      if (bases[b].copies >= MAX_GROUP - 1) continue;
    }
    bases[b].copies++;
    dupsLeft--;
  }

  // Near-duplicates: same size as their base, one byte flipped. One large and one medium base get a
  // last-byte twin; the rest go to random non-large bases.
  const variantKinds = [
    ['last', 0.4],
    ['first', 0.2],
    ['middle', 0.2],
    ['random', 0.2],
  ];
  const forced = [
    [largeCount - 1, 'last'],
    [largeCount, 'last'],
  ];
  for (let i = 0; i < variantCount; i++) {
    let b;
    let kind;
    if (i < forced.length) [b, kind] = forced[i];
    else {
      b = largeCount + randInt(0, nonLarge - 1);
      let r = rand();
      kind = variantKinds.find(([, w]) => (r -= w) < 0)?.[0] ?? 'last';
      if (bases[b].variants.some((v) => v.kind === kind))
        kind = variantKinds.find(([k]) => !bases[b].variants.some((v) => v.kind === k))?.[0];
      if (kind === undefined) {
        i--; // this base has every kind already: draw another
        continue;
      }
    }
    bases[b].variants.push({ kind });
  }

  // Scale medium and large sizes so the total lands on `bytes`.
  let fixed = 0;
  let scalable = 0;
  for (const b of bases) {
    const weight = 1 + b.copies + b.variants.length;
    if (b.kind === 'small') fixed += b.size * weight;
    else scalable += b.size * weight;
  }
  const factor = (bytes - fixed) / scalable;
  if (!(factor > 0.001))
    throw new Error(`dupes corpus: ${bytes} bytes is too little for ${files} files (the small files alone take ${fixed} bytes)`);
  for (const b of bases) if (b.kind !== 'small') b.size = Math.max(300, Math.round(b.size * factor));

  // Pool offsets: distinct for two bases of the same size, so their contents differ.
  const taken = new Set();
  for (const b of bases) {
    do b.off = b.size <= POOL_BYTES ? randInt(0, POOL_BYTES - b.size) : randInt(0, POOL_BYTES - 1);
    while (taken.has(`${b.size}:${b.off}`));
    taken.add(`${b.size}:${b.off}`);
    for (const v of b.variants) {
      v.pos = v.kind === 'last' ? b.size - 1 : v.kind === 'first' ? 0 : v.kind === 'middle' ? b.size >> 1 : randInt(1, b.size - 2);
      if (v.kind === 'random' && v.pos === b.size >> 1) v.pos++;
    }
  }

  // Directories.
  const dirCount = Math.max(TOP_DIRS.length, Math.round(files / 35));
  const dirs = TOP_DIRS.map((name) => ({ rel: name, depth: 1 }));
  while (dirs.length < dirCount) {
    let parent;
    do parent = pick(dirs);
    while (parent.depth >= MAX_DEPTH);
    dirs.push({ rel: path.join(parent.rel, `${pick(DIR_WORDS)}-${dirs.length}`), depth: parent.depth + 1 });
  }

  // Files: names unique per directory; copies usually elsewhere, half under the original's name.
  const used = new Set();
  let seq = 0;
  const freshName = (kind, ext) => `${pick(KINDS[kind].stems)}_${String(seq++).padStart(5, '0')}.${ext}`;
  const out = [];
  const groups = [];
  for (const b of bases) {
    const ext = pick(KINDS[b.kind].exts);
    const dir = pick(dirs).rel;
    const name = freshName(b.kind, ext);
    const rel = path.join(dir, name);
    used.add(rel);
    out.push({ rel, size: b.size, off: b.off, kind: b.kind });
    const group = [rel];
    for (let c = 0; c < b.copies; c++) {
      const cdir = rand() < 0.1 ? dir : pick(dirs).rel;
      let crel = path.join(cdir, rand() < 0.5 ? name : `${path.basename(name, '.' + ext)} (copy ${c + 1}).${ext}`);
      if (used.has(crel)) crel = path.join(cdir, freshName(b.kind, ext));
      used.add(crel);
      out.push({ rel: crel, size: b.size, off: b.off, kind: b.kind });
      group.push(crel);
    }
    if (group.length > 1) groups.push(group.sort());
    for (const v of b.variants) {
      const vdir = rand() < 0.3 ? dir : pick(dirs).rel;
      let vrel = path.join(vdir, `${path.basename(name, '.' + ext)} (edited).${ext}`);
      if (used.has(vrel)) vrel = path.join(vdir, freshName(b.kind, ext));
      used.add(vrel);
      out.push({ rel: vrel, size: b.size, off: b.off, flip: v.pos, kind: b.kind, variant: v.kind });
    }
  }
  if (out.length !== files) throw new Error(`generator bug: planned ${out.length} files, wanted ${files}`);

  // Write order: shuffled, so copies are not written next to their originals.
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return { dirs: dirs.map((d) => d.rel), files: out, groups, factor };
}

export function statsOf(p) {
  const s = {
    files: p.files.length,
    dirs: p.dirs.length,
    bytes: 0,
    small: { files: 0, bytes: 0 },
    medium: { files: 0, bytes: 0 },
    large: { files: 0, bytes: 0 },
    minSize: Infinity,
    maxSize: 0,
    dupGroups: p.groups.length,
    filesInGroups: 0,
    duplicates: 0, // extra copies: files in groups minus one per group
    wastedBytes: 0,
    largestGroup: 0,
    variants: { last: 0, first: 0, middle: 0, random: 0 },
    distinctSizes: 0,
    sameSizeDifferentContent: 0, // files sharing their size with a file of other content
    mediumLargeScale: Math.round(p.factor * 1000) / 1000,
  };
  const bySize = new Map();
  for (const f of p.files) {
    s.bytes += f.size;
    s[f.kind].files++;
    s[f.kind].bytes += f.size;
    s.minSize = Math.min(s.minSize, f.size);
    s.maxSize = Math.max(s.maxSize, f.size);
    if (f.variant) s.variants[f.variant]++;
    const content = `${f.off}:${f.flip ?? -1}`;
    let m = bySize.get(f.size);
    if (!m) bySize.set(f.size, (m = new Map()));
    m.set(content, (m.get(content) ?? 0) + 1);
  }
  const sizeOf = new Map(p.files.map((f) => [f.rel, f.size]));
  for (const g of p.groups) {
    s.filesInGroups += g.length;
    s.duplicates += g.length - 1;
    s.wastedBytes += (g.length - 1) * sizeOf.get(g[0]);
    s.largestGroup = Math.max(s.largestGroup, g.length);
  }
  s.distinctSizes = bySize.size;
  for (const m of bySize.values()) if (m.size > 1) for (const n of m.values()) s.sameSizeDifferentContent += n;
  return s;
}

/** Writes the planned corpus into `root` (must not exist). */
function write(root, p, log) {
  const started = Date.now();
  log(`  pool: ${POOL_BYTES / 2 ** 20} MiB of AES-CTR keystream`);
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  keystream('dupes-pool', POOL_BYTES, (chunk, at) => chunk.copy(pool, at));
  fs.mkdirSync(root, { recursive: true });
  for (const d of p.dirs) fs.mkdirSync(path.join(root, d), { recursive: true });
  let written = 0;
  let bytes = 0;
  let nextReport = 10_000;
  for (const f of p.files) {
    const fd = fs.openSync(path.join(root, f.rel), 'wx');
    try {
      let off = f.off;
      for (let left = f.size; left > 0;) {
        const n = Math.min(left, POOL_BYTES - off, 16 * 2 ** 20);
        for (let done = 0; done < n;) done += fs.writeSync(fd, pool, off + done, n - done);
        left -= n;
        off = (off + n) % POOL_BYTES;
      }
      if (f.flip !== undefined) fs.writeSync(fd, Buffer.of(pool[(f.off + f.flip) % POOL_BYTES] ^ 0xff), 0, 1, f.flip);
    } finally {
      fs.closeSync(fd);
    }
    written++;
    bytes += f.size;
    if (written >= nextReport) {
      nextReport += 10_000;
      const secs = (Date.now() - started) / 1000;
      log(
        `  ${written.toLocaleString('en-US')} / ${p.files.length.toLocaleString('en-US')} files, ${(bytes / 1e6).toFixed(0)} MB, ${(bytes / 1e6 / secs).toFixed(0)} MB/s`,
      );
    }
  }
  return Math.round((Date.now() - started) / 100) / 10;
}

/**
 * Makes sure the corpus for {files, bytes} exists and is complete; generates it if not.
 * Returns its manifest (stats, generator version) with `root` and `groupsFile` added.
 */
export function ensureDupesCorpus({ files, bytes }, { log = (s) => process.stderr.write(s + '\n') } = {}) {
  const existing = readCorpusManifest(files, bytes);
  const { root, marker, groups } = corpusPaths(files, bytes);
  if (existing) {
    log(
      `dupes corpus: ${root} (${files.toLocaleString('en-US')} files, ${(existing.bytes / 1e9).toFixed(2)} GB, generator v${GENERATOR_VERSION}) is cached`,
    );
    return existing;
  }
  fs.rmSync(marker, { force: true });
  fs.rmSync(groups, { force: true });
  if (fs.existsSync(root)) {
    log(`dupes corpus: removing incomplete or outdated ${root}`);
    fs.rmSync(root, { recursive: true, force: true });
  }
  log(`dupes corpus: generating ${files.toLocaleString('en-US')} files, ~${(bytes / 1e9).toFixed(2)} GB in ${root}`);
  const p = plan(files, bytes);
  const stats = statsOf(p);
  const seconds = write(root, p, log);
  fs.writeFileSync(groups, JSON.stringify(p.groups) + '\n');
  const manifest = {
    generatorVersion: GENERATOR_VERSION,
    complete: true,
    createdAt: new Date().toISOString(),
    requestedBytes: bytes,
    ...stats,
    seconds,
  };
  fs.writeFileSync(marker, JSON.stringify(manifest, null, 2) + '\n');
  log(
    `dupes corpus: done in ${seconds} s: ${stats.files.toLocaleString('en-US')} files in ${stats.dirs.toLocaleString('en-US')} dirs, ${(stats.bytes / 1e9).toFixed(3)} GB; ` +
      `${stats.duplicates.toLocaleString('en-US')} duplicates in ${stats.dupGroups.toLocaleString('en-US')} groups; ` +
      `${Object.values(stats.variants).reduce((a, b) => a + b, 0)} one-byte variants; ${stats.sameSizeDifferentContent.toLocaleString('en-US')} files share a size with other content`,
  );
  return { ...manifest, root, groupsFile: groups };
}

// --- the hashing-throughput pair ----------------------------------------------------------------

export function hashPairPaths(mib) {
  const base = path.join(CACHE_DIR, `dupes-hash-${mib}MiB`);
  return { root: base, marker: base + '.json', files: [path.join(base, 'a.bin'), path.join(base, 'b.bin')] };
}

/** Two identical files of `mib` MiB of pseudo-random bytes in their own directory (cached). */
export function ensureHashPair(mib, { log = (s) => process.stderr.write(s + '\n') } = {}) {
  const { root, marker, files } = hashPairPaths(mib);
  const bytes = mib * 2 ** 20;
  try {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
    if (m.generatorVersion === GENERATOR_VERSION && m.bytes === bytes && files.every((f) => fs.statSync(f).size === bytes)) {
      log(`hash pair: ${root} (2 × ${mib} MiB) is cached`);
      return { root, files, bytes };
    }
  } catch {
    // missing or incomplete
  }
  fs.rmSync(marker, { force: true });
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  log(`hash pair: writing 2 × ${mib} MiB into ${root}`);
  const fds = files.map((f) => fs.openSync(f, 'wx'));
  try {
    keystream(`hash-pair-${mib}`, bytes, (chunk) => {
      for (const fd of fds) for (let done = 0; done < chunk.length;) done += fs.writeSync(fd, chunk, done);
    });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  fs.writeFileSync(marker, JSON.stringify({ generatorVersion: GENERATOR_VERSION, bytes, complete: true }) + '\n');
  return { root, files, bytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const m = ensureDupesCorpus(resolveDupesConfig(process.argv[2], process.argv[3]));
  process.stdout.write(m.root + '\n');
}
