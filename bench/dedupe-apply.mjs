#!/usr/bin/env node
// `filer dupes ROOT --action hardlink --apply` against `jdupes -r -L ROOT`, each on its own fresh
// `cp -a` of the same tree in every round (issue 18, Speed: filer ≤ 1.0× jdupes).
//
//   node bench/run.mjs dedupe-apply              both trees, BENCH_RUNS rounds (default 3)
//   node bench/dedupe-apply.mjs                  the same, directly
//
// Trees: "corpus" is the duplicates benchmark's (bench/gen-dupes-corpus.mjs: 54,000 files,
// 2.2 GB, ~1,550 directories up to 5 levels; BENCH_DUPES_FILES / BENCH_DUPES_BYTES as there);
// "deep" is made here and was not used to tune anything: BENCH_DEEP_FILES (default 60,000) small
// files, 1–16 KiB, in directories 6 to 12 levels deep with 2–5 subdirectories each, 35% of them a
// copy of an earlier file placed anywhere in the tree (seeded, the same on every machine).
// BENCH_DEDUPE_TREES=corpus,deep picks the trees; BENCH_BASE=DIR adds another built checkout's
// filer to the same rounds ("filer (base)"), for a before/after beside the same jdupes runs.
//
// Method: per round and tree, for each tool in turn (the order rotated every round): remove the
// previous copy, `cp -a` the tree afresh, `sync`, then time the tool (GNU time: wall, CPU, peak
// RSS). filer runs with a fresh, empty cache database (XDG_CACHE_HOME in a temp dir), `--hidden
// --no-ignore` (the peers neither skip hidden files nor read ignore files). After each run the
// linked names are read back: names outside .filer-quarantine grouped by inode, groups of two or
// more; filer's groups must equal jdupes' in every round, or the run fails.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDupesCorpus, resolveDupesConfig } from './gen-dupes-corpus.mjs';
import { CACHE_DIR } from './gen-tree.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { environmentNote, intEnv, onPath } from './lib/env.mjs';
import { mulberry32 } from './lib/random.mjs';
import { fmtRatio, problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_MAIN = path.join(REPO, 'apps/cli/dist/main.js');
const RESULTS = path.join(BENCH_DIR, 'results/dedupe-apply.md');
const DEEP_VERSION = 1;

export const name = 'dedupe-apply';
export const usesTree = false;

/** The "deep" tree: generated once into bench/.cache/dedupe-deep-N-vV (a marker file says it is complete). */
export function ensureDeepTree(files, log) {
  const root = path.join(CACHE_DIR, `dedupe-deep-${files}-v${DEEP_VERSION}`);
  const done = path.join(CACHE_DIR, `dedupe-deep-${files}-v${DEEP_VERSION}.done`);
  if (fs.existsSync(done)) return root;
  fs.rmSync(root, { recursive: true, force: true });
  log(`dedupe-apply: generating the deep tree (${files.toLocaleString('en-US')} files) in ${root}`);
  const rnd = mulberry32(0xd0d0);
  const dirs = [];
  // Directories: random walks down from the root, 6–12 levels, 2–5 children a level.
  for (let i = 0; dirs.length < Math.ceil(files / 8); i++) {
    let d = root;
    const depth = 6 + Math.floor(rnd() * 7);
    for (let l = 0; l < depth; l++) d = path.join(d, `level${l}-${Math.floor(rnd() * (2 + Math.floor(rnd() * 4)))}`);
    dirs.push(d);
  }
  for (const d of new Set(dirs)) fs.mkdirSync(d, { recursive: true });
  // Content: slices of one seeded 16 MiB pool, each headed by its file's number (so no two collide).
  const pool = Buffer.allocUnsafe(16 << 20);
  for (let b = 0; b < pool.length; b += 4) pool.writeUInt32LE((rnd() * 2 ** 32) >>> 0, b);
  const originals = [];
  for (let i = 0; i < files; i++) {
    const dir = dirs[Math.floor(rnd() * dirs.length)];
    const file = path.join(dir, `f${i}.dat`);
    if (originals.length > 0 && rnd() < 0.35) {
      fs.copyFileSync(originals[Math.floor(rnd() * originals.length)], file);
    } else {
      const size = 1024 + Math.floor(rnd() * 15 * 1024);
      const at = Math.floor(rnd() * (pool.length - size));
      const buf = Buffer.from(pool.subarray(at, at + size));
      buf.writeUInt32LE(i, 0);
      fs.writeFileSync(file, buf);
      originals.push(file);
    }
  }
  fs.writeFileSync(done, `${files}\n`);
  return root;
}

/** Names outside the quarantine grouped by inode: the groups of two or more, each sorted, relative to `root`. */
function linkedGroups(root) {
  const byIno = new Map();
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop();
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.filer-quarantine') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        const st = fs.lstatSync(p);
        if (st.nlink < 2) continue;
        const key = `${st.dev}:${st.ino}`;
        if (!byIno.has(key)) byIno.set(key, []);
        byIno.get(key).push(path.relative(root, p));
      }
    }
  }
  return new Set([...byIno.values()].filter((g) => g.length > 1).map((g) => g.sort().join('\n')));
}

