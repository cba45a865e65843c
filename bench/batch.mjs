#!/usr/bin/env node
// The batch commands against their peers: `filer rename` planning names from EXIF capture dates
// (vs exiftool -testname), and `filer copy --apply` of a tree of small files and of a set of large
// files (vs cp -r, rsync -a, rclone copy).
//
//   node bench/batch.mjs                  full size: 10,000 photos, 100,000-file tree, 1,000 MB of large files
//   BENCH_PHOTOS=500 BENCH_COPY_FILES=5000 BENCH_LARGE_MB=100 node bench/batch.mjs      quick run
//   node bench/run.mjs batch              via the harness
//
// Env: BENCH_PHOTOS (photos to rename, default 10,000), BENCH_COPY_FILES (files of the small-file tree,
//      default 100,000; the find benchmark's generator, bench/gen-tree.mjs), BENCH_LARGE_MB (total of the
//      large-file set in MB, default 1,000), BENCH_BATCH_PARTS (comma-separated subset of rename,tree,large;
//      default all), BENCH_RUNS (timed runs per command, default 3), BENCH_WARMUP (warm-up runs, default 1,
//      at least 1), BENCH_NO_INSTALL=1 (never apt-get install a missing peer), BENCH_TIMEOUT_MS (per run,
//      default 15 min).
//
// Method: every data set is generated once and cached under bench/.cache/ (gen-photos.mjs,
// gen-tree.mjs, gen-large-files.mjs), then read once in full so the page cache is warm for every
// run. Missing peers are apt-get installed when running as root (a peer that still cannot be had is
// reported n/a). Per command: warm-up run(s), then BENCH_RUNS timed rounds with the order of the
// commands rotated every round; time = median wall time, stdout → /dev/null.
//   rename: the first warm-up's stdout is captured and parsed; filer's ndjson plan, exiftool's
//     `'src' --> 'dst'` lines and the names the generator implies must be the same map.
//   copy: every run (warm-ups included) goes into a destination that does not exist yet, on the file
//     system of the source (a scratch directory under bench/.cache/); before each run (untimed) the
//     previous destination is deleted, filer's state database (XDG_CACHE_HOME, a scratch directory)
//     is reset, and `sync` flushes whatever is dirty, so each run starts from the same state. After
//     each run the `sync` that flushes its writes is timed on its own ("then sync": cp, rsync and
//     rclone leave their data in the page cache, filer fsyncs every file before linking it into
//     place), and the destination is checked against the source: same relative paths, sizes and
//     file count, same bytes (all of a small file, three 1 MiB windows of a large one; every file of
//     the large set, every 50th of the tree), and how many mtimes were kept (within 1 ms).
// filer runs with --hidden --no-ignore: the data sets sit under bench/.cache/, which the repo's
// .gitignore lists (and the tree holds hidden files); the peers neither skip hidden files nor read
// ignore files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, ensureTree, parseCount } from './gen-tree.mjs';
import { GENERATOR_VERSION as PHOTOS_VERSION, ensurePhotos, photoPlan, resolvePhotoCount } from './gen-photos.mjs';
import { GENERATOR_VERSION as LARGE_VERSION, ensureLargeFiles, resolveLargeMB } from './gen-large-files.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { onPath, intEnv, environmentNote } from './lib/env.mjs';
import { ensurePeers, versionOf } from './lib/peers.mjs';
import { warmPageCache } from './lib/page-cache.mjs';
import { fmtGB, fmtInt, fmtRatio, problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const FILER_MAIN = path.join(REPO, 'apps/cli/dist/main.js');
const RESULTS = path.join(BENCH_DIR, 'results/batch.md');

export const DEFAULT_COPY_FILES = 100_000;
const RENAME_TARGET = 0.1; // filer / exiftool
const TREE_TARGET = 1.2; // filer / cp -r
const LARGE_TARGET = 1.1; // filer / cp -r
const RENAME_TEMPLATE = '{date:YYYYMMDD_HHmmss}{ext}';
const PARTS = ['rename', 'tree', 'large'];

/** Peers: binary → Debian package. */
const PEERS = { exiftool: 'libimage-exiftool-perl', cp: 'coreutils', rsync: 'rsync', rclone: 'rclone' };

export const name = 'batch';

// --- helpers ------------------------------------------------------------------------------------

/** Every entry below `root`: relative path → {size, mtimeNs} for regular files; `others` counts the rest (dirs excluded). */
function listTree(root) {
  const files = new Map();
  let others = 0;
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop();
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) stack.push(r);
      else if (e.isFile()) {
        const st = fs.lstatSync(path.join(root, r), { bigint: true });
        files.set(r, { size: Number(st.size), mtimeNs: st.mtimeNs });
      } else others++;
    }
  }
  return { files, others };
}

