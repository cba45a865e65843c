import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startCluster, type ClusterHandle } from '@filer/testing';
import { writeWideTree } from './tree-fixtures.js';

const FILES = 2_000;
/** Of those, files in groups of 4 identical ones, so the dupes jobs find groups. */
const COPIES = 200;
const JOBS = 100;
const POLL_MS = 200;
const LIST_MS = 500;

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { matched: number };
}

interface Case {
  spec: { kind: string; roots: string[]; filter?: Record<string, unknown>; options?: Record<string, unknown> };
  /** The same job as `filer` flags, for the cases whose results are compared with the in-process CLI. */
  cli?: string[];
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * 100 jobs submitted at once (mostly find with different filters, some dupes) on a small tree:
 * every one completes, a few give exactly the in-process CLI's records, and the API keeps
 * answering every submit, poll and list call made meanwhile (its latency is printed).
 */
describe('the cluster under a burst of jobs', () => {
  let cluster: ClusterHandle;
  let base: string;
  let tree: string;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-load-'));
    tree = path.join(base, 'tree');
    writeWideTree(path.join(tree, 'wide'), FILES - COPIES);
    fs.mkdirSync(path.join(tree, 'copies'));
    for (let i = 0; i < COPIES; i++) fs.writeFileSync(path.join(tree, 'copies', `copy${i}.txt`), `copied content ${i % (COPIES / 4)}\n`);
    cluster = await startCluster({ allowedRoots: [base] });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** Filters of the find jobs, each with its CLI flags: cycled over the jobs, so many differ. */
  const FIND_FILTERS: { filter: Record<string, unknown>; flags: string[] }[] = [
    { filter: {}, flags: [] },
    { filter: { ext: 'csv' }, flags: ['--ext', 'csv'] },
    { filter: { ext: ['txt'] }, flags: ['--ext', 'txt'] },
    { filter: { minSize: '40' }, flags: ['--min-size', '40'] },
    { filter: { maxSize: '30' }, flags: ['--max-size', '30'] },
    { filter: { name: ['f1*'] }, flags: ['--name', 'f1*'] },
    { filter: { regex: '^f[0-9]*7\\.' }, flags: ['--regex', '^f[0-9]*7\\.'] },
    { filter: { exclude: ['b1'] }, flags: ['--exclude', 'b1'] },
    { filter: { maxDepth: 3 }, flags: ['--max-depth', '3'] },
    { filter: { ext: 'csv', minSize: '30' }, flags: ['--ext', 'csv', '--min-size', '30'] },
    { filter: { type: 'd' }, flags: ['--type', 'd'] },
  ];

  const cases = (): Case[] =>
    Array.from({ length: JOBS }, (_, i): Case => {
      if (i % 7 === 3) return { spec: { kind: 'dupes', roots: [tree], options: { format: 'ndjson' } } };
      const f = FIND_FILTERS[i % FIND_FILTERS.length];
      return {
        spec: { kind: 'find', roots: [tree], filter: f.filter, options: { format: 'ndjson' } },
        cli: ['find', tree, ...f.flags, '--format', 'ndjson'],
      };
    });

  it('100 concurrent jobs all complete; the API answers every call meanwhile', async () => {
    const latencies: { what: string; ms: number; status: number }[] = [];
    /** One API call, timed from the request to the end of its body. */
    const timed = async (what: string, method: string, url: string, token: string, body?: unknown) => {
      const t0 = performance.now();
      const res = await cluster.request(method, url, { token, body });
      const text = await res.text();
      latencies.push({ what, ms: performance.now() - t0, status: res.status });
      return { status: res.status, text };
    };

    const all = cases();
    const t0 = performance.now();
    const submitted = await Promise.all(
      all.map(async (c) => {
        const r = await timed('submit', 'POST', '/v1/jobs', cluster.tokens.write, c.spec);
        expect(r.status, r.text).toBe(202);
        return (JSON.parse(r.text) as Job).id;
      }),
    );
    expect(new Set(submitted).size).toBe(JOBS);

    // Someone watching the job list while the burst runs.
    let polling = true;
    const lister = (async () => {
      while (polling) {
        const r = await timed('list', 'GET', '/v1/jobs?limit=50', cluster.tokens.read);
        expect(r.status, r.text).toBe(200);
        await new Promise((res) => setTimeout(res, LIST_MS));
      }
    })();
    const deadline = Date.now() + 50_000;
    const finals = await Promise.all(
      submitted.map(async (id) => {
        for (;;) {
          const r = await timed('get', 'GET', `/v1/jobs/${id}`, cluster.tokens.read);
          expect(r.status, r.text).toBe(200);
          const job = JSON.parse(r.text) as Job;
          if (['completed', 'failed', 'cancelled'].includes(job.state)) return job;
          if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}\n${cluster.logs().slice(-4000)}`);
          await new Promise((res) => setTimeout(res, POLL_MS));
        }
      }),
    ).finally(() => (polling = false));
    const seconds = (performance.now() - t0) / 1000;
    await lister;

    for (const job of finals) expect(job.state, `${job.id}: ${job.message}`).toBe('completed');

    const ms = latencies.map((l) => l.ms).sort((a, b) => a - b);
    const p50 = percentile(ms, 50);
    const p99 = percentile(ms, 99);
    const by = (what: string) => {
      const s = latencies
        .filter((l) => l.what === what)
        .map((l) => l.ms)
        .sort((a, b) => a - b);
      return `${what} ${s.length}: p50 ${percentile(s, 50).toFixed(0)} / p99 ${percentile(s, 99).toFixed(0)} / max ${s[s.length - 1].toFixed(0)} ms`;
    };
    console.log(
      `load: ${JOBS} jobs in ${seconds.toFixed(1)} s; API latency p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms over ${ms.length} requests` +
        ` (${['submit', 'get', 'list'].map(by).join('; ')})`,
    );
    expect(latencies.every((l) => l.status < 300)).toBe(true);
    expect(p99).toBeLessThan(5000);

    // A few of the find jobs, one per distinct filter, against the in-process CLI (sorted: shards finish in any order).
    const sortedLines = (s: string) =>
      s
        .split('\n')
        .filter((l) => l !== '')
        .sort();
    const compared = [0, 1, 5, 6, 9].map((i) => ({ id: submitted[i], cli: all[i].cli! }));
    for (const { id, cli } of compared) {
      const local = await runFiler(cli);
      expect(local.code, local.stderr).toBe(0);
      const res = await cluster.request('GET', `/v1/jobs/${id}/results`, { token: cluster.tokens.read });
      expect(res.status).toBe(200);
      const remote = sortedLines(await res.text());
      expect(remote, cli.join(' ')).toEqual(sortedLines(local.stdout));
      expect(finals[submitted.indexOf(id)].counters.matched).toBe(remote.length);
    }
    expect(finals[0].counters.matched).toBe(FILES);

    // And one dupes job: the same groups in the same order.
    const dupesAt = all.findIndex((c) => c.spec.kind === 'dupes');
    const localDupes = await runFiler(['dupes', tree, '--format', 'ndjson', '--no-cache']);
    expect(localDupes.code, localDupes.stderr).toBe(0);
    const res = await cluster.request('GET', `/v1/jobs/${submitted[dupesAt]}/results`, { token: cluster.tokens.read });
    const remoteDupes = await res.text();
    expect(remoteDupes.split('\n').length - 1).toBe(COPIES / 4);
    expect(remoteDupes).toBe(localDupes.stdout);
  }, 90_000);
});
