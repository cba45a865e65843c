#!/usr/bin/env node
// filer over S3 against rclone, both talking to the same s3rver on loopback:
//   - listing: `filer find s3://bench/up-rclone/ --hidden --format paths` vs `rclone lsf -R --files-only`
//     on a prefix rclone uploaded once (listed many times);
//   - uploading the synthetic tree: `filer copy T --dest s3://bench/up-filer-K/ --apply` vs
//     `rclone copy --transfers 16 T remote:bench/up-rclone…`, each into a fresh prefix.
//
//   node bench/s3.mjs [N]          N: tree size (default $BENCH_S3_FILES, then 100,000); generated if missing
//   node bench/run.mjs s3          via the harness (uses BENCH_S3_FILES, not BENCH_FILES)
//
// Env: BENCH_S3_FILES (tree size), BENCH_RUNS (timed listing runs per command, default 3), BENCH_WARMUP
//      (warm-up listing runs, default 1), BENCH_S3_UPLOAD_RUNS (timed uploads per tool, default 1: s3rver
//      stores about 150 objects/s, so 100,000 objects take 11+ minutes per tool), BENCH_TIMEOUT_MS (per
//      run, default 15 min: raise it for 100,000 files, e.g. BENCH_TIMEOUT_MS=3600000).
//
// The server is s3rver 3.7.1 (the test harness's, patched by scripts/patch-s3rver.mjs, run under
// --openssl-legacy-provider), a single Node process: on a 2-core machine it, not the client, sets
// the pace, and both tools share it the same way. Checks (untimed): every listing's line count and
// every upload's object count equal the tree's file count, and `rclone check` finds each uploaded
// prefix identical to the tree (sizes and MD5s). filer runs with --hidden (the tree has hidden files
// and directories; rclone copies everything), and copy with --no-ignore (the tree lives under
// bench/.cache/, which the repo's .gitignore lists).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureTree, parseCount } from './gen-tree.mjs';
import { HAS_GNU_TIME, formatMB, formatMs, markdownTable, measure, median } from './lib/measure.mjs';
import { intEnv, environmentNote } from './lib/env.mjs';
import { versionOf } from './lib/peers.mjs';
import { problemsSection, writeReport } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const FILER_BIN = path.join(REPO, 'apps/cli/bin/filer.js');
const FILER_MAIN = path.join(REPO, 'apps/cli/dist/main.js');
const S3RVER_MAIN = path.join(REPO, 'libs/testing/scripts/s3rver-main.cjs');
const RESULTS = path.join(BENCH_DIR, 'results/s3.md');
const BUCKET = 'bench';

export const name = 's3';

