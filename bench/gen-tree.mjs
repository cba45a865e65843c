#!/usr/bin/env node
// Generates a deterministic synthetic file tree for the benchmarks, cached under bench/.cache/.
//
//   node bench/gen-tree.mjs [N] [SHAPE]  N defaults to $BENCH_FILES, then 1,000,000 (accepts 50000, 50k, 1m, 1_000_000);
//                                        SHAPE is 'default' or 'deep' (see SHAPES)
//
// The tree lands in bench/.cache/tree-<N>/ (tree-<N>-<SHAPE>/ for another shape); the .json beside
// it is written last and marks it complete (generator version + counts). A tree without a matching
// marker is deleted and rebuilt.
//
// Shape: one root with a handful of "project" directories, nesting 3–6 levels deep, 10–30 files per
// directory (about 3% of directories hold a few hundred), ~4% hidden directories and ~3% hidden
// files, mixed extensions (exactly 10% csv), mostly empty or tiny files, some of a few KB (about 15%
// of csv files are >= 2100 bytes, none between 2000 and 2099 so `--min-size 2k` is unambiguous),
// about 3% of non-empty files are byte-for-byte copies of an earlier file, and 20% of files get an
// mtime spread over 2019–2024. Same N + shape + GENERATOR_VERSION = same names, sizes and bytes.
// The 'deep' shape is a second tree to check that a tuning did not fit the first one: another
// seed, up to 10 levels, 3–12 files per directory, longer file and directory names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './lib/random.mjs';

/** Bump whenever the shape or content changes: cached trees of another version are rebuilt. */
export const GENERATOR_VERSION = 1;
export const DEFAULT_FILES = 1_000_000;

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = path.join(BENCH_DIR, '.cache');

/** Parses 50000, 50_000, 50k, 1m, 1.5M. */
export function parseCount(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(String(text).replace(/[_,]/g, ''));
  if (!m) throw new Error(`invalid file count '${text}' (expected e.g. 50000, 50k, 1m)`);
  const n = Math.round(Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1e3 : 1e6));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`invalid file count '${text}'`);
  return n;
}

/** File count from an explicit argument, else $BENCH_FILES, else the default. */
export function resolveFileCount(arg) {
  if (arg !== undefined && arg !== '') return parseCount(arg);
  if (process.env.BENCH_FILES) return parseCount(process.env.BENCH_FILES);
  return DEFAULT_FILES;
}

export function treePaths(n, shape = 'default') {
  const base = shape === 'default' ? `tree-${n}` : `tree-${n}-${shape}`;
  return { root: path.join(CACHE_DIR, base), marker: path.join(CACHE_DIR, `${base}.json`) };
}

/** Returns the manifest of a complete tree for n files, or undefined. */
export function readManifest(n, shape = 'default') {
  const { root, marker } = treePaths(n, shape);
  try {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
    if (
      m.generatorVersion === GENERATOR_VERSION &&
      m.files === n &&
      (m.shape ?? 'default') === shape &&
      m.complete === true &&
      fs.existsSync(root)
    )
      return { ...m, root };
  } catch {
    // no marker, or unreadable: not complete
  }
  return undefined;
}

// --- shape parameters ---------------------------------------------------------------------------

/**
 * Tree shapes. `default` is the bench's tree (its random sequence must not change: cached trees
 * and published figures rely on it); `deep` is a second tree with another seed and proportions.
 * maxDepth: directories live at depth 1..maxDepth below the root; dirFiles: files per ordinary
 * directory; avgDirFiles: upper bound used for capacity planning; longNames: add a word to names.
 */
export const SHAPES = {
  default: { seed: 0x5eed, maxDepth: 6, maxFanout: 8, dirFiles: [10, 30], bigDirChance: 0.03, avgDirFiles: 30, longNames: false },
  deep: { seed: 0xdee9, maxDepth: 10, maxFanout: 4, dirFiles: [3, 12], bigDirChance: 0.01, avgDirFiles: 12, longNames: true },
};

