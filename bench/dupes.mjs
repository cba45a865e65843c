#!/usr/bin/env node
// `filer dupes` against its peers (jdupes, rdfind, fdupes, rmlint) on the duplicates corpus, plus the
// hashing throughput of filer's xxh128 and sha256 against sha256sum.
//
//   node bench/dupes.mjs [N [BYTES]]       N files / BYTES of content (default $BENCH_DUPES_FILES, then
//                                          54,000; $BENCH_DUPES_BYTES, then 2.2e9); generated if missing
//   BENCH_DUPES_FILES=3000 BENCH_DUPES_BYTES=100e6 node bench/dupes.mjs      quick run (~100 MB)
//   node bench/run.mjs dupes                                                 via the harness
//
// Env: BENCH_RUNS (timed runs per command, default 3), BENCH_WARMUP (warm-up runs, default 1, at least 1),
//      BENCH_DUPES_HASH_MIB (size of each of the two identical files of the throughput test, default 512),
//      BENCH_DUPES_TOOLS (peers to run, comma-separated, default jdupes,rdfind,fdupes,rmlint),
//      BENCH_NO_INSTALL=1 (never apt-get install a missing peer), BENCH_TIMEOUT_MS (per run, default 15 min).
//
// Method: the corpus (and the throughput pair) is read once in full first, so every run finds the
// page cache warm. Missing peers are apt-get installed when running as root (a peer that still
// cannot be had is reported n/a). Each command gets its warm-up run(s) — the first one's stdout
// is captured and parsed: the duplicate groups of filer, jdupes, fdupes and rdfind are compared
// as sets of sorted path lists with each other and with the groups the generator made; filer
// must agree with jdupes (and the generator) or the run fails. Then BENCH_RUNS timed rounds, stdout
// to /dev/null, the order of the commands rotated every round so drift hits all of them.
// "filer first run" gets a freshly emptied cache database before every run (warm-ups included);
// "filer warm rerun" uses a database filled by one untimed run before its warm-up.
// filer runs with --hidden --no-ignore: the corpus lives under bench/.cache/, which the repo's
// .gitignore lists, and the peers neither skip hidden files nor read ignore files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_HASH_MIB,
  GENERATOR_VERSION,
  ensureDupesCorpus,
  ensureHashPair,
  readExpectedGroups,
  resolveDupesConfig,
} from './gen-dupes-corpus.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { onPath, intEnv, environmentNote } from './lib/env.mjs';
import { ensurePeers, versionOf } from './lib/peers.mjs';
import { warmPageCache } from './lib/page-cache.mjs';
import { runInvocations } from './lib/dupes-invocations.mjs';
import { fmtGB, fmtInt, problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const FILER_MAIN = path.join(REPO, 'apps/cli/dist/main.js');
const RESULTS = path.join(BENCH_DIR, 'results/dupes.md');

/** Peers: binary → Debian package. */
const PEERS = { jdupes: 'jdupes', rdfind: 'rdfind', fdupes: 'fdupes', rmlint: 'rmlint' };

export const name = 'dupes';

// --- helpers ------------------------------------------------------------------------------------

function memAvailableBytes() {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// --- parsing what the tools reported ------------------------------------------------------------

/** jdupes / fdupes: one path a line, groups separated by a blank line. */
function parseBlankLineGroups(text) {
  const groups = [];
  let cur = [];
  for (const line of text.split('\n')) {
    if (line === '') {
      if (cur.length > 0) groups.push(cur);
      cur = [];
    } else cur.push(line);
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/** filer's text report: "N copies × …" header, indented paths, blank line; then the summary. */
function parseFilerText(text) {
  const groups = [];
  let cur;
  for (const line of text.split('\n')) {
    if (/^\d[\d,]* copies × /.test(line)) cur = [];
    else if (cur !== undefined && line.startsWith('  ')) cur.push(line.slice(2));
    else if (cur !== undefined) {
      if (cur.length > 0) groups.push(cur);
      cur = undefined;
    }
  }
  if (cur !== undefined && cur.length > 0) groups.push(cur);
  const num = (s) => Number(s.replace(/,/g, ''));
  const m = /hashed ([\d,]+) samples and ([\d,]+) whole files with (\w+); ([\d,]+) cache hits; read ([\d,]+) bytes; ([\d,]+) errors/.exec(
    text,
  );
  const summary = m
    ? { samples: num(m[1]), wholeFiles: num(m[2]), algorithm: m[3], cacheHits: num(m[4]), bytesRead: num(m[5]), errors: num(m[6]) }
    : undefined;
  return { groups, summary };
}

/** rdfind's results.txt: "DUPTYPE_… id depth size device inode priority name"; a group shares |id|. */
function parseRdfindResults(file) {
  const byId = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^DUPTYPE_\S+ (-?\d+) \S+ \S+ \S+ \S+ \S+ (.*)$/.exec(line);
    if (!m) continue;
    const id = Math.abs(Number(m[1]));
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id).push(m[2]);
  }
  return [...byId.values()];
}

/** rmlint's summary: "In total N files, whereof D are duplicates in G groups." */
function parseRmlintSummary(text) {
  // eslint-disable-next-line no-control-regex
  const m = /whereof ([\d,]+) are duplicates? in ([\d,]+) groups?/.exec(text.replace(/\x1b\[[0-9;]*m/g, ''));
  return m ? { duplicates: Number(m[1].replace(/,/g, '')), groups: Number(m[2].replace(/,/g, '')) } : undefined;
}

const groupKey = (g) =>
  g
    .map((p) => path.resolve(p))
    .sort()
    .join('\0');

/** Compares two group lists as sets of sorted path lists. */
function compareGroups(a, b) {
  const ka = new Set(a.map(groupKey));
  const kb = new Set(b.map(groupKey));
  const onlyA = [...ka].filter((k) => !kb.has(k));
  const onlyB = [...kb].filter((k) => !ka.has(k));
  const show = (k) => k.split('\0').join(' = ');
  return {
    equal: onlyA.length === 0 && onlyB.length === 0,
    onlyA: onlyA.length,
    onlyB: onlyB.length,
    examples: [...onlyA.slice(0, 2).map(show), ...onlyB.slice(0, 2).map(show)],
  };
}

const countFiles = (groups) => groups.reduce((n, g) => n + g.length, 0);

// --- running ------------------------------------------------------------------------------------

async function runOne(label, cmd, mode, log, failures) {
  const r = await measure(cmd, mode);
  if (r.code !== 0 || r.signal) {
    failures.push(
      `${label}: exit ${r.code ?? r.signal}\n    ${cmd.display}\n    ${r.stderr.trim().split('\n').slice(0, 10).join('\n    ')}`,
    );
    log(`  !!! ${label} FAILED (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  } else if (r.stderr.trim() !== '') {
    log(`  (${label} wrote to stderr: ${r.stderr.trim().split('\n')[0].slice(0, 200)})`);
  }
  return r;
}

/**
 * Warm-ups (the first one captured and handed to `c.parse`), then `runs` rotated timed rounds.
 * Fills c.res = {ms[], rss[], median, maxRss, failed}.
 */
async function timeCases(cases, { runs, warmups, log, failures }) {
  for (const c of cases) {
    c.res = { ms: [], rss: [], cpu: [] };
    log(`${c.label}: ${warmups} warm-up run(s)`);
    for (let w = 0; w < warmups; w++) {
      c.before?.();
      const r = await runOne(`${c.label} (warm-up)`, c.cmd, w === 0 ? 'capture' : 'null', log, failures);
      if (r.code !== 0 || r.signal) c.res.failed = true;
      if (r.rssKB !== undefined) c.res.rss.push(r.rssKB);
      if (w === 0 && !c.res.failed) c.parsed = c.parse?.(r.text ?? '');
    }
  }
  for (let i = 0; i < runs; i++) {
    const k = i % cases.length;
    const order = [...cases.slice(k), ...cases.slice(0, k)];
    log(`timed round ${i + 1}/${runs}: ${order.map((c) => c.label).join(' → ')}`);
    for (const c of order) {
      c.before?.();
      // A failed warm-up left nothing to check: capture this run instead (costs it a pipe).
      const r = await runOne(c.label, c.cmd, c.parsed === undefined ? 'capture' : 'null', log, failures);
      if (r.code !== 0 || r.signal) c.res.failed = true;
      else if (c.parsed === undefined) c.parsed = c.parse?.(r.text ?? '');
      c.res.ms.push(r.ms);
      if (r.cpuMs !== undefined) c.res.cpu.push(r.cpuMs);
      if (r.rssKB !== undefined) c.res.rss.push(r.rssKB);
    }
  }
  for (const c of cases) {
    c.res.median = median(c.res.ms);
    c.res.cpuMedian = c.res.cpu.length > 0 ? median(c.res.cpu) : undefined;
    c.res.maxRss = c.res.rss.length > 0 ? Math.max(...c.res.rss) : undefined;
    log(`  ${c.label}: median ${formatMs(c.res.median)} [${c.res.ms.map(formatMs).join(', ')}], peak RSS ${formatMB(c.res.maxRss)}`);
  }
}

/**
 * Runs the duplicates benchmark and writes bench/results/dupes.md.
 * (`manifest`, the find tree's, is not used: this benchmark has its own corpus.)
 * @returns {Promise<{ok: boolean, markdown: string}>} ok = no failed run and filer's groups equal jdupes' and the generator's
 */
export async function run({ log = (s) => process.stderr.write(s + '\n'), corpus } = {}) {
  if (!fs.existsSync(FILER_MAIN)) throw new Error(`${FILER_MAIN} is missing: run 'npm run build' first (npm run bench does)`);
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const warmups = intEnv('BENCH_WARMUP', 1, 1);
  const hashMiB = intEnv('BENCH_DUPES_HASH_MIB', DEFAULT_HASH_MIB, 1);
  const wantedPeers = (process.env.BENCH_DUPES_TOOLS ?? Object.keys(PEERS).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const badPeer = wantedPeers.find((p) => !(p in PEERS));
  if (badPeer) throw new Error(`BENCH_DUPES_TOOLS: unknown peer '${badPeer}' (have: ${Object.keys(PEERS).join(', ')})`);

  const loadAtStart = os.loadavg();
  // --- corpus, throughput pair, peers, page cache ---------------------------------------------
  const manifest = ensureDupesCorpus(corpus ?? resolveDupesConfig(), { log });
  const root = manifest.root;
  const pair = ensureHashPair(hashMiB, { log });
  const expected = readExpectedGroups(manifest);
  const peers = ensurePeers('dupes', PEERS, wantedPeers, log);
  const notes = [];
  const avail = memAvailableBytes();
  if (avail !== undefined && avail < (manifest.bytes + 2 * pair.bytes) * 1.2) {
    const note = `only ${fmtGB(avail)} of memory available for ${fmtGB(manifest.bytes + 2 * pair.bytes)} of files: the page cache may not hold them all, timings then include disk reads`;
    notes.push(note);
    log(`dupes: WARNING: ${note}`);
  }
  const warm = warmPageCache(root);
  log(`dupes: page cache warmed: read ${fmtInt(warm.files)} files, ${fmtGB(warm.bytes)} in ${formatMs(warm.ms)}`);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-dupes-'));
  process.once('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
  const cwdOf = (tool) => {
    const d = path.join(scratch, `cwd-${tool}`);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const resetDb = (db) => () => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(db + suffix, { force: true });
  };
  const dbFirst = path.join(scratch, 'first.db');
  const dbWarm = path.join(scratch, 'warm.db');
  const failures = [];
  const problems = [];

  // --- main comparison --------------------------------------------------------------------------
  const filerCmd = (flags, shown) => ({
    cmd: process.execPath,
    args: [FILER_BIN, 'dupes', root, '--hidden', '--no-ignore', ...flags],
    display: `filer dupes C --hidden --no-ignore ${shown ?? flags.join(' ')}`,
  });
  const filerParse = (text) => parseFilerText(text);
  const rdfindCwd = cwdOf('rdfind');
  const all = [
    {
      key: 'jdupes',
      label: 'jdupes',
      bin: 'jdupes',
      cmd: { cmd: peers.jdupes, args: ['-r', root], display: 'jdupes -r C' },
      parse: (text) => ({ groups: parseBlankLineGroups(text) }),
    },
    {
      key: 'rdfind',
      label: 'rdfind',
      bin: 'rdfind',
      cmd: {
        cmd: peers.rdfind,
        args: ['-dryrun', 'true', root],
        cwd: rdfindCwd,
        display: 'rdfind -dryrun true C  (scratch cwd: results.txt)',
      },
      parse: () => ({ groups: parseRdfindResults(path.join(rdfindCwd, 'results.txt')) }),
    },
    {
      key: 'fdupes',
      label: 'fdupes',
      bin: 'fdupes',
      cmd: { cmd: peers.fdupes, args: ['-r', '-q', '-n', root], display: 'fdupes -r -q -n C' },
      parse: (text) => ({ groups: parseBlankLineGroups(text) }),
    },
    {
      key: 'rmlint',
      label: 'rmlint',
      bin: 'rmlint',
      cmd: {
        cmd: peers.rmlint,
        args: ['-T', 'df', '-o', 'summary', root],
        cwd: cwdOf('rmlint'),
        display: 'rmlint -T df -o summary C  (scratch cwd)',
      },
      parse: (text) => ({ counts: parseRmlintSummary(text) }),
    },
    {
      key: 'filer-first',
      label: 'filer first run',
      filer: true,
      target: 1.0,
      cmd: filerCmd(['--cache', dbFirst], '--cache EMPTY.db'),
      before: resetDb(dbFirst),
      parse: filerParse,
    },
    {
      key: 'filer-warm',
      label: 'filer warm rerun',
      filer: true,
      target: 0.3,
      cmd: filerCmd(['--cache', dbWarm], '--cache FILLED.db'),
      parse: filerParse,
    },
    {
      key: 'filer-nocache',
      label: 'filer --no-cache',
      filer: true,
      cmd: filerCmd(['--no-cache']),
      parse: filerParse,
    },
  ].filter((c) => c.filer || wantedPeers.includes(c.bin));
  const naCases = all.filter((c) => c.bin && !peers[c.bin]);
  const cases = all.filter((c) => !naCases.includes(c));
  for (const c of naCases) log(`dupes: ${c.label} n/a (not installed)`);

  log(`dupes: priming the warm-rerun cache database (one untimed run)`);
  resetDb(dbWarm)();
  const prime = await runOne('filer (priming the cache)', filerCmd(['--cache', dbWarm]), 'null', log, failures);
  if (prime.code !== 0) problems.push('priming run of the warm cache failed');

  log(`dupes: ${cases.length} commands on ${root}, ${warmups} warm-up + ${runs} timed runs each`);
  await timeCases(cases, { runs, warmups, log, failures });

  // --- sanity checks ----------------------------------------------------------------------------
  const ref = cases.find((c) => c.key === 'jdupes');
  const refGroups = ref?.parsed?.groups;
  const checkRows = [];
  let filerMismatch = false;
  const expectedFiles = countFiles(expected);
  checkRows.push(['generator (truth)', fmtInt(expected.length), fmtInt(expectedFiles), fmtInt(expectedFiles - expected.length), '—', '—']);
  for (const c of all) {
    if (naCases.includes(c)) {
      checkRows.push([c.label, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
      continue;
    }
    const p = c.parsed;
    if (p?.counts !== undefined || (p && !p.groups)) {
      // counts only (rmlint)
      const n = p.counts;
      const ok = n !== undefined && n.groups === expected.length && n.duplicates === expectedFiles - expected.length;
      checkRows.push([c.label, fmtInt(n?.groups), '—', fmtInt(n?.duplicates), ok ? 'counts ok' : '**COUNTS DIFFER**', '—']);
      if (!ok)
        problems.push(
          `${c.label}: reported ${n ? `${n.groups} groups / ${n.duplicates} duplicates` : 'no parsable summary'}, generator made ${expected.length} / ${expectedFiles - expected.length}`,
        );
      continue;
    }
    if (!p?.groups) {
      checkRows.push([c.label, '?', '?', '?', c.res.failed ? '**FAILED**' : '?', '?']);
      if (c.filer) filerMismatch = true;
      continue;
    }
    const vsGen = compareGroups(p.groups, expected);
    const vsRef = refGroups && c !== ref ? compareGroups(p.groups, refGroups) : undefined;
    const files = countFiles(p.groups);
    const describe = (cmp, other) => (cmp.equal ? 'equal' : `**DIFFER**: ${cmp.onlyA} groups only here, ${cmp.onlyB} only in ${other}`);
    checkRows.push([
      c.label,
      fmtInt(p.groups.length),
      fmtInt(files),
      fmtInt(files - p.groups.length),
      describe(vsGen, 'generator'),
      vsRef === undefined ? '—' : describe(vsRef, 'jdupes'),
    ]);
    if (!vsGen.equal)
      problems.push(
        `${c.label} ≠ generator: ${vsGen.onlyA} groups only in ${c.label}, ${vsGen.onlyB} only in the generator's; e.g. ${vsGen.examples.join(' | ')}`,
      );
    if (vsRef && !vsRef.equal)
      problems.push(
        `${c.label} ≠ jdupes: ${vsRef.onlyA} groups only in ${c.label}, ${vsRef.onlyB} only in jdupes'; e.g. ${vsRef.examples.join(' | ')}`,
      );
    if (c.filer && (!vsGen.equal || (vsRef && !vsRef.equal))) filerMismatch = true;
    if (c === ref && !vsGen.equal) filerMismatch = true; // the reference itself disagrees with the truth: the comparison is void
    if (c.filer && p.summary === undefined) problems.push(`${c.label}: no summary line found in its output`);
  }
  const first = cases.find((c) => c.key === 'filer-first')?.parsed?.summary;
  const warmS = cases.find((c) => c.key === 'filer-warm')?.parsed?.summary;
  if (first && first.cacheHits !== 0)
    problems.push(`filer first run reported ${first.cacheHits} cache hits: its cache database was not empty`);
  if (warmS && warmS.cacheHits === 0) problems.push('filer warm rerun reported 0 cache hits: the cache did not work');

  // --- invocations beside jdupes: several roots, overlapping roots, filters ---------------------
  let invocations;
  if (peers.jdupes) {
    invocations = await runInvocations({
      root,
      expected,
      jdupes: peers.jdupes,
      filerBin: FILER_BIN,
      scratch,
      runs,
      warmups,
      log,
      failures,
      timeCases,
      parseFilerText,
      parseJdupes: parseBlankLineGroups,
      compareGroups,
    });
    problems.push(...invocations.problems);
    if (invocations.problems.some((p) => p.includes('generator'))) filerMismatch = true;
  }

  // --- hashing throughput -----------------------------------------------------------------------
  log(`\nhashing throughput: 2 identical files of ${hashMiB} MiB in ${pair.root}`);
  const pairWarm = warmPageCache(pair.files);
  log(`  page cache warmed: ${fmtGB(pairWarm.bytes)} in ${formatMs(pairWarm.ms)}`);
  const emptyDir = path.join(scratch, 'empty');
  fs.mkdirSync(emptyDir);
  const filerHash = (algo) => ({
    cmd: process.execPath,
    args: [FILER_BIN, 'dupes', pair.root, '--hidden', '--no-ignore', '--no-cache', '--hash', algo],
    display: `filer dupes P --hidden --no-ignore --no-cache --hash ${algo}`,
  });
  const hashCases = [
    { key: 'xxh128', label: 'filer xxh128', cmd: filerHash('xxh128'), parse: filerParse, filer: true },
    { key: 'sha256', label: 'filer sha256', cmd: filerHash('sha256'), parse: filerParse, filer: true },
    {
      key: 'sha256sum',
      label: 'sha256sum',
      cmd: { cmd: onPath('sha256sum') ?? 'sha256sum', args: [pair.files[0]], display: 'sha256sum P/a.bin' },
      parse: () => ({ bytesRead: pair.bytes }),
    },
    {
      key: 'startup',
      label: 'filer start-up (empty dir)',
      cmd: {
        cmd: process.execPath,
        args: [FILER_BIN, 'dupes', emptyDir, '--hidden', '--no-ignore', '--no-cache'],
        display: 'filer dupes EMPTY --hidden --no-ignore --no-cache',
      },
      parse: () => ({}),
    },
  ];
  await timeCases(hashCases, { runs, warmups, log, failures });
  const startupMs = hashCases.find((c) => c.key === 'startup').res.median;
  for (const c of hashCases.filter((h) => h.filer)) {
    const s = c.parsed?.summary;
    const g = c.parsed?.groups;
    if (!s || !g || g.length !== 1 || g[0].length !== 2)
      problems.push(`${c.label}: expected one group of the two copies and a summary line, got ${g?.length ?? '?'} groups`);
    else if (s.bytesRead < 2 * pair.bytes)
      problems.push(`${c.label}: read only ${s.bytesRead} bytes of the 2 × ${pair.bytes}: the GB/s figure is not a full hash`);
  }

  // --- report -----------------------------------------------------------------------------------
  const refMs = ref?.res?.median;
  const refOk = ref !== undefined && !ref.res.failed;
  const timeRows = all.map((c) => {
    if (naCases.includes(c)) return [c.label, 'n/a', '—', '—', '—', 'n/a', '`' + c.cmd.display + '`'];
    const ratio = refOk ? c.res.median / refMs : undefined;
    const met = c.res.failed
      ? '**FAILED RUNS**'
      : c.target === undefined
        ? '—'
        : ratio === undefined
          ? 'n/a (no jdupes)'
          : ratio <= c.target
            ? 'yes'
            : '**NO**';
    return [
      c.label,
      formatMs(c.res.median),
      ratio === undefined ? 'n/a' : ratio.toFixed(2),
      c.target === undefined ? '—' : `≤ ${c.target.toFixed(2)}`,
      met,
      formatMB(c.res.maxRss),
      '`' + c.cmd.display + '`',
    ];
  });
  const filerRows = cases
    .filter((c) => c.filer)
    .map((c) => {
      const s = c.parsed?.summary;
      return [
        c.label,
        fmtInt(s?.samples),
        fmtInt(s?.wholeFiles),
        fmtInt(s?.cacheHits),
        s ? `${fmtInt(s.bytesRead)} (${fmtGB(s.bytesRead)})` : '—',
      ];
    });
  const gbps = (bytes, ms) => (bytes === undefined || !(ms > 0) ? '—' : `${(bytes / 1e9 / (ms / 1000)).toFixed(2)} GB/s`);
  const hashRows = hashCases.map((c) => {
    const bytes = c.filer ? c.parsed?.summary?.bytesRead : c.parsed?.bytesRead;
    const net = c.filer && c.res.median > startupMs ? c.res.median - startupMs : undefined;
    return [
      c.label + (c.res.failed ? ' **(FAILED RUNS)**' : ''),
      bytes === undefined ? '—' : fmtInt(bytes),
      formatMs(c.res.median),
      c.key === 'startup' ? '—' : gbps(bytes, c.res.median),
      net === undefined ? '—' : gbps(bytes, net),
      formatMB(c.res.maxRss),
      '`' + c.cmd.display + '`',
    ];
  });
  const runRows = [...cases, ...(invocations?.cases ?? []), ...hashCases].map((c) => [c.label, c.res.ms.map(formatMs).join(', ')]);

  const cpus = os.cpus();
  const loads = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const m = manifest;
  const v = m.variants;
  const toolVersions = [
    `filer (this repo, node ${process.version})`,
    ...Object.keys(PEERS)
      .filter((b) => wantedPeers.includes(b))
      .map((b) => {
        if (!peers[b]) return `${b}: n/a`;
        const ver = versionOf(peers[b]);
        return ver.toLowerCase().includes(b) ? ver : `${b} ${ver}`;
      }),
    versionOf('sha256sum'),
  ];
  const md = [
    '# filer dupes benchmark',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; node ${process.version}${environmentNote()}` +
      `; load average (1/5/15 min) ${loads(loadAtStart)} at the start, ${loads(os.loadavg())} at the end`,
    `- corpus: \`${path.relative(REPO, root)}\` (generator v${GENERATOR_VERSION}) — ${fmtInt(m.files)} files in ${fmtInt(m.dirs)} dirs, ${fmtGB(m.bytes)} (${fmtInt(m.bytes)} bytes); ` +
      `small ${fmtInt(m.small.files)} files / ${fmtGB(m.small.bytes)}, medium ${fmtInt(m.medium.files)} / ${fmtGB(m.medium.bytes)}, large ${fmtInt(m.large.files)} / ${fmtGB(m.large.bytes)}; sizes ${fmtInt(m.minSize)} B – ${(m.maxSize / 1e6).toFixed(1)} MB`,
    `- duplicates: ${fmtInt(m.duplicates)} extra copies (${((100 * m.duplicates) / m.files).toFixed(1)}% of files) in ${fmtInt(m.dupGroups)} groups (${fmtInt(m.filesInGroups)} files, up to ${m.largestGroup} a group), ${fmtGB(m.wastedBytes)} wasted; ` +
      `near-duplicates (same size, one byte flipped): ${v.last} at the last byte, ${v.first} first, ${v.middle} middle, ${v.random} elsewhere; ` +
      `${fmtInt(m.sameSizeDifferentContent)} files share their size with a file of other content (${fmtInt(m.distinctSizes)} distinct sizes)`,
    `- tools: ${toolVersions.join('; ')}`,
    `- method: page cache warmed by reading every file once; per command ${warmups} warm-up run (its stdout captured and parsed for the check) + ${runs} timed runs, stdout → /dev/null, ` +
      `command order rotated each round; time = median wall time; ratio = time / jdupes time; peak RSS = max over all runs, ${HAS_GNU_TIME ? 'GNU time %M' : '/proc VmHWM polled every 10 ms'}. ` +
      `"first run": the cache database is deleted before every run; "warm rerun": the database was filled by one untimed run first. ` +
      `filer runs with --hidden --no-ignore because the corpus sits under the repo's git-ignored bench/.cache/ (the peers read ignore files not at all)`,
    ...notes.map((n) => `- NOTE: ${n}`),
    '',
    '## Wall time (C = corpus root)',
    '',
    markdownTable(['case', 'median', 'ratio vs jdupes', 'target', 'met?', 'peak RSS', 'command'], timeRows),
    '## Duplicate groups found (sanity check)',
    '',
    'Groups are compared as sets of sorted path lists. "dup files" = files in groups minus one per group (what jdupes, rmlint and rdfind call duplicates); rmlint only reports counts.',
    '',
    markdownTable(['source', 'groups', 'files in groups', 'dup files', 'vs generator', 'vs jdupes'], checkRows),
    ...(invocations?.markdown ?? []),
    '## filer work per run (from its summary line)',
    '',
    markdownTable(['case', 'samples hashed', 'whole files hashed', 'cache hits', 'bytes read'], filerRows),
    `## Hashing throughput (P = 2 identical files of ${hashMiB} MiB, page cache warm)`,
    '',
    'GB/s = bytes read / median wall time (filer: its "read N bytes", both copies in full plus samples; sha256sum: one file). ' +
      '"net of start-up" subtracts the median time of filer on an empty directory (node start-up, module loading, walk).',
    '',
    markdownTable(['hasher', 'bytes read', 'median', 'GB/s', 'GB/s net of start-up', 'peak RSS', 'command'], hashRows),
    '## All timed runs',
    '',
    markdownTable(['case', 'runs'], runRows),
  ];
  const problemList = [
    { label: 'PROBLEM', items: problems },
    { label: 'FAILED RUN', items: failures },
  ];
  md.push(...problemsSection(problemList));
  const markdown = md.join('\n');
  writeReport('dupes', RESULTS, markdown, problemList, log);
  if (filerMismatch) log("\n!!!!!!!!!! GROUP MISMATCH: filer's duplicate groups differ from jdupes' or the generator's !!!!!!!!!!");
  return { ok: !filerMismatch && failures.length === 0, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ok } = await run({ corpus: resolveDupesConfig(process.argv[2], process.argv[3]) });
  process.exitCode = ok ? 0 : 1;
}
