#!/usr/bin/env node
// The dedupe plan of a cached tree (`filer dupes C --action hardlink --format ndjson`, no --apply)
// beside `jdupes -r` and filer's own duplicate report (`filer dupes C`) in the same rounds: the
// issue's target is plan ≤ 0.3× jdupes -r. The report is the plan's floor (the plan runs the same
// search, then lstats, plans and prints each copy), so its ratio is printed beside it.
//
//   node bench/dupes-plan.mjs [N [BYTES]]     the dupes corpus (as bench/dupes.mjs: 54,000 files, 2.2 GB)
//   BENCH_DUPES_FILES=20000 BENCH_DUPES_BYTES=800e6 node bench/dupes-plan.mjs    a second tree
//   node bench/run.mjs dupes-plan
//
// Env: BENCH_RUNS (timed rounds, default 5), BENCH_WARMUP (default 1).
//
// Method: the corpus is read once (page cache warm) and filer's hash cache filled by one untimed
// run; each command gets its warm-up run(s), then BENCH_RUNS rounds with the commands' order
// rotated every round; stdout to /dev/null; medians. Sanity check: the plan's summary counts the
// copies jdupes reports (its files less its groups: every copy but one per group is linked), or
// the run fails.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDupesCorpus, resolveDupesConfig } from './gen-dupes-corpus.mjs';
import { formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { environmentNote, intEnv, onPath } from './lib/env.mjs';
import { versionOf } from './lib/peers.mjs';
import { warmPageCache } from './lib/page-cache.mjs';
import { fmtInt, fmtRatio, problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const FILER_BIN = path.join(path.dirname(BENCH_DIR), 'apps/cli/bin/filer.js');

export const name = 'dupes-plan';
export const usesTree = false;

export async function run({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const cfg = resolveDupesConfig(process.argv[2], process.argv[3]);
  const corpus = ensureDupesCorpus(cfg, { log });
  const runs = intEnv('BENCH_RUNS', 5, 1);
  const warmup = intEnv('BENCH_WARMUP', 1, 1);
  const problems = [];
  if (!onPath('jdupes')) {
    log('dupes-plan: jdupes is not installed (apt-get install jdupes): nothing to compare with');
    return { ok: false };
  }
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-plan-'));
  const env = { XDG_CACHE_HOME: state, XDG_STATE_HOME: state };
  const filer = (...args) => ({ cmd: process.execPath, args: [FILER_BIN, 'dupes', corpus.root, '--hidden', '--no-ignore', ...args], env });
  const commands = [
    { label: 'jdupes -r', command: { cmd: 'jdupes', args: ['-r', corpus.root] } },
    { label: 'filer dupes (report)', command: filer() },
    { label: 'filer dupes --action hardlink (plan)', command: filer('--action', 'hardlink', '--format', 'ndjson') },
  ];
  try {
    warmPageCache(corpus.root);
    // Fills the hash cache: every timed filer run is a warm rerun.
    await measure(filer());
    // The first warm-up of each, captured for the sanity check.
    const [jd, , planned] = [
      await measure(commands[0].command, 'capture'),
      await measure(commands[1].command),
      await measure(commands[2].command, 'capture'),
    ];
    const jdGroups = jd.text.split('\n\n').filter((g) => g.trim() !== '');
    const jdCopies = jdGroups.reduce((n, g) => n + g.trim().split('\n').length - 1, 0);
    const summary = JSON.parse(planned.text.trim().split('\n').at(-1)).summary;
    if (summary?.files !== jdCopies)
      problems.push(`the plan links ${summary?.files} copies; jdupes -r reports ${jdCopies} (${jdGroups.length} groups)`);
    for (const c of commands) for (let i = 1; i < warmup; i++) await measure(c.command);
    const times = commands.map(() => []);
    for (let round = 0; round < runs; round++) {
      const order = commands.map((_, i) => (i + round) % commands.length);
      for (const i of order) {
        const r = await measure(commands[i].command);
        if (r.code !== 0) problems.push(`${commands[i].label}: exit ${r.code} ${r.stderr.trim()}`);
        times[i].push(r);
      }
    }
    const load = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const med = times.map((ts) => median(ts.map((t) => t.ms)));
    const ratios = (i) => times[i].map((t, k) => t.ms / times[0][k].ms);
    // CPU time (user + system, GNU time) varies less than wall time on a shared machine.
    const cpu = times.map((ts) => median(ts.map((t) => t.cpuMs ?? NaN)));
    const rows = commands.map((c, i) => [
      c.label,
      formatMs(med[i]),
      times[i].map((t) => Math.round(t.ms)).join(', '),
      i === 0 ? '—' : `${fmtRatio(med[i] / med[0])} (rounds: ${ratios(i).map(fmtRatio).join(', ')})`,
      `${formatMs(cpu[i])}${i === 0 ? '' : ` (${fmtRatio(cpu[i] / cpu[0])})`}`,
      formatMB(median(times[i].map((t) => t.rssKB ?? 0))),
    ]);
    const md = [
      `# The dedupe plan of a cached tree against jdupes -r`,
      '',
      `${fmtInt(corpus.files)} files, ${(corpus.bytes / 1e9).toFixed(2)} GB (${corpus.root}); the plan: ${fmtInt(summary?.files)} copies in ` +
        `${fmtInt(summary?.groups)} groups. ${runs} rounds, order rotated, median; ${os.cpus().length} cores, load average after the runs ${load}; ` +
        `${versionOf('jdupes', ['-v'])}; Node ${process.version}${environmentNote()}.`,
      '',
      markdownTable(['command', 'median', 'runs (ms)', 'ratio to jdupes -r (per round)', 'CPU time (ratio)', 'peak RSS'], rows),
      '',
      `Target: plan ≤ 0.3× jdupes -r — ${med[2] / med[0] <= 0.3 ? 'met' : 'not met'} (${fmtRatio(med[2] / med[0])}); ` +
        `the report alone, the plan's floor: ${fmtRatio(med[1] / med[0])}. CPU time: plan ${fmtRatio(cpu[2] / cpu[0])}, report ${fmtRatio(cpu[1] / cpu[0])}.`,
      ...problemsSection([{ label: 'PROBLEM', items: problems }]),
    ].join('\n');
    const file = path.join(BENCH_DIR, `results/dupes-plan-${corpus.files}.md`);
    writeReport('dupes-plan', file, md + '\n', [{ label: 'problems', items: problems }], log);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
  return { ok: problems.length === 0 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { ok } = await run();
  process.exitCode = ok ? 0 : 1;
}