/** Extension weights (sum 100): csv is exactly 10%. '' = no extension. */
const EXTENSIONS = [
  ['csv', 10],
  ['log', 12],
  ['txt', 13],
  ['json', 12],
  ['jpg', 9],
  ['JPG', 1],
  ['png', 5],
  ['parquet', 4],
  ['py', 8],
  ['md', 4],
  ['js', 5],
  ['ts', 3],
  ['gz', 3],
  ['xml', 2],
  ['yaml', 4],
  ['', 5],
];
const EXT_TABLE = EXTENSIONS.flatMap(([ext, w]) => Array(w).fill(ext));
const BINARYISH = new Set(['jpg', 'JPG', 'png', 'parquet', 'gz']);

const FILE_STEMS = ['data', 'report', 'img', 'export', 'events', 'part', 'sample', 'notes', 'config', 'main'];
const FILE_STEMS_2 = ['utils', 'record', 'snapshot', 'table', 'metrics', 'index', 'summary', 'batch', 'frame', 'chunk'];
const NOEXT_NAMES = ['README', 'Makefile', 'LICENSE', 'Dockerfile', 'CHANGES', 'run'];
const DIR_WORDS = ['src', 'data', 'raw', 'processed', 'logs', '2023', '2024', 'archive', 'assets', 'images'];
const LONG_WORDS = [
  'quarterly-revenue',
  'customer_segments',
  'ingest-pipeline',
  'experiment.results',
  'validation_holdout',
  'thumbnail-cache',
];
const DIR_WORDS_2 = ['tmp', 'build', 'lib', 'tests', 'docs', 'exports', 'reports', 'backup', 'shared', 'misc'];
const HIDDEN_DIR_WORDS = ['.cache', '.git', '.venv', '.config', '.tmp'];

const MTIME_FROM = Date.UTC(2019, 0, 1) / 1000;
const MTIME_TO = Date.UTC(2025, 0, 1) / 1000;

/** Largest file count a subtree rooted at `depth` may receive without overfilling its leaves. */
function capacity(shape, depth) {
  let dirs = 0;
  for (let i = 0; i <= shape.maxDepth - depth; i++) dirs += shape.maxFanout ** i;
  return dirs * shape.avgDirFiles;
}

// --- generation ---------------------------------------------------------------------------------

