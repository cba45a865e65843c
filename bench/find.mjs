#!/usr/bin/env node
// `filer find` against its peers (fd, GNU find, fast-glob) on the synthetic tree; the ndjson case
// runs again on a second tree of another shape (gen-tree's 'deep': another seed, deeper, fewer files
// per directory, longer names), so a tuning that fits one tree's proportions shows.
//
//   node bench/find.mjs [N]      N: tree size (default $BENCH_FILES, then 1,000,000); the tree is generated if missing
//
// Env: BENCH_RUNS (timed runs per command, default 3), BENCH_WARMUP (warm-up runs, default 1, at least 1),
//      BENCH_THREADS (passed to filer as --threads N), BENCH_TIMEOUT_MS (per run, default 15 min).
//
// For every case the first warm-up run of each command pipes its stdout here to count lines (the
// sanity check: filer, peer and the generator's manifest must agree); the timed runs send stdout to
// /dev/null. Timed runs alternate filer/peer (filer first, then peer first, ...) so drift hits both.
// Table: median wall time; peak RSS is the max over all runs of the command.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTree, resolveFileCount } from './gen-tree.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { onPath, intEnv, environmentNote } from './lib/env.mjs';
import { versionOf } from './lib/peers.mjs';
import { problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const FILER_MAIN = path.join(REPO, 'apps/cli/dist/main.js');
const FG_COUNT = path.join(BENCH_DIR, 'lib/fg-count.mjs');
const RESULTS = path.join(BENCH_DIR, 'results/find.md');

const RSS_TARGET_MB = 150;

export const name = 'find';

function buildCases(root, manifest, fd, deep) {
  const threads = process.env.BENCH_THREADS ? ['--threads', process.env.BENCH_THREADS] : [];
  const filerOn = (tree, label, ...flags) => ({
    cmd: process.execPath,
    args: [FILER_BIN, 'find', tree, ...flags, ...threads],
    display: `filer find ${label} ${[...flags, ...threads].join(' ')}`,
    count: 'lines',
  });
  const filer = (...flags) => filerOn(root, 'T', ...flags);
  const printfOn = (tree, label) => ({
    cmd: 'find',
    args: [tree, '-type', 'f', '-printf', '%s %T@ %p\n'],
    display: `find ${label} -type f -printf '%s %T@ %p\\n'`,
    count: 'lines',
  });
  const findPrintf = printfOn(root, 'T');
  const fdCmd = (...flags) => ({
    cmd: fd,
    args: [...flags, '.', root],
    display: `${path.basename(fd)} ${flags.join(' ')} . T`,
    count: 'lines',
  });
  return [
    {
      title: 'names only',
      subjectName: 'filer',
      subject: filer('--hidden', '--no-ignore'),
      peerTool: 'fd -u -t f',
      peer: fdCmd('-u', '-t', 'f'),
      target: 1.0,
      rssTarget: true,
      expected: manifest.files,
    },
    {
      title: 'size+mtime of every file (ndjson)',
      subjectName: 'filer',
      subject: filer('--hidden', '--no-ignore', '--format', 'ndjson'),
      peerTool: 'find -printf',
      peer: findPrintf,
      target: 1.0,
      rssTarget: true,
      expected: manifest.files,
    },
    {
      title: 'size+mtime of every file (ndjson), deep tree',
      subjectName: 'filer',
      subject: filerOn(deep.root, 'D', '--hidden', '--no-ignore', '--format', 'ndjson'),
      peerTool: 'find -printf',
      peer: printfOn(deep.root, 'D'),
      target: 1.0,
      rssTarget: true,
      expected: deep.files,
    },
    {
      title: '--ext csv --min-size 2k',
      subjectName: 'filer',
      subject: filer('--hidden', '--no-ignore', '--ext', 'csv', '--min-size', '2k'),
      peerTool: 'fd -u -t f -e csv -S +2k',
      peer: fdCmd('-u', '-t', 'f', '-e', 'csv', '-S', '+2k'),
      target: 1.0,
      rssTarget: true,
      expected: manifest.csvGe2k,
    },
    {
      title: 'baseline: fast-glob stream+stats (in filer column)',
      subjectName: 'fast-glob',
      subject: {
        cmd: process.execPath,
        args: [FG_COUNT, root],
        display: "fg.stream('**/*', {stats, dot, onlyFiles}) counting in a child node",
        count: 'number',
      },
      peerTool: 'find -printf',
      peer: findPrintf,
      target: undefined,
      rssTarget: false,
      expected: manifest.files,
    },
  ];
}

/** Output count of a counted run: newline count, or the number a counting child printed. */
function countOf(cmd, result) {
  if (cmd.count === 'number') return /^\d+$/.test(result.firstLine.trim()) ? Number(result.firstLine.trim()) : undefined;
  return result.lines;
}

async function runOne(label, cmd, mode, log, failures) {
  const r = await measure(cmd, mode);
  if (r.code !== 0 || r.signal) {
    failures.push(
      `${label}: exit ${r.code ?? r.signal}\n    ${cmd.display}\n    ${r.stderr.trim().split('\n').slice(0, 10).join('\n    ')}`,
    );
    log(`  !!! ${label} FAILED (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  } else if (r.stderr.trim() !== '') {
    log(`  (${label} wrote to stderr: ${r.stderr.trim().split('\n')[0]})`);
  }
  return r;
}

/**
 * Runs every case and writes bench/results/find.md.
 * @returns {Promise<{ok: boolean, markdown: string}>} ok = no failed run and no count mismatch (targets don't count)
 */
export async function run({ manifest, log = (s) => process.stderr.write(s + '\n') }) {
  if (!fs.existsSync(FILER_MAIN)) throw new Error(`${FILER_MAIN} is missing: run 'npm run build' first (npm run bench does)`);
  const fd = onPath('fdfind') ?? onPath('fd');
  if (!fd) throw new Error('fd not found (Debian: apt-get install fd-find, binary fdfind)');
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const warmups = intEnv('BENCH_WARMUP', 1, 1);
  const root = manifest.root;
  const deep = ensureTree(manifest.files, { shape: 'deep', log });
  const cases = buildCases(root, manifest, fd, deep);
  const failures = [];
  const mismatches = [];
  const results = [];

  log(`find: ${cases.length} cases on ${root}, ${warmups} warm-up + ${runs} timed runs each`);
  for (const c of cases) {
    log(`case: ${c.title}`);
    const both = [
      ['subject', c.subjectName, c.subject],
      ['peer', c.peerTool, c.peer],
    ];
    const res = { subject: { ms: [], rss: [] }, peer: { ms: [], rss: [] } };
    for (let w = 0; w < warmups; w++) {
      for (const [key, label, cmd] of both) {
        const counted = w === 0;
        const r = await runOne(`${label} (warm-up)`, cmd, counted ? 'count' : 'null', log, failures);
        if (r.code !== 0 || r.signal) res.failed = true;
        if (r.rssKB !== undefined) res[key].rss.push(r.rssKB);
        if (counted) res[key].count = countOf(cmd, r);
      }
    }
    const counts = [res.subject.count, res.peer.count, c.expected];
    const countOk = counts.every((n) => n === counts[0]);
    log(
      `  lines: ${c.subjectName} ${res.subject.count}, ${c.peerTool} ${res.peer.count}, expected ${c.expected}${countOk ? '' : '   <<< COUNT MISMATCH'}`,
    );
    if (!countOk)
      mismatches.push(`${c.title}: ${c.subjectName} ${res.subject.count}, ${c.peerTool} ${res.peer.count}, expected ${c.expected}`);
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? both : [...both].reverse();
      for (const [key, label, cmd] of order) {
        const r = await runOne(label, cmd, 'null', log, failures);
        if (r.code !== 0 || r.signal) res.failed = true;
        res[key].ms.push(r.ms);
        if (r.rssKB !== undefined) res[key].rss.push(r.rssKB);
      }
    }
    res.subject.median = median(res.subject.ms);
    res.peer.median = median(res.peer.ms);
    res.subject.maxRss = res.subject.rss.length > 0 ? Math.max(...res.subject.rss) : undefined;
    res.peer.maxRss = res.peer.rss.length > 0 ? Math.max(...res.peer.rss) : undefined;
    log(
      `  median: ${c.subjectName} ${formatMs(res.subject.median)} [${res.subject.ms.map(formatMs).join(', ')}], ${c.peerTool} ${formatMs(res.peer.median)} [${res.peer.ms.map(formatMs).join(', ')}]`,
    );
    results.push({ c, res, countOk });
  }

  // --- report -----------------------------------------------------------------------------------
  const timeRows = results.map(({ c, res }) => {
    const ratio = res.subject.median / res.peer.median;
    return [
      c.title,
      formatMs(res.subject.median),
      formatMs(res.peer.median),
      c.peerTool,
      ratio.toFixed(2),
      c.target === undefined ? '—' : `≤ ${c.target.toFixed(2)}`,
      res.failed ? '**FAILED RUNS**' : c.target === undefined ? '—' : ratio <= c.target ? 'yes' : '**NO**',
    ];
  });
  const rssRows = results.map(({ c, res }) => [
    c.title,
    `${formatMB(res.subject.maxRss)}${c.rssTarget ? '' : ` (${c.subjectName})`}`,
    formatMB(res.peer.maxRss),
    c.peerTool,
    c.rssTarget ? `≤ ${RSS_TARGET_MB} MB` : '—',
    !c.rssTarget ? '—' : res.subject.maxRss === undefined ? '?' : res.subject.maxRss / 1024 <= RSS_TARGET_MB ? 'yes' : '**NO**',
  ]);
  const countRows = results.map(({ c, res, countOk }) => [
    c.title,
    res.subject.count ?? '?',
    res.peer.count ?? '?',
    c.expected,
    countOk ? 'ok' : '**MISMATCH**',
  ]);
  const runRows = results.map(({ c, res }) => [c.title, res.subject.ms.map(formatMs).join(', '), res.peer.ms.map(formatMs).join(', ')]);
  const cmdRows = results.flatMap(({ c }) => [
    [c.title, c.subjectName, '`' + c.subject.display + '`'],
    ['', c.peerTool, '`' + c.peer.display + '`'],
  ]);

  const cpus = os.cpus();
  const fgVersion = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules/fast-glob/package.json'), 'utf8')).version;
  const md = [
    '# filer find benchmark',
    '',
    `- date: ${new Date().toISOString()}`,
    `- tree: \`${path.relative(REPO, root)}\` — ${manifest.files.toLocaleString('en-US')} files, ${manifest.dirs.toLocaleString('en-US')} dirs, depth ≤ ${manifest.maxDepth}, ` +
      `${manifest.csvFiles.toLocaleString('en-US')} csv (${manifest.csvGe2k.toLocaleString('en-US')} ≥ 2k), ${(manifest.bytes / 1e6).toFixed(1)} MB of content, generator v${manifest.generatorVersion}`,
    `- second tree (the deep-tree case): \`${path.relative(REPO, deep.root)}\` — ${deep.files.toLocaleString('en-US')} files, ${deep.dirs.toLocaleString('en-US')} dirs, depth ≤ ${deep.maxDepth}, ` +
      `shape '${deep.shape}' of the same generator`,
    `- machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}${environmentNote()}`,
    `- node ${process.version}; filer threads: ${process.env.BENCH_THREADS ?? 'default'}; ${versionOf(fd)}; ${versionOf('find')}; fast-glob ${fgVersion}`,
    `- method: ${warmups} warm-up run (stdout piped and its lines counted) + ${runs} timed runs per command, stdout → /dev/null, runs alternate filer/peer; ` +
      `time = median wall time; ratio = filer / peer; peak RSS = max over all runs, ${HAS_GNU_TIME ? 'GNU time %M' : '/proc VmHWM polled every 10 ms'}; page cache warm`,
    '',
    '## Wall time',
    '',
    markdownTable(['case', 'filer', 'peer', 'peer tool', 'ratio (filer/peer)', 'target', 'met?'], timeRows),
    '## Peak RSS',
    '',
    markdownTable(['case', 'filer max RSS', 'peer max RSS', 'peer tool', 'target', 'met?'], rssRows),
    '## Output lines (sanity check)',
    '',
    markdownTable(['case', 'filer', 'peer', 'expected (generator)', 'check'], countRows),
    '## All timed runs',
    '',
    markdownTable(['case', 'filer runs', 'peer runs'], runRows),
    '## Commands (T = tree root, D = second tree root)',
    '',
    markdownTable(['case', 'tool', 'command'], cmdRows),
  ];
  const problemList = [
    { label: 'COUNT MISMATCH', items: mismatches },
    { label: 'FAILED RUN', items: failures },
  ];
  md.push(...problemsSection(problemList));
  const markdown = md.join('\n');
  writeReport('find', RESULTS, markdown, problemList, log);
  return { ok: mismatches.length === 0 && failures.length === 0, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const manifest = ensureTree(resolveFileCount(process.argv[2]));
  const { ok } = await run({ manifest });
  process.exitCode = ok ? 0 : 1;
}
