import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir, metricSum, runFiler, startCluster, type ClusterHandle } from '@filer/testing';

const DIRS = 2000;
const A30 = 'a'.repeat(30);
/** Names that make a backtracking engine try every split of the a's (2^30 ways) before failing at the `!`. */
const NAMES = [
  `${A30}!`,
  `${A30}!.txt`,
  `${'a'.repeat(29)}!`,
  `b${A30}!`,
  `${A30} !`,
  A30,
  `x${A30}!y`,
  `${A30}!!`,
  `${'a '.repeat(15)}!`,
  `${A30.toUpperCase()}!`,
];
/** Each pattern with a benign one that matches the same names (so both print as much): the baseline it is timed against. */
const REDOS: [pattern: string, benign: string][] = [
  ['^(a+)+$', '^a+$'],
  ['(\\w+\\s?)*$', '$'],
  ['(a|a)*$', 'a*$'],
];

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { matched: number };
  createdAt: string;
  finishedAt?: string;
}

const sortedLines = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .sort();

/**
 * Battery 27: the classic catastrophic-backtracking patterns as find filters, over 20,000 names
 * of thirty a's and a `!`. Regexes are RE2 (re2js), linear in the name: each pattern is accepted
 * (it is valid RE2) and runs in about the time of a benign one — in the CLI and as a cluster job,
 * where a shard stuck in a regex would also stop renewing its lock (no stall may be seen).
 */
describe('ReDoS filters (battery 27)', () => {
  let base: string;
  let tree: string;
  let cluster: ClusterHandle;

  beforeAll(async () => {
    base = fastTmpDir('filer-redos-');
    tree = path.join(base, 'tree');
    for (let d = 0; d < DIRS; d++) {
      const dir = path.join(tree, `d${d}`);
      fs.mkdirSync(dir, { recursive: true });
      for (const n of NAMES) fs.writeFileSync(path.join(dir, n), '');
    }
    cluster = await startCluster({
      allowedRoots: [base],
      scanners: 1,
      batch: 1,
      env: { FILER_LOCK_DURATION_MS: '2000', FILER_STALLED_INTERVAL_MS: '1000', FILER_SHARD_BUDGET: '5000' },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  /** `filer find TREE --regex P` and the same with the benign pattern, run in turns four times: the fastest run of each, and their output. */
  async function cliFind(
    pattern: string,
    benign: string,
  ): Promise<{ ms: number; benignMs: number; paths: string[]; benignPaths: string[] }> {
    const best = { [pattern]: Infinity, [benign]: Infinity };
    const out: Record<string, string[]> = {};
    for (let i = 0; i < 4; i++)
      for (const p of [benign, pattern]) {
        const t0 = performance.now();
        const r = await runFiler(['find', tree, '--regex', p], { timeoutMs: 60_000 });
        best[p] = Math.min(best[p], performance.now() - t0);
        expect(r.code, `${p}: ${r.stderr}`).toBe(0);
        out[p] = sortedLines(r.stdout);
      }
    return { ms: best[pattern], benignMs: best[benign], paths: out[pattern], benignPaths: out[benign] };
  }

  it('CLI: each pattern is accepted and the scan takes less than twice the benign one', async () => {
    const report: string[] = [];
    for (const [p, b] of REDOS) {
      const got = await cliFind(p, b);
      report.push(`${p} ${got.ms.toFixed(0)} ms vs ${b} ${got.benignMs.toFixed(0)} ms (${got.paths.length} matches)`);
      expect(got.ms, `${p} took ${got.ms.toFixed(0)} ms, ${b} ${got.benignMs.toFixed(0)} ms`).toBeLessThan(2 * got.benignMs);
      // Linear time, yet the right answers: ^(a+)+$ matches only the name of a's alone.
      expect(got.paths).toEqual(got.benignPaths);
      expect(got.paths).toHaveLength(p === '^(a+)+$' ? DIRS : DIRS * NAMES.length);
    }
    console.info(`ReDoS, CLI (fastest of 4): ${report.join('; ')}`);
  }, 180_000);

  it('API: each pattern is accepted (202), its job completes with the CLI’s paths in under twice the benign job’s time, no shard stalls', async () => {
    const stalledBefore = await metricSum(cluster.workers, 'filer_shards_stalled_total');
    /** Submits a find job with the regex and waits for it; its time is the record's, from creation to finish. */
    const runJob = async (pattern: string): Promise<{ ms: number; job: Job }> => {
      const res = await cluster.request('POST', '/v1/jobs', {
        token: cluster.tokens.write,
        body: { kind: 'find', roots: [tree], filter: { regex: pattern }, options: { format: 'paths' } },
      });
      expect(res.status, `${pattern}: ${await res.clone().text()}`).toBe(202);
      const { id } = (await res.json()) as Job;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const job = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
        if (['completed', 'failed', 'cancelled'].includes(job.state))
          return { job, ms: Date.parse(job.finishedAt ?? job.createdAt) - Date.parse(job.createdAt) };
        if (Date.now() > deadline) throw new Error(`${pattern}: job ${id} still ${job.state}\n${cluster.logs().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const fastest = async (pattern: string): Promise<{ ms: number; job: Job }> => {
      const runs = [await runJob(pattern), await runJob(pattern), await runJob(pattern)];
      return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
    };
    const report: string[] = [];
    for (const [p, b] of REDOS) {
      const benign = await fastest(b);
      expect(benign.job.state, benign.job.message).toBe('completed');
      const { ms, job } = await fastest(p);
      report.push(`${p} ${ms} ms vs ${b} ${benign.ms} ms (${job.counters.matched} matches)`);
      expect(job.state, `${p}: ${job.message}`).toBe('completed');
      const body = await (await cluster.request('GET', `/v1/jobs/${job.id}/results?format=paths`, { token: cluster.tokens.read })).text();
      const cli = await runFiler(['find', tree, '--regex', p]);
      expect(sortedLines(body), p).toEqual(sortedLines(cli.stdout));
      expect(job.counters.matched).toBe(benign.job.counters.matched);
      // A job's time includes queueing (about 0.1 s): below 250 ms the ratio would measure that, not the scan.
      expect(ms, `${p}: job took ${ms} ms, ${b} ${benign.ms} ms`).toBeLessThan(2 * Math.max(benign.ms, 250));
    }
    console.info(`ReDoS, API (fastest of 3 jobs): ${report.join('; ')}`);
    expect((await metricSum(cluster.workers, 'filer_shards_stalled_total')) - stalledBefore).toBe(0);
    expect(cluster.logs()).not.toContain('shard stalled');
  }, 180_000);

  it('a pattern RE2 cannot run in linear time (a backreference) is refused before anything runs: 400 naming the field, exit 2', async () => {
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'find', roots: [tree], filter: { regex: '^(a+)\\1$' } },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; fields?: { field: string }[] } };
    expect(body.error.fields?.[0]?.field).toMatch(/regex/);
    const r = await runFiler(['find', tree, '--regex', '^(a+)\\1$']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/regex/);
    expect(r.stdout).toBe('');
  });
});