/** Builds the tree into `root` (must not exist). Returns the counts for the manifest. */
function generate(root, n, shape, log) {
  const { maxDepth: MAX_DEPTH, maxFanout: MAX_FANOUT, longNames } = shape;
  const rand = mulberry32(shape.seed ^ n);
  const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

  // 64 KiB of CSV-ish text; file contents are slices of it behind a unique first line.
  const poolRand = mulberry32(42);
  const rows = ['id,name,value,flag,ts'];
  while (rows.join('\n').length < 70_000) {
    const i = rows.length;
    rows.push(
      `${i},item_${Math.floor(poolRand() * 1e6).toString(36)},${(poolRand() * 1000).toFixed(4)},${poolRand() < 0.5},${1_600_000_000 + i * 37}`,
    );
  }
  const POOL = Buffer.from(rows.join('\n') + '\n');
  const POOL_MAX = 65_536;

  const recent = []; // ring of recent non-empty contents, source of deliberate duplicates
  let recentAt = 0;

  const stats = {
    files: 0,
    dirs: 0,
    bytes: 0,
    csvFiles: 0,
    csvGe2k: 0,
    ge2k: 0,
    emptyFiles: 0,
    hiddenFiles: 0,
    hiddenDirs: 0,
    duplicates: 0,
    mtimeSet: 0,
    maxDepth: 0,
    bigDirs: 0,
  };
  const started = Date.now();
  let nextReport = 25_000;

  function pickSize(ext) {
    const r = rand();
    if (ext === 'csv') {
      if (r < 0.35) return 0;
      if (r < 0.65) return randInt(1, 300);
      if (r < 0.85) return randInt(301, 1999);
      return randInt(2100, 6000);
    }
    if (BINARYISH.has(ext)) {
      if (r < 0.25) return 0;
      if (r < 0.6) return randInt(1, 300);
      if (r < 0.85) return randInt(301, 1999);
      return randInt(2100, 8000);
    }
    if (r < 0.55) return 0;
    if (r < 0.8) return randInt(1, 300);
    if (r < 0.95) return randInt(301, 1999);
    return randInt(2100, 8000);
  }

  function content(size, id) {
    if (recent.length > 0 && rand() < 0.03) {
      stats.duplicates++;
      return recent[randInt(0, recent.length - 1)];
    }
    const buf = Buffer.allocUnsafe(size);
    const head = Buffer.from(`#${id}\n`);
    let off = head.copy(buf, 0, 0, Math.min(head.length, size));
    while (off < size) {
      const start = randInt(0, POOL_MAX - 1);
      off += POOL.copy(buf, off, start, Math.min(POOL.length, start + size - off));
    }
    if (recent.length < 256) recent.push(buf);
    else recent[recentAt++ % 256] = buf;
    return buf;
  }

  function writeFile(dir, index) {
    const ext = EXT_TABLE[randInt(0, EXT_TABLE.length - 1)];
    const hidden = rand() < 0.03;
    let name;
    if (ext === '') name = `${NOEXT_NAMES[randInt(0, NOEXT_NAMES.length - 1)]}-${index}`;
    else {
      const stem = rand() < 0.5 ? FILE_STEMS[randInt(0, 9)] : FILE_STEMS_2[randInt(0, 9)];
      const sep = rand() < 0.02 ? ' ' : '_';
      name = `${stem}${sep}${String(index).padStart(4, '0')}.${ext}`;
      if (longNames) name = `${LONG_WORDS[randInt(0, LONG_WORDS.length - 1)]}-${name}`;
    }
    if (hidden) name = '.' + name;
    const file = path.join(dir, name);
    const size = pickSize(ext);
    if (size === 0) {
      fs.closeSync(fs.openSync(file, 'w'));
      stats.emptyFiles++;
    } else {
      const buf = content(size, stats.files);
      fs.writeFileSync(file, buf);
      stats.bytes += buf.length;
      if (buf.length >= 2000) {
        stats.ge2k++;
        if (ext === 'csv') stats.csvGe2k++;
      }
    }
    if (rand() < 0.2) {
      const t = MTIME_FROM + rand() * (MTIME_TO - MTIME_FROM);
      fs.utimesSync(file, t, t);
      stats.mtimeSet++;
    }
    if (ext === 'csv') stats.csvFiles++;
    if (hidden) stats.hiddenFiles++;
    stats.files++;
    if (stats.files >= nextReport) {
      nextReport += 25_000;
      const secs = (Date.now() - started) / 1000;
      const rate = stats.files / secs;
      log(
        `  ${stats.files.toLocaleString('en-US')} / ${n.toLocaleString('en-US')} files, ${stats.dirs.toLocaleString('en-US')} dirs, ${Math.round(rate).toLocaleString('en-US')} files/s, ETA ${Math.round((n - stats.files) / rate)} s`,
      );
    }
  }

  function dirName(depth, index) {
    if (depth === 1) return `proj-${String(index).padStart(2, '0')}`;
    if (rand() < 0.04) {
      stats.hiddenDirs++;
      return `${HIDDEN_DIR_WORDS[randInt(0, HIDDEN_DIR_WORDS.length - 1)]}-${index}`;
    }
    const word = rand() < 0.5 ? DIR_WORDS[randInt(0, 9)] : DIR_WORDS_2[randInt(0, 9)];
    return longNames ? `${word}_${LONG_WORDS[randInt(0, LONG_WORDS.length - 1)]}-${index}` : `${word}-${index}`;
  }

  /** Creates `budget` files in `dir` and below: some here, the rest split unevenly among subdirectories. */
  function fill(dir, depth, budget) {
    stats.maxDepth = Math.max(stats.maxDepth, depth);
    let own;
    if (depth === 0) own = Math.min(budget, 5);
    else if (rand() < shape.bigDirChance) {
      own = randInt(150, 700);
      stats.bigDirs++;
    } else own = randInt(shape.dirFiles[0], shape.dirFiles[1]);
    own = Math.min(own, budget);
    let rest = budget - own;
    if (depth >= MAX_DEPTH || rest < 10) {
      own += rest;
      rest = 0;
    }
    for (let i = 0; i < own; i++) writeFile(dir, i);
    if (rest === 0) return;

    let k;
    if (depth === 0) k = Math.min(24, Math.max(4, Math.round(Math.sqrt(n) / 60)));
    else k = randInt(2, MAX_FANOUT);
    k = Math.max(k, Math.ceil(rest / capacity(shape, depth + 1))); // never overfill a subtree
    k = Math.min(k, Math.max(1, Math.floor(rest / 10))); // nor make dust
    const weights = Array.from({ length: k }, () => 0.3 + rand() * 1.7);
    const total = weights.reduce((a, b) => a + b, 0);
    const budgets = weights.map((w) => Math.floor((rest * w) / total));
    budgets[0] += rest - budgets.reduce((a, b) => a + b, 0);
    for (let i = 0; i < k; i++) {
      const sub = path.join(dir, dirName(depth + 1, i));
      fs.mkdirSync(sub);
      stats.dirs++;
      fill(sub, depth + 1, budgets[i]);
    }
  }

  fs.mkdirSync(root, { recursive: true });
  fill(root, 0, n);
  return { ...stats, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

/**
 * Makes sure the tree for n files exists and is complete; generates it if not.
 * Returns its manifest (counts, generator version) with `root` added.
 */
export function ensureTree(n, { log = (s) => process.stderr.write(s + '\n'), shape = 'default' } = {}) {
  const params = SHAPES[shape];
  if (!params) throw new Error(`unknown tree shape '${shape}' (expected one of ${Object.keys(SHAPES).join(', ')})`);
  const existing = readManifest(n, shape);
  if (existing) {
    log(`tree: ${existing.root} (${n.toLocaleString('en-US')} files, ${shape} shape, generator v${GENERATOR_VERSION}) is cached`);
    return existing;
  }
  const { root, marker } = treePaths(n, shape);
  fs.rmSync(marker, { force: true });
  if (fs.existsSync(root)) {
    log(`tree: removing incomplete or outdated ${root}`);
    fs.rmSync(root, { recursive: true, force: true });
  }
  log(`tree: generating ${n.toLocaleString('en-US')} files in ${root}`);
  const stats = generate(root, n, params, log);
  if (stats.files !== n) throw new Error(`generator bug: made ${stats.files} files, wanted ${n}`);
  const manifest = { generatorVersion: GENERATOR_VERSION, shape, complete: true, createdAt: new Date().toISOString(), ...stats };
  fs.writeFileSync(marker, JSON.stringify(manifest, null, 2) + '\n');
  log(
    `tree: done in ${stats.seconds} s: ${stats.files.toLocaleString('en-US')} files (${stats.csvFiles} csv, ${stats.csvGe2k} csv >= 2k), ` +
      `${stats.dirs.toLocaleString('en-US')} dirs, depth ${stats.maxDepth}, ${(stats.bytes / 1e6).toFixed(1)} MB of content`,
  );
  return { ...manifest, root };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const m = ensureTree(resolveFileCount(process.argv[2]), { shape: process.argv[3] || 'default' });
  process.stdout.write(m.root + '\n');
}
