#!/usr/bin/env node
// Fairness between jobs: how long a tiny find job takes while a big one runs on the same cluster.
//
//   node bench/fairness.mjs TREE [REPO…]
//
// TREE: a big tree (e.g. a 1M-file bench/.cache/tree-1000000 made by gen-tree.mjs); it is only read.
// REPO: checkouts whose built apps to start (default: this one), e.g. a base worktree beside this
// one for an A/B in the same run; rounds alternate between them.
// Env: BENCH_RUNS (rounds, default 3), BENCH_TINY_AFTER_MS (how long after the big job's submit the
//      tiny one is submitted, default 2000), BENCH_FAIRNESS_ENV (more cluster env, `K=V,K=V`).
//
// Each round: a fresh cluster (the API, 2 scanner workers, 1 batch worker, its own redis-server);
// POST a find job over TREE (--format ndjson), wait BENCH_TINY_AFTER_MS, POST a find job over a
// 10-file directory, and poll both every 20 ms. Reported: the tiny job's time from its POST to
// `completed`, the big job's whole time, and whether the tiny job finished while the big one still ran.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [tree, ...repoArgs] = process.argv.slice(2);
if (tree === undefined || !fs.existsSync(tree)) {
  console.error('usage: node bench/fairness.mjs TREE [REPO…]  (TREE: an existing directory)');
  process.exit(2);
}
const repos = repoArgs.length > 0 ? repoArgs.map((r) => path.resolve(r)) : [HERE];
const runs = Number(process.env.BENCH_RUNS ?? 3);
const tinyAfterMs = Number(process.env.BENCH_TINY_AFTER_MS ?? 2000);
const extraEnv = Object.fromEntries(
  (process.env.BENCH_FAIRNESS_ENV ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const FINAL = ['completed', 'failed', 'cancelled'];

const small = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-fairness-small-'));
for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(small, `f${i}.txt`), `file ${i}\n`);

async function round(repo) {
  const { startCluster } = await import(path.join(repo, 'libs/testing/dist/index.js'));
  const cluster = await startCluster({ allowedRoots: [path.resolve(tree), small], env: extraEnv });
  try {
    const submit = async (root) => {
      const res = await cluster.request('POST', '/v1/jobs', {
        token: cluster.tokens.write,
        body: { kind: 'find', roots: [root], filter: { hidden: true, noIgnore: true }, options: { format: 'ndjson' } },
      });
      if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
      return (await res.json()).id;
    };
    const get = async (id) => (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json();
    const t0 = performance.now();
    const big = await submit(path.resolve(tree));
    await new Promise((r) => setTimeout(r, tinyAfterMs));
    const t1 = performance.now();
    const tiny = await submit(small);
    let tinyMs;
    let bigMs;
    let bigStateAtTiny;
    let bigShardsAtTiny;
    while (tinyMs === undefined || bigMs === undefined) {
      const [b, t] = await Promise.all([get(big), get(tiny)]);
      const now = performance.now();
      if (tinyMs === undefined && FINAL.includes(t.state)) {
        if (t.state !== 'completed' || t.counters.matched !== 10) throw new Error(`tiny job ${t.state}, ${t.counters.matched} matched`);
        tinyMs = now - t1;
        bigStateAtTiny = b.state;
        bigShardsAtTiny = `${b.shards.done}/${b.shards.total}`;
      }
      if (bigMs === undefined && FINAL.includes(b.state)) {
        if (b.state !== 'completed') throw new Error(`big job ${b.state}: ${b.message}`);
        bigMs = now - t0;
      }
      if (now - t0 > 15 * 60_000) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
    return { tinyMs, bigMs, bigStateAtTiny, bigShardsAtTiny };
  } finally {
    await cluster.stop();
  }
}

const rows = [];
for (let r = 0; r < runs; r++)
  for (const repo of r % 2 === 0 ? repos : [...repos].reverse()) {
    const out = await round(repo);
    rows.push({ repo, ...out });
    console.log(
      `${path.basename(repo).padEnd(16)} tiny ${(out.tinyMs / 1000).toFixed(2)} s  big ${(out.bigMs / 1000).toFixed(2)} s  ` +
        `big at tiny's end: ${out.bigStateAtTiny}, shards ${out.bigShardsAtTiny}`,
    );
  }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('\nmedians (tiny job, big job):');
for (const repo of repos) {
  const mine = rows.filter((x) => x.repo === repo);
  console.log(
    `${path.basename(repo).padEnd(16)} ${(median(mine.map((x) => x.tinyMs)) / 1000).toFixed(2)} s  ${(median(mine.map((x) => x.bigMs)) / 1000).toFixed(2)} s`,
  );
}
fs.rmSync(small, { recursive: true, force: true });