const WINDOW = 2 ** 20;

/** Same bytes? Whole files up to 3 MiB, else three 1 MiB windows (start, middle, end). */
function sameBytes(a, b, size) {
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const spans = size <= 3 * WINDOW ? [[0, size]] : [0, Math.floor(size / 2) - WINDOW / 2, size - WINDOW].map((at) => [at, WINDOW]);
    const ba = Buffer.allocUnsafe(Math.min(size, 3 * WINDOW));
    const bb = Buffer.allocUnsafe(ba.length);
    for (const [at, len] of spans) {
      const n = fs.readSync(fa, ba, 0, len, at);
      const m = fs.readSync(fb, bb, 0, len, at);
      if (n !== len || m !== len || ba.compare(bb, 0, len, 0, len) !== 0) return false;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/**
 * Compares a copy with its source listing: counts, bytes, paths, sizes, sampled contents, mtimes.
 * @returns {{files, bytes, missing, extra, sizeDiffers, others, compared, contentDiffers, mtimeKept, ok, examples}}
 */
function checkCopy(src, srcRoot, dest, sampleEvery) {
  const out = { files: 0, bytes: 0, missing: 0, extra: 0, sizeDiffers: 0, others: 0, compared: 0, contentDiffers: 0, mtimeKept: 0 };
  const examples = [];
  if (!fs.existsSync(dest)) return { ...out, ok: false, examples: [`${dest} does not exist`] };
  const got = listTree(dest);
  out.others = got.others;
  let i = 0;
  for (const [rel, f] of got.files) {
    out.files++;
    out.bytes += f.size;
    const s = src.files.get(rel);
    if (s === undefined) {
      out.extra++;
      if (examples.length < 3) examples.push(`extra: ${rel}`);
      continue;
    }
    if (s.size !== f.size) {
      out.sizeDiffers++;
      if (examples.length < 3) examples.push(`size: ${rel} ${f.size} ≠ ${s.size}`);
      continue;
    }
    const dt = s.mtimeNs - f.mtimeNs;
    if (dt < 1_000_000n && dt > -1_000_000n) out.mtimeKept++;
    if (i++ % sampleEvery === 0) {
      out.compared++;
      if (!sameBytes(path.join(srcRoot, rel), path.join(dest, rel), f.size)) {
        out.contentDiffers++;
        if (examples.length < 3) examples.push(`content: ${rel}`);
      }
    }
  }
  for (const rel of src.files.keys()) {
    if (!got.files.has(rel)) {
      out.missing++;
      if (examples.length < 3) examples.push(`missing: ${rel}`);
    }
  }
  const srcBytes = [...src.files.values()].reduce((n, f) => n + f.size, 0);
  out.ok =
    out.files === src.files.size &&
    out.bytes === srcBytes &&
    out.missing === 0 &&
    out.extra === 0 &&
    out.sizeDiffers === 0 &&
    out.contentDiffers === 0 &&
    out.others === 0;
  return { ...out, examples };
}

function timedSync() {
  const t0 = process.hrtime.bigint();
  spawnSync('sync', [], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function removeTree(p) {
  if (!fs.existsSync(p)) return;
  const r = spawnSync('rm', ['-rf', '--', p], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 || fs.existsSync(p)) fs.rmSync(p, { recursive: true, force: true });
}

// --- parsing what the tools reported ------------------------------------------------------------

/** filer's ndjson plan: source → target (absolute), plus where each date came from. */
function parseFilerPlan(text) {
  const map = new Map();
  const sources = {};
  let conflicts = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line);
    if (o.action === 'conflict') conflicts++;
    else {
      map.set(path.resolve(o.source), path.resolve(o.target));
      sources[o.dateSource ?? 'none'] = (sources[o.dateSource ?? 'none'] ?? 0) + 1;
    }
  }
  return { map, sources, conflicts };
}

/** exiftool -testname: one `'src' --> 'dst'` line a file, then the counts. */
function parseExiftoolTestName(text) {
  const map = new Map();
  let other = 0;
  for (const line of text.split('\n')) {
    const m = /^'(.*)' --> '(.*)'$/.exec(line);
    if (m) map.set(path.resolve(m[1]), path.resolve(m[2]));
    else if (line.trim() !== '' && !/^\s*\d+ (directories scanned|image files (updated|unchanged))$/.test(line)) other++;
  }
  return { map, other };
}

/** filer's job summary on stderr: "job ID completed: N done, N undone, N failed, N skipped, N pending". */
function parseJobSummary(stderr) {
  const m = /job (\S+) (\w+): (\d+) done, (\d+) undone, (\d+) failed, (\d+) skipped, (\d+) pending/.exec(stderr);
  return m ? { state: m[2], done: Number(m[3]), failed: Number(m[5]), pending: Number(m[7]) } : undefined;
}

/** Compares two source → target maps. */
function compareMaps(a, b) {
  let differ = 0;
  let onlyA = 0;
  const examples = [];
  for (const [src, dst] of a) {
    if (!b.has(src)) {
      onlyA++;
      if (examples.length < 3) examples.push(`${src}: only in the first`);
    } else if (b.get(src) !== dst) {
      differ++;
      if (examples.length < 3) examples.push(`${src}: ${dst} ≠ ${b.get(src)}`);
    }
  }
  let onlyB = 0;
  for (const src of b.keys()) if (!a.has(src)) onlyB++;
  return { equal: differ === 0 && onlyA === 0 && onlyB === 0, differ, onlyA, onlyB, examples };
}

// --- running ------------------------------------------------------------------------------------

async function runOne(label, cmd, mode, log, failures, benignStderr) {
  const r = await measure(cmd, mode);
  if (r.code !== 0 || r.signal) {
    failures.push(
      `${label}: exit ${r.code ?? r.signal}\n    ${cmd.display}\n    ${r.stderr.trim().split('\n').slice(0, 10).join('\n    ')}`,
    );
    log(`  !!! ${label} FAILED (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  } else {
    const noisy = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '' && !benignStderr?.test(l));
    if (noisy.length > 0) log(`  (${label} wrote to stderr: ${noisy[0].slice(0, 200)})`);
  }
  return r;
}

/**
 * Warm-ups (the first one captured and handed to `c.parse` when the case has one), then `runs`
 * rotated timed rounds; `c.before()` runs before and `c.after(result)` after every run, untimed.
 * Fills c.res = {ms[], rss[], median, maxRss, failed}.
 */
async function timeCases(cases, { runs, warmups, log, failures }) {
  for (const c of cases) {
    c.res = { ms: [], rss: [] };
    log(`${c.label}: ${warmups} warm-up run(s)`);
    for (let w = 0; w < warmups; w++) {
      c.before?.();
      const mode = w === 0 && c.parse ? 'capture' : 'null';
      const r = await runOne(`${c.label} (warm-up)`, c.cmd, mode, log, failures, c.benignStderr);
      if (r.code !== 0 || r.signal) c.res.failed = true;
      if (r.rssKB !== undefined) c.res.rss.push(r.rssKB);
      if (w === 0 && !c.res.failed) c.parsed = c.parse?.(r.text ?? '');
      c.after?.(r, { warmup: true });
    }
  }
  for (let i = 0; i < runs; i++) {
    const k = i % cases.length;
    const order = [...cases.slice(k), ...cases.slice(0, k)];
    log(`timed round ${i + 1}/${runs}: ${order.map((c) => c.label).join(' → ')}`);
    for (const c of order) {
      c.before?.();
      // A failed warm-up left nothing to check: capture this run instead (costs it a pipe).
      const capture = c.parse && c.parsed === undefined;
      const r = await runOne(c.label, c.cmd, capture ? 'capture' : 'null', log, failures, c.benignStderr);
      if (r.code !== 0 || r.signal) c.res.failed = true;
      else if (capture) c.parsed = c.parse(r.text ?? '');
      c.res.ms.push(r.ms);
      if (r.rssKB !== undefined) c.res.rss.push(r.rssKB);
      c.after?.(r, { warmup: false });
    }
  }
  for (const c of cases) {
    c.res.median = median(c.res.ms);
    c.res.maxRss = c.res.rss.length > 0 ? Math.max(...c.res.rss) : undefined;
    log(`  ${c.label}: median ${formatMs(c.res.median)} [${c.res.ms.map(formatMs).join(', ')}], peak RSS ${formatMB(c.res.maxRss)}`);
  }
}

// --- part 1: rename plan by capture date --------------------------------------------------------

async function renamePart({ photos, peers, xdg, runs, warmups, log, failures, problems }) {
  const root = photos.root;
  const warm = warmPageCache(root);
  log(`rename: page cache warmed: read ${fmtInt(warm.files)} files, ${(warm.bytes / 1e6).toFixed(1)} MB in ${formatMs(warm.ms)}`);
  const expected = new Map(photoPlan(photos.files).map((p) => [path.join(root, p.name), path.join(root, p.stamp + '.jpg')]));
  const all = [
    {
      key: 'filer',
      label: 'filer rename',
      filer: true,
      cmd: {
        cmd: process.execPath,
        args: [FILER_BIN, 'rename', root, '--to', RENAME_TEMPLATE, '--format', 'ndjson', '--hidden', '--no-ignore'],
        env: { XDG_CACHE_HOME: xdg },
        display: `filer rename P --to '${RENAME_TEMPLATE}' --format ndjson --hidden --no-ignore`,
      },
      parse: parseFilerPlan,
    },
    {
      key: 'exiftool',
      label: 'exiftool -testname',
      bin: 'exiftool',
      cmd: {
        cmd: peers.exiftool,
        args: ['-d', '%Y%m%d_%H%M%S.%%e', '-testname<DateTimeOriginal', root],
        display: "exiftool -d '%Y%m%d_%H%M%S.%%e' '-testname<DateTimeOriginal' P",
      },
      parse: parseExiftoolTestName,
    },
  ];
  const naCases = all.filter((c) => c.bin && !peers[c.bin]);
  const cases = all.filter((c) => !naCases.includes(c));
  for (const c of naCases) log(`rename: ${c.label} n/a (not installed)`);
  log(`rename: ${cases.length} commands on ${root}, ${warmups} warm-up + ${runs} timed runs each`);
  await timeCases(cases, { runs, warmups, log, failures });

  const filer = cases.find((c) => c.key === 'filer');
  const exif = cases.find((c) => c.key === 'exiftool');
  const checkRows = [];
  let filerMismatch = false;
  checkRows.push(['generator (truth)', fmtInt(expected.size), '—', '—', '—']);
  for (const c of all) {
    if (naCases.includes(c)) {
      checkRows.push([c.label, 'n/a', 'n/a', 'n/a', 'n/a']);
      continue;
    }
    const p = c.parsed;
    if (!p) {
      checkRows.push([c.label, '?', c.res.failed ? '**FAILED**' : '?', '?', '—']);
      if (c.filer) filerMismatch = true;
      continue;
    }
    const vsGen = compareMaps(p.map, expected);
    const vsExif = c !== exif && exif?.parsed ? compareMaps(p.map, exif.parsed.map) : undefined;
    const describe = (cmp, other) =>
      cmp.equal ? 'equal' : `**DIFFER**: ${cmp.differ} other names, ${cmp.onlyA} files only here, ${cmp.onlyB} only in ${other}`;
    const extra = c.filer
      ? `date sources: ${Object.entries(p.sources)
          .map(([k, n]) => `${k} ${fmtInt(n)}`)
          .join(', ')}; ${p.conflicts} conflicts`
      : `${p.other} other output lines`;
    checkRows.push([
      c.label,
      fmtInt(p.map.size),
      describe(vsGen, 'the generator'),
      vsExif === undefined ? '—' : describe(vsExif, 'exiftool'),
      extra,
    ]);
    if (!vsGen.equal) problems.push(`${c.label} ≠ generator: ${vsGen.examples.join(' | ')}`);
    if (vsExif && !vsExif.equal) problems.push(`${c.label} ≠ exiftool: ${vsExif.examples.join(' | ')}`);
    if (c.filer && (!vsGen.equal || (vsExif && !vsExif.equal) || p.conflicts > 0)) filerMismatch = true;
    if (c.filer && p.conflicts > 0) problems.push(`${c.label}: ${p.conflicts} conflicts in the plan`);
    if (c === exif && !vsGen.equal) filerMismatch = true; // the reference disagrees with the truth: the comparison is void
  }
  const ratio = filer && exif && !exif.res.failed ? filer.res.median / exif.res.median : undefined;
  return { all, cases, naCases, filer, ref: exif, ratio, checkRows, filerMismatch, warm };
}

// --- parts 2 and 3: copy ------------------------------------------------------------------------

async function copyPart({ key, title, root, expect, sampleEvery, target, peers, scratch, xdg, runs, warmups, log, failures, problems }) {
  const warm = warmPageCache(root);
  log(`${key}: page cache warmed: read ${fmtInt(warm.files)} files, ${fmtGB(warm.bytes)} in ${formatMs(warm.ms)}`);
  const src = listTree(root);
  const srcBytes = [...src.files.values()].reduce((n, f) => n + f.size, 0);
  if (src.files.size !== expect.files || srcBytes !== expect.bytes || src.others !== 0)
    problems.push(
      `${title}: the source holds ${src.files.size} files / ${srcBytes} bytes (+${src.others} non-files), its generator says ${expect.files} / ${expect.bytes}`,
    );
  const destParent = fs.mkdtempSync(path.join(scratch, `${key}-`));
  if (fs.statSync(destParent).dev !== fs.statSync(root).dev)
    problems.push(`${title}: the destinations are not on the file system of the source`);
  const dest = path.join(destParent, 'D');
  const resetState = () => removeTree(path.join(xdg, 'filer'));
  // Two filer runs: the default, durable (each copy flushed before its name appears), compared with
  // the peers plus the sync that makes their copies durable too; and, for large files, --no-fsync,
  // which like the peers leaves the writeback to the kernel, compared with them as they are.
  const filerCase = (key, label, extra, likeForLike) => ({
    key,
    label,
    filer: true,
    likeForLike,
    cmd: {
      cmd: process.execPath,
      args: [FILER_BIN, 'copy', root, '--dest', dest, '--apply', '--hidden', '--no-ignore', ...extra],
      env: { XDG_CACHE_HOME: xdg },
      display: ['filer copy S --dest D --apply --hidden --no-ignore', ...extra].join(' '),
    },
    benignStderr: /^filer: job \S+ (journaled \d+ actions; applying|completed: )/,
  });
  const all = [
    filerCase('filer', 'filer copy --apply', [], 'incl. sync'),
    // Only on large files: on many small ones it was slower than the default here (the README says why).
    ...(key === 'large' ? [filerCase('filer-nofsync', 'filer copy --apply --no-fsync', ['--no-fsync'], 'plain')] : []),
    { key: 'cp', label: 'cp -r', bin: 'cp', cmd: { cmd: peers.cp, args: ['-r', root, dest], display: 'cp -r S D' } },
    {
      key: 'rsync',
      label: 'rsync -a',
      bin: 'rsync',
      cmd: { cmd: peers.rsync, args: ['-a', root + '/', dest + '/'], display: 'rsync -a S/ D/' },
    },
    {
      key: 'rclone',
      label: 'rclone copy',
      bin: 'rclone',
      cmd: {
        cmd: onPath('env') ?? 'env',
        args: ['-u', 'AWS_CA_BUNDLE', peers.rclone, 'copy', root, dest, '--transfers', '16'],
        display: 'env -u AWS_CA_BUNDLE rclone copy S D --transfers 16',
      },
      benignStderr: /NOTICE: Config file .* not found - using defaults/,
    },
  ];
  const naCases = all.filter((c) => c.bin && !peers[c.bin]);
  const cases = all.filter((c) => !naCases.includes(c));
  for (const c of naCases) log(`${key}: ${c.label} n/a (not installed)`);
  for (const c of cases) {
    c.checks = [];
    c.syncMs = [];
    c.totalMs = [];
    c.before = () => {
      removeTree(dest);
      if (c.filer) resetState();
      spawnSync('sync', [], { stdio: 'ignore' });
    };
    c.after = (r, { warmup }) => {
      const syncMs = timedSync();
      if (!warmup) {
        c.syncMs.push(syncMs);
        c.totalMs.push(r.ms + syncMs);
      }
      const chk = checkCopy(src, root, dest, sampleEvery);
      if (c.filer) {
        const job = parseJobSummary(r.stderr);
        chk.job = job;
        if (!job || job.state !== 'completed' || job.done !== src.files.size || job.failed !== 0 || job.pending !== 0) {
          chk.ok = false;
          chk.examples.push(
            `job summary: ${job ? `${job.state}, ${job.done} done, ${job.failed} failed, ${job.pending} pending` : 'none on stderr'}`,
          );
        }
      }
      c.checks.push(chk);
      if (!chk.ok) {
        log(
          `  !!! ${c.label}: the copy differs from the source: ${fmtInt(chk.files)} files, ${fmtInt(chk.bytes)} bytes; ${chk.missing} missing, ${chk.extra} extra, ${chk.sizeDiffers} other sizes, ${chk.contentDiffers} other bytes, ${chk.others} non-files; ${chk.examples.join(' | ')}`,
        );
      }
      removeTree(dest);
    };
  }
  log(
    `${key}: ${cases.length} commands, ${fmtInt(src.files.size)} files / ${fmtGB(srcBytes)} from ${root}, ${warmups} warm-up + ${runs} timed runs each`,
  );
  try {
    await timeCases(cases, { runs, warmups, log, failures });
  } finally {
    removeTree(destParent);
  }

  let filerMismatch = false;
  const checkRows = all.map((c) => {
    if (naCases.includes(c)) return [c.label, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'];
    const bad = c.checks.filter((k) => !k.ok);
    const last = c.checks[c.checks.length - 1];
    if (bad.length > 0) {
      problems.push(
        `${title}: ${c.label}: ${bad.length} of ${c.checks.length} copies differ from the source, e.g. ${bad[0].files} files / ${bad[0].bytes} bytes: ${bad[0].examples.join(' | ')}`,
      );
      if (c.filer) filerMismatch = true;
    }
    const kept = (k) => `${((100 * k.mtimeKept) / Math.max(1, k.files)).toFixed(0)}%`;
    return [
      c.label,
      `${c.checks.length - bad.length} / ${c.checks.length}`,
      last ? fmtInt(last.files) : '—',
      last ? fmtInt(last.bytes) : '—',
      last ? `${fmtInt(last.compared)} compared, ${last.contentDiffers} differ` : '—',
      last ? kept(last) : '—',
      bad.length === 0 ? 'ok' : '**DIFFERS**',
    ];
  });
  const ref = cases.find((c) => c.key === 'cp');
  const filers = cases.filter((c) => c.filer);
  return {
    key,
    title,
    root,
    target,
    all,
    cases,
    naCases,
    filers,
    ref,
    checkRows,
    filerMismatch,
    src: { files: src.files.size, bytes: srcBytes },
    warm,
  };
}

// --- the benchmark ------------------------------------------------------------------------------

/**
 * Runs the batch benchmark and writes bench/results/batch.md.
 * `manifest` (the find tree's) is used as the copy source when it has BENCH_COPY_FILES files.
 * @returns {Promise<{ok: boolean, markdown: string}>} ok = no failed run, filer's plan equals exiftool's and the
 *   generator's, and every filer copy equals its source (missed performance targets don't make it false)
 */
export async function run({ manifest, log = (s) => process.stderr.write(s + '\n') } = {}) {
  if (!fs.existsSync(FILER_MAIN)) throw new Error(`${FILER_MAIN} is missing: run 'npm run build' first (npm run bench does)`);
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const warmups = intEnv('BENCH_WARMUP', 1, 1);
  const nPhotos = resolvePhotoCount();
  const nCopy = process.env.BENCH_COPY_FILES ? parseCount(process.env.BENCH_COPY_FILES) : DEFAULT_COPY_FILES;
  const largeMB = resolveLargeMB();
  const parts = (process.env.BENCH_BATCH_PARTS ?? PARTS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const badPart = parts.find((p) => !PARTS.includes(p));
  if (badPart) throw new Error(`BENCH_BATCH_PARTS: unknown part '${badPart}' (have: ${PARTS.join(', ')})`);

  const loadAtStart = os.loadavg();
  // --- data sets, peers, scratch ----------------------------------------------------------------
  const photos = parts.includes('rename') ? ensurePhotos(nPhotos, { log }) : undefined;
  const tree = !parts.includes('tree') ? undefined : manifest?.files === nCopy && manifest.root ? manifest : ensureTree(nCopy, { log });
  const large = parts.includes('large') ? ensureLargeFiles(largeMB, { log }) : undefined;
  const wanted = [...(photos ? ['exiftool'] : []), ...(tree || large ? ['cp', 'rsync', 'rclone'] : [])];
  const peers = ensurePeers('batch', PEERS, wanted, log);

  const scratch = fs.mkdtempSync(path.join(CACHE_DIR, 'batch-scratch-')); // same file system as the sources
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-batch-xdg-'));
  const cleanup = () => {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(xdg, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const failures = [];
  const problems = [];
  const common = { peers, xdg, scratch, runs, warmups, log, failures, problems };

  let rename;
  const copies = [];
  try {
    if (photos) {
      log(`\nrename plan by capture date: ${fmtInt(photos.files)} photos in ${photos.root}`);
      rename = await renamePart({ photos, ...common });
    }
    if (tree) {
      log(`\ncopy of the ${fmtInt(tree.files)}-file tree ${tree.root}`);
      copies.push(
        await copyPart({
          key: 'tree',
          title: `copy of ${fmtInt(tree.files)} small files`,
          root: tree.root,
          expect: { files: tree.files, bytes: tree.bytes },
          sampleEvery: 50,
          target: TREE_TARGET,
          ...common,
        }),
      );
    }
    if (large) {
      log(`\ncopy of the large-file set ${large.root}`);
      copies.push(
        await copyPart({
          key: 'large',
          title: `copy of ${large.files} large files, ${fmtGB(large.bytes)}`,
          root: large.root,
          expect: { files: large.files, bytes: large.bytes },
          sampleEvery: 1,
          target: LARGE_TARGET,
          ...common,
        }),
      );
    }
  } finally {
    cleanup();
  }

  // --- report -----------------------------------------------------------------------------------
  const met = (c, ratio, target) =>
    c.res.failed ? '**FAILED RUNS**' : target === undefined ? '—' : ratio === undefined ? 'n/a' : ratio <= target ? 'yes' : '**NO**';
  const summaryRows = [];
  if (rename) {
    const { filer, ref } = rename;
    summaryRows.push([
      `rename plan by capture date, ${fmtInt(photos.files)} photos`,
      filer ? formatMs(filer.res.median) : '—',
      'exiftool -testname',
      ref ? formatMs(ref.res.median) : 'n/a',
      fmtRatio(rename.ratio),
      '—',
      `≤ ${RENAME_TARGET.toFixed(2)}`,
      filer ? met(filer, rename.ratio, RENAME_TARGET) : '—',
    ]);
  }
  for (const cp of copies) {
    for (const filer of cp.filers) {
      cp.all
        .filter((c) => !c.filer)
        .forEach((c, i) => {
          const na = cp.naCases.includes(c);
          const ratio = !na && !c.res.failed ? filer.res.median / c.res.median : undefined;
          const withSync = !na && !c.res.failed ? median(filer.totalMs) / median(c.totalMs) : undefined;
          const isRef = c.key === 'cp';
          summaryRows.push([
            i === 0 ? `${cp.title}${filer.key === 'filer' ? '' : ', --no-fsync'}` : '',
            i === 0 ? formatMs(filer.res.median) : '',
            c.label,
            na ? 'n/a' : formatMs(c.res.median),
            fmtRatio(ratio),
            fmtRatio(withSync),
            isRef ? `≤ ${cp.target.toFixed(2)} (${filer.likeForLike})` : '—',
            isRef ? met(filer, filer.likeForLike === 'plain' ? ratio : withSync, cp.target) : '—',
          ]);
        });
    }
  }

  const renameRows = rename
    ? rename.all.map((c) => {
        if (rename.naCases.includes(c)) return [c.label, 'n/a', '—', '—', '—', 'n/a', '`' + c.cmd.display + '`'];
        const ratio = rename.ref && !rename.ref.res.failed ? c.res.median / rename.ref.res.median : undefined;
        return [
          c.label,
          formatMs(c.res.median),
          fmtRatio(ratio),
          c.filer ? `≤ ${RENAME_TARGET.toFixed(2)}` : '—',
          c.filer ? met(c, ratio, RENAME_TARGET) : '—',
          formatMB(c.res.maxRss),
          '`' + c.cmd.display + '`',
        ];
      })
    : [];
  const copyRows = (cp) =>
    cp.all.map((c) => {
      if (cp.naCases.includes(c)) return [c.label, 'n/a', '—', '—', '—', '—', '—', 'n/a', '`' + c.cmd.display + '`'];
      const ratio = cp.ref && !cp.ref.res.failed ? c.res.median / cp.ref.res.median : undefined;
      const withSync = cp.ref && !cp.ref.res.failed ? median(c.totalMs) / median(cp.ref.totalMs) : undefined;
      return [
        c.label,
        formatMs(c.res.median),
        fmtRatio(ratio),
        c.filer ? `≤ ${cp.target.toFixed(2)} (${c.likeForLike})` : '—',
        c.filer ? met(c, c.likeForLike === 'plain' ? ratio : withSync, cp.target) : '—',
        formatMs(median(c.syncMs)),
        formatMs(median(c.totalMs)),
        formatMB(c.res.maxRss),
        '`' + c.cmd.display + '`',
      ];
    });
  const runRows = [
    ...(rename ? rename.cases.map((c) => ['rename', c.label, c.res.ms.map(formatMs).join(', '), '—']) : []),
    ...copies.flatMap((cp) => cp.cases.map((c) => [cp.key, c.label, c.res.ms.map(formatMs).join(', '), c.syncMs.map(formatMs).join(', ')])),
  ];

  const cpus = os.cpus();
  const loads = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const toolVersions = [
    `filer (this repo, node ${process.version})`,
    ...wanted.map((b) => {
      if (!peers[b]) return `${b}: n/a`;
      if (b === 'exiftool') return `exiftool ${versionOf(peers[b], ['-ver'])}`;
      if (b === 'rclone') return versionOf(onPath('env') ?? 'env', ['-u', 'AWS_CA_BUNDLE', peers[b], 'version']);
      return versionOf(peers[b]).replace(/\s+/g, ' ');
    }),
  ];
  const dataLines = [];
  if (photos)
    dataLines.push(
      `- photos (P): \`${path.relative(REPO, photos.root)}\` (generator v${PHOTOS_VERSION}) — ${fmtInt(photos.files)} JPEGs of ${photos.bytesPerFile} bytes in one directory, ` +
        `each with its own EXIF DateTimeOriginal (${photos.firstDate} … ${photos.lastDate}); rename template \`${RENAME_TEMPLATE}\``,
    );
  if (tree)
    dataLines.push(
      `- small-file tree (S): \`${path.relative(REPO, tree.root)}\` (bench/gen-tree.mjs, generator v${tree.generatorVersion}) — ${fmtInt(tree.files)} files in ${fmtInt(tree.dirs)} dirs, depth ≤ ${tree.maxDepth}, ` +
        `${(tree.bytes / 1e6).toFixed(1)} MB of content, ${fmtInt(tree.emptyFiles)} empty files, ${fmtInt(tree.hiddenFiles)} hidden files and ${fmtInt(tree.hiddenDirs)} hidden dirs`,
    );
  if (large)
    dataLines.push(
      `- large files (S): \`${path.relative(REPO, large.root)}\` (generator v${LARGE_VERSION}) — ${large.files} files, ${fmtGB(large.bytes)} (${fmtInt(large.bytes)} bytes), ` +
        `${(large.minSize / 1e6).toFixed(1)}–${(large.maxSize / 1e6).toFixed(1)} MB each, incompressible`,
    );
  const md = [
    '# filer batch benchmark (rename plan, copy)',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; node ${process.version}${environmentNote()}` +
      `; load average (1/5/15 min) ${loads(loadAtStart)} at the start, ${loads(os.loadavg())} at the end`,
    ...dataLines,
    `- tools: ${toolVersions.join('; ')}`,
    `- method: page cache warmed by reading every source file once; per command ${warmups} warm-up run + ${runs} timed runs, stdout → /dev/null, ` +
      `command order rotated each round; time = median wall time; ratio = time / peer time; peak RSS = max over all runs, ${HAS_GNU_TIME ? 'GNU time %M' : '/proc VmHWM polled every 10 ms'}. ` +
      `Rename: the plans of the first warm-up runs are parsed and compared. ` +
      `Copy: every run writes a destination D that does not exist yet, on the source's file system; before each run (untimed) the previous D is deleted, ` +
      `filer's state database (XDG_CACHE_HOME in a scratch directory) is reset and \`sync\` is run; after each run the \`sync\` that flushes its writes is timed separately ("then sync") ` +
      `and D is checked against S. filer runs with --hidden --no-ignore because the data sits under the repo's git-ignored bench/.cache/ (the peers read ignore files not at all)`,
    '',
    '## Summary',
    '',
    'filer / peer = ratio of the median wall times; "incl. sync" = the same with each copy\'s following `sync` added to both sides. ' +
      'The copy target is read like for like: filer\'s default copy is durable (each file flushed before its name appears), so it is held to the peers\' time plus the `sync` that makes theirs durable ("incl. sync"); ' +
      'with --no-fsync filer, like cp, rsync and rclone, leaves the writeback to the kernel and is held to their plain time ("plain").',
    '',
    markdownTable(['task', 'filer', 'peer', 'peer time', 'filer / peer', 'filer / peer incl. sync', 'target', 'met?'], summaryRows),
  ];
  if (rename) {
    md.push(
      `## Rename plan by capture date (P = ${fmtInt(photos.files)} photos)`,
      '',
      "Both only plan: filer prints its plan as ndjson, `exiftool -testname` prints `'src' --> 'dst'` per file; neither renames anything.",
      '',
      markdownTable(['case', 'median', 'ratio vs exiftool', 'target', 'met?', 'peak RSS', 'command'], renameRows),
      '### Plans (sanity check)',
      '',
      "Plans are compared as maps source → target (absolute paths); the generator knows every photo's date, hence its new name.",
      '',
      markdownTable(['source', 'renames', 'vs generator', 'vs exiftool', 'notes'], rename.checkRows),
    );
  }
  for (const cp of copies) {
    md.push(
      `## ${cp.title[0].toUpperCase()}${cp.title.slice(1)} (S = \`${path.relative(REPO, cp.root)}\`, D = a fresh destination)`,
      '',
      '"then sync" = median time of the `sync` run right after the command (its writes reaching the disk); "command + sync" = median of the sums. ' +
        'filer (by default) flushes its copies before linking them into place, so its own time already includes most of that; with --no-fsync it, like cp, rsync and rclone, leaves the writes to the kernel.',
      '',
      markdownTable(
        ['case', 'median', 'ratio vs cp -r', 'target', 'met?', 'then sync', 'command + sync', 'peak RSS', 'command'],
        copyRows(cp),
      ),
      '### Destination checks (after every run, warm-ups included)',
      '',
      `Each copy is compared with the source: relative paths, sizes, file count and total bytes must match; bytes are compared for ${cp.key === 'large' ? 'every file (three 1 MiB windows each)' : 'every 50th file (whole files)'}; ` +
        '"mtimes kept" = share of files whose mtime equals the source\'s within 1 ms (informational: `cp -r` does not keep them, the others do). Counts are from the last run.',
      '',
      markdownTable(['case', 'runs ok', 'files', 'bytes', 'contents', 'mtimes kept', 'check'], cp.checkRows),
    );
  }
  md.push('## All timed runs', '', markdownTable(['part', 'case', 'runs', 'then sync'], runRows));
  const problemList = [
    { label: 'PROBLEM', items: problems },
    { label: 'FAILED RUN', items: failures },
  ];
  md.push(...problemsSection(problemList));
  const markdown = md.join('\n');
  writeReport('batch', RESULTS, markdown, problemList, log);
  const filerMismatch = (rename?.filerMismatch ?? false) || copies.some((c) => c.filerMismatch);
  if (filerMismatch) {
    log(
      "\n!!!!!!!!!! MISMATCH: filer's rename plan differs from exiftool's or the generator's, or a filer copy differs from its source !!!!!!!!!!",
    );
  }
  return { ok: !filerMismatch && failures.length === 0, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ok } = await run({});
  process.exitCode = ok ? 0 : 1;
}