function sameSets(a, b) {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function freshCopy(src, dst) {
  fs.rmSync(dst, { recursive: true, force: true });
  const cp = spawnSync('cp', ['-a', src, dst], { stdio: 'inherit' });
  if (cp.status !== 0) throw new Error(`cp -a ${src} ${dst} failed`);
  spawnSync('sync');
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const trees = (process.env.BENCH_DEDUPE_TREES ?? 'corpus,deep')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const problems = { label: 'dedupe-apply problems', items: [] };
  if (!onPath('jdupes')) {
    log('dedupe-apply: jdupes is not installed (apt-get install jdupes); nothing measured');
    return { ok: false };
  }
  if (!fs.existsSync(FILER_MAIN)) throw new Error(`build first: ${FILER_MAIN} is missing`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dedupe-apply-'));
  process.once('exit', () => fs.rmSync(work, { recursive: true, force: true }));
  const sections = [];
  for (const tree of trees) {
    const src =
      tree === 'corpus'
        ? ensureDupesCorpus(resolveDupesConfig(), { log }).root
        : tree === 'deep'
          ? ensureDeepTree(intEnv('BENCH_DEEP_FILES', 60_000, 100), log)
          : undefined;
    if (src === undefined) throw new Error(`unknown tree ${tree} (have: corpus, deep)`);
    const target = path.join(work, 'tree');
    const filerOf = (main) => (root) => ({
      cmd: process.execPath,
      args: [main, 'dupes', root, '--hidden', '--no-ignore', '--action', 'hardlink', '--apply'],
      env: { XDG_CACHE_HOME: fs.mkdtempSync(path.join(work, 'xdg-')) },
    });
    const tools = [
      { key: 'filer', command: filerOf(FILER_MAIN) },
      { key: 'jdupes', command: (root) => ({ cmd: 'jdupes', args: ['-r', '-L', root] }) },
    ];
    if (process.env.BENCH_BASE)
      tools.push({ key: 'base', command: filerOf(path.join(path.resolve(process.env.BENCH_BASE), 'apps/cli/dist/main.js')) });
    const results = { filer: [], jdupes: [], base: [] };
    const loads = [];
    for (let round = 0; round < runs; round++) {
      // Rotated, so drift (and the load of others) falls on every tool in turn.
      const order = tools.map((_, i) => tools[(i + round) % tools.length]);
      const groups = {};
      for (const tool of order) {
        freshCopy(src, target);
        loads.push(os.loadavg()[0]);
        const r = await measure(tool.command(target));
        if (r.code !== 0)
          problems.items.push(`${tree} round ${round + 1}: ${tool.key} exited ${r.code ?? r.signal}: ${r.stderr.slice(-400)}`);
        groups[tool.key] = linkedGroups(target);
        results[tool.key].push(r);
        log(`  ${tree} round ${round + 1}: ${tool.key} ${formatMs(r.ms)}, ${groups[tool.key].size} groups linked, load ${loadAverage()}`);
      }
      if (groups.base !== undefined && !sameSets(groups.base, groups.jdupes))
        problems.items.push(`${tree} round ${round + 1}: filer (base) linked ${groups.base.size} groups, jdupes ${groups.jdupes.size}`);
      if (!sameSets(groups.filer, groups.jdupes))
        problems.items.push(
          `${tree} round ${round + 1}: filer linked ${groups.filer.size} groups, jdupes ${groups.jdupes.size}: not the same names`,
        );
      else if (round === 0) results.linked = [...groups.filer].reduce((n, g) => n + g.split('\n').length, 0);
    }
    fs.rmSync(target, { recursive: true, force: true });
    const med = (k) => median(results[k].map((r) => r.ms));
    const peak = (k) => Math.max(...results[k].map((r) => r.rssKB ?? 0));
    const perRound = results.filer.map((r, i) => fmtRatio(r.ms / results.jdupes[i].ms)).join(', ');
    sections.push({
      tree,
      row: [
        tree,
        formatMs(med('filer')),
        formatMs(med('jdupes')),
        fmtRatio(med('filer') / med('jdupes')),
        perRound,
        formatMB(peak('filer')),
        formatMB(peak('jdupes')),
        results.base.length === 0 ? '—' : `${formatMs(med('base'))} (${fmtRatio(med('base') / med('jdupes'))})`,
        String(results.linked ?? '—'),
        `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
      ],
    });
  }
  const markdown = [
    '# dedupe apply: filer dupes --action hardlink --apply vs jdupes -r -L',
    '',
    `${new Date().toISOString()}, ${os.cpus().length} cores, Node ${process.version}; ${runs} rounds; a fresh \`cp -a\` of the tree for every run; ` +
      `order rotated each round; time = median wall time; peak RSS = max over all runs (${HAS_GNU_TIME ? 'GNU time %M' : 'VmHWM polled'})${environmentNote()}.`,
    '',
    markdownTable(
      [
        'tree',
        'filer',
        'jdupes -r -L',
        'ratio (medians)',
        'ratio per round',
        'filer peak RSS',
        'jdupes peak RSS',
        'filer (base) (ratio)',
        'names linked',
        'load average (1 min)',
      ],
      sections.map((s) => s.row),
    ),
    '',
    'Names linked: files sharing an inode with another name outside `.filer-quarantine` after filer ran; jdupes linked exactly the same groups in every round (else listed below).',
    ...problemsSection([problems]),
  ].join('\n');
  writeReport('dedupe-apply', RESULTS, markdown, [problems], log);
  return { ok: problems.items.length === 0 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ok } = await run();
  process.exitCode = ok ? 0 : 1;
}