/** Starts s3rver on a free loopback port with the bench bucket; resolves to { endpoint, dir (its store), stop }. */
export async function startS3rver(log) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', S3RVER_MAIN, dir, BUCKET], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b.toString()));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}): ${stderr}`)));
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  log(`s3: s3rver on 127.0.0.1:${port}, store ${dir}`);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dir,
    async stop() {
      process.off('exit', kill);
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGKILL');
        });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function filerEnv(endpoint) {
  return {
    FILER_S3_ENDPOINT: endpoint,
    FILER_S3_REGION: 'us-east-1',
    FILER_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

function rcloneEnv(endpoint) {
  return {
    RCLONE_CONFIG_REMOTE_TYPE: 's3',
    RCLONE_CONFIG_REMOTE_PROVIDER: 'Other',
    RCLONE_CONFIG_REMOTE_ENDPOINT: endpoint,
    RCLONE_CONFIG_REMOTE_ACCESS_KEY_ID: 'S3RVER',
    RCLONE_CONFIG_REMOTE_SECRET_ACCESS_KEY: 'S3RVER',
    RCLONE_CONFIG_REMOTE_REGION: 'us-east-1',
    RCLONE_CONFIG_REMOTE_FORCE_PATH_STYLE: 'true',
  };
}

/** rclone refuses to start with AWS_CA_BUNDLE set (even for http), hence `env -u`. */
export function rcloneCmd(endpoint, args, display) {
  return {
    cmd: 'env',
    args: ['-u', 'AWS_CA_BUNDLE', 'rclone', '--config', '/dev/null', ...args],
    env: rcloneEnv(endpoint),
    display: display ?? `rclone ${args.join(' ')}`,
  };
}

function filerCmd(endpoint, args, display) {
  return { cmd: process.execPath, args: [FILER_BIN, ...args], env: filerEnv(endpoint), display: display ?? `filer ${args.join(' ')}` };
}

async function runOne(label, cmd, mode, log, failures) {
  const r = await measure(cmd, mode);
  if (r.code !== 0 || r.signal) {
    failures.push(
      `${label}: exit ${r.code ?? r.signal}\n    ${cmd.display}\n    ${r.stderr.trim().split('\n').slice(0, 10).join('\n    ')}`,
    );
    log(`  !!! ${label} FAILED (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return r;
}

/** Objects under a prefix, counted by rclone (the independent client). */
async function countObjects(endpoint, prefix, log, failures) {
  const r = await runOne(
    `count ${prefix}`,
    rcloneCmd(endpoint, ['lsf', '-R', '--files-only', `remote:${BUCKET}/${prefix}`]),
    'count',
    log,
    failures,
  );
  return r.code === 0 ? r.lines : undefined;
}

/** `rclone check` of the tree against an uploaded prefix: sizes and MD5s (ETags of single PUTs), both ways. */
async function checkUpload(endpoint, tree, prefix, log, failures) {
  const r = await runOne(
    `rclone check ${prefix}`,
    rcloneCmd(endpoint, ['check', tree, `remote:${BUCKET}/${prefix}`]),
    'null',
    log,
    failures,
  );
  return r.code === 0;
}

/**
 * Runs the listing and upload cases and writes bench/results/s3.md.
 * @returns {Promise<{ok: boolean, markdown: string}>}
 */
export async function run({ log = (s) => process.stderr.write(s + '\n'), files } = {}) {
  if (!fs.existsSync(FILER_MAIN)) throw new Error(`${FILER_MAIN} is missing: run 'npm run build' first (npm run bench does)`);
  const n = files ?? (process.env.BENCH_S3_FILES ? parseCount(process.env.BENCH_S3_FILES) : 100_000);
  const manifest = ensureTree(n, { log });
  const tree = manifest.root;
  const runs = intEnv('BENCH_RUNS', 3, 1);
  const warmups = intEnv('BENCH_WARMUP', 1, 1);
  const uploadRuns = intEnv('BENCH_S3_UPLOAD_RUNS', 1, 1);
  const failures = [];
  const mismatches = [];
  const server = await startS3rver(log);
  const { endpoint } = server;
  const rows = [];
  try {
    // --- upload: fresh prefixes, rclone first then filer, alternating over rounds ---------------
    log(
      `s3: upload case, ${n.toLocaleString('en-US')} files, ${uploadRuns} timed run(s) per tool (no warm-up: each run is a fresh prefix)`,
    );
    const up = { subject: { ms: [], rss: [] }, peer: { ms: [], rss: [] } };
    const upCmds = (k) => ({
      subject: filerCmd(
        endpoint,
        ['copy', tree, '--dest', `s3://${BUCKET}/up-filer-${k}/`, '--apply', '--hidden', '--no-ignore'],
        `filer copy T --dest s3://${BUCKET}/up-filer-K/ --apply --hidden --no-ignore`,
      ),
      peer: rcloneCmd(
        endpoint,
        ['copy', '--transfers', '16', tree, `remote:${BUCKET}/up-rclone-${k}`],
        `rclone copy --transfers 16 T remote:${BUCKET}/up-rclone-K`,
      ),
    });
    let listPrefix;
    for (let k = 1; k <= uploadRuns; k++) {
      const cmds = upCmds(k);
      const order = k % 2 === 1 ? ['peer', 'subject'] : ['subject', 'peer'];
      for (const key of order) {
        const label = key === 'subject' ? 'filer copy' : 'rclone copy';
        const r = await runOne(label, cmds[key], 'null', log, failures);
        up[key].ms.push(r.ms);
        if (r.rssKB !== undefined) up[key].rss.push(r.rssKB);
        if (r.code !== 0 || r.signal) up.failed = true;
        const prefix = key === 'subject' ? `up-filer-${k}` : `up-rclone-${k}`;
        const count = await countObjects(endpoint, prefix, log, failures);
        const same = await checkUpload(endpoint, tree, prefix, log, failures);
        log(`  ${label} → ${prefix}: ${formatMs(r.ms)}, ${count} objects${same ? ', rclone check: identical' : '   <<< DIFFERS'}`);
        up[key].count = count;
        if (count !== n || !same) mismatches.push(`upload ${prefix}: ${count} objects (want ${n})${same ? '' : ', rclone check failed'}`);
        if (key === 'peer' && k === 1) listPrefix = prefix;
      }
    }
    rows.push({ title: `upload ${n.toLocaleString('en-US')} files`, peerTool: 'rclone copy --transfers 16', res: up, cmds: upCmds('K') });

    // --- listing: the prefix rclone uploaded, warm-ups counted, timed runs alternate -------------
    const list = {
      subject: filerCmd(
        endpoint,
        ['find', `s3://${BUCKET}/${listPrefix}/`, '--hidden', '--format', 'paths'],
        `filer find s3://${BUCKET}/up-rclone-1/ --hidden --format paths`,
      ),
      peer: rcloneCmd(endpoint, ['lsf', '-R', '--files-only', `remote:${BUCKET}/${listPrefix}`]),
    };
    log(`s3: listing case on ${listPrefix}, ${warmups} warm-up + ${runs} timed runs per tool`);
    const ls = { subject: { ms: [], rss: [] }, peer: { ms: [], rss: [] } };
    for (let w = 0; w < warmups; w++) {
      for (const key of ['subject', 'peer']) {
        const label = key === 'subject' ? 'filer find (warm-up)' : 'rclone lsf (warm-up)';
        const r = await runOne(label, list[key], w === 0 ? 'count' : 'null', log, failures);
        if (r.code !== 0 || r.signal) ls.failed = true;
        if (r.rssKB !== undefined) ls[key].rss.push(r.rssKB);
        if (w === 0) ls[key].count = r.lines;
      }
    }
    log(`  lines: filer ${ls.subject.count}, rclone ${ls.peer.count}, expected ${n}`);
    if (ls.subject.count !== n || ls.peer.count !== n)
      mismatches.push(`listing: filer ${ls.subject.count}, rclone ${ls.peer.count}, expected ${n}`);
    for (let i = 0; i < runs; i++) {
      for (const key of i % 2 === 0 ? ['subject', 'peer'] : ['peer', 'subject']) {
        const r = await runOne(key === 'subject' ? 'filer find' : 'rclone lsf', list[key], 'null', log, failures);
        if (r.code !== 0 || r.signal) ls.failed = true;
        ls[key].ms.push(r.ms);
        if (r.rssKB !== undefined) ls[key].rss.push(r.rssKB);
      }
    }
    rows.unshift({ title: `list ${n.toLocaleString('en-US')} objects`, peerTool: 'rclone lsf -R --files-only', res: ls, cmds: list });
  } finally {
    await server.stop();
  }

  // --- report -------------------------------------------------------------------------------------
  for (const { res } of rows) {
    for (const side of [res.subject, res.peer]) {
      side.median = side.ms.length > 0 ? median(side.ms) : undefined;
      side.maxRss = side.rss.length > 0 ? Math.max(...side.rss) : undefined;
    }
  }
  const perSec = (ms) => (ms === undefined ? '—' : `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`);
  const timeRows = rows.map(({ title, peerTool, res }) => [
    title,
    `${formatMs(res.subject.median)} (${perSec(res.subject.median)})`,
    `${formatMs(res.peer.median)} (${perSec(res.peer.median)})`,
    peerTool,
    res.subject.median && res.peer.median ? (res.subject.median / res.peer.median).toFixed(2) : '—',
    res.failed ? '**FAILED RUNS**' : 'ok',
  ]);
  const rssRows = rows.map(({ title, res }) => [title, formatMB(res.subject.maxRss), formatMB(res.peer.maxRss)]);
  const countRows = rows.map(({ title, res }) => [title, res.subject.count ?? '?', res.peer.count ?? '?', n]);
  const runRows = rows.map(({ title, res }) => [title, res.subject.ms.map(formatMs).join(', '), res.peer.ms.map(formatMs).join(', ')]);
  const cmdRows = rows.flatMap(({ title, peerTool, cmds }) => [
    [title, 'filer', '`' + cmds.subject.display + '`'],
    ['', peerTool.split(' ')[0], '`' + cmds.peer.display + '`'],
  ]);
  const cpus = os.cpus();
  const s3rverVersion = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules/s3rver/package.json'), 'utf8')).version;
  const md = [
    '# filer over S3 benchmark (s3rver on loopback)',
    '',
    `- date: ${new Date().toISOString()}`,
    `- file count used: **${n.toLocaleString('en-US')}** (BENCH_S3_FILES; default 100,000)`,
    `- tree: \`${path.relative(REPO, tree)}\` — ${manifest.files.toLocaleString('en-US')} files (hidden ones included), ${manifest.dirs.toLocaleString('en-US')} dirs, depth ≤ ${manifest.maxDepth}, ${(manifest.bytes / 1e6).toFixed(1)} MB, generator v${manifest.generatorVersion}`,
    `- server: s3rver ${s3rverVersion} (patched, \`node --openssl-legacy-provider\`), one Node process on 127.0.0.1, filesystem store in ${os.tmpdir()}`,
    `- machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; node ${process.version}; ${versionOf('rclone')}${environmentNote()}`,
    `- method: listing — the prefix rclone uploaded, ${warmups} warm-up run (lines counted) + ${runs} timed runs per tool, alternating, stdout → /dev/null; ` +
      `upload — ${uploadRuns} timed run(s) per tool, each into a fresh prefix, then (untimed) the objects counted with \`rclone lsf\` and the prefix compared with the tree by \`rclone check\` (sizes, MD5s). ` +
      `time = median wall time; ratio = filer / rclone (below 1: filer faster); peak RSS = max over runs, ${HAS_GNU_TIME ? 'GNU time %M' : '/proc VmHWM polled'}`,
    '- the server is the bottleneck: s3rver is single-threaded and shares the 2 cores with the client; on S3 itself both tools would run far faster. ' +
      "Requests: filer copy sends 2 per object (the PUT with Content-MD5 and `If-None-Match: *`, which s3rver ignores, so the check is the plan's listing of the destination; then a verifying HEAD), rclone copy 2 (a HEAD, then the PUT). " +
      '`rclone lsf -R` lists the whole prefix flat (no delimiter, 1,000 keys a request, one after another); filer lists the top levels with `Delimiter /` until a level holds 16 prefixes, then each of those flat (1,000 keys a request), 16 listings at once.',
    '',
    '## Wall time',
    '',
    markdownTable(['case', 'filer', 'rclone', 'peer command', 'ratio (filer/rclone)', 'runs'], timeRows),
    '## Peak RSS',
    '',
    markdownTable(['case', 'filer', 'rclone'], rssRows),
    '## Objects listed / uploaded (sanity check)',
    '',
    markdownTable(['case', 'filer', 'rclone', 'expected'], countRows),
    '## All timed runs',
    '',
    markdownTable(['case', 'filer runs', 'rclone runs'], runRows),
    '## Commands (T = tree root)',
    '',
    markdownTable(['case', 'tool', 'command'], cmdRows),
  ];
  const problemList = [
    { label: 'MISMATCH', items: mismatches },
    { label: 'FAILED RUN', items: failures },
  ];
  md.push(...problemsSection(problemList));
  const markdown = md.join('\n');
  writeReport('s3', RESULTS, markdown, problemList, log);
  return { ok: mismatches.length === 0 && failures.length === 0, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  const { ok } = await run({ files: arg ? parseCount(arg) : undefined });
  process.exitCode = ok ? 0 : 1;
}
