import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir, metricSum, runFiler, runProcess, startCluster, type ClusterHandle } from '@filer/testing';
import { writeWideTree } from './tree-fixtures.js';

const FILES = 50_000;

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { matched: number };
  shards: { done: number; total: number };
}

const sortedLines = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .sort();

/**
 * Battery 14: a scanner SIGKILLed one second into a find of 50,000 files, a replacement started
 * at once. BullMQ delivers at least once, so the dead worker's shards run again on the others:
 * the result must still be every file exactly once — the same paths as `filer find` and as GNU
 * `find -type f` — with every planned shard done and the take-back visible in /metrics.
 */
describe('a scanner SIGKILLed mid-find (battery 14)', () => {
  let cluster: ClusterHandle;
  let base: string;
  let tree: string;

  beforeAll(async () => {
    // On tmpfs where there is one: 50,000 files are written and removed in seconds.
    base = fastTmpDir('filer-scan-kill-');
    tree = path.join(base, 'tree');
    writeWideTree(tree, FILES);
    // Short locks, as the battery's cluster tests use, so the dead worker's shards come back within seconds.
    cluster = await startCluster({
      allowedRoots: [base],
      scanners: 2,
      env: {
        FILER_SHARD_BUDGET: '250',
        FILER_LOCK_DURATION_MS: '2000',
        FILER_STALLED_INTERVAL_MS: '1000',
        FILER_WORKER_CONCURRENCY: '2',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }, 120_000);

  const get = async (id: string): Promise<Job> =>
    (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
  const final = (j: Job): boolean => ['completed', 'failed', 'cancelled'].includes(j.state);

  it('completes with exactly the paths of filer find and find -type f, no duplicate, every shard done, a stall counted', async () => {
    const [cli, gnu] = await Promise.all([
      runFiler(['find', tree], { timeoutMs: 120_000 }),
      runProcess('find', [tree, '-type', 'f'], { timeoutMs: 120_000 }),
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(gnu.code, gnu.stderr).toBe(0);
    const expected = sortedLines(cli.stdout);
    expect(expected).toHaveLength(FILES);
    expect(sortedLines(gnu.stdout)).toEqual(expected);

    const stalledBefore = await metricSum(cluster.workers, 'filer_shards_stalled_total');
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'find', roots: [tree], options: { format: 'paths' } },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as Job;
    const submittedAt = Date.now();

    // One second in, with shards of this job finished and others in flight, kill -9, then a replacement; sooner
    // on a machine fast enough to list more than 30 % of the tree in that second.
    let atKill: Job;
    for (;;) {
      atKill = await get(id);
      if (final(atKill) || (atKill.shards.done >= 1 && (Date.now() - submittedAt >= 1000 || atKill.counters.matched >= 0.3 * FILES))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const victim = cluster.workers.find((w) => w.name === 'scanner-1')!;
    await victim.kill('SIGKILL');
    const killedAt = Date.now() - submittedAt;
    expect(final(atKill), `the find ended before the kill (${atKill.state})`).toBe(false);
    await victim.restart();

    const deadline = Date.now() + 120_000;
    let done = await get(id);
    while (!final(done)) {
      if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${done.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
      done = await get(id);
    }
    expect(done.state, done.message).toBe('completed');
    const body = await (await cluster.request('GET', `/v1/jobs/${id}/results?format=paths`, { token: cluster.tokens.read })).text();
    const got = sortedLines(body);
    // Byte-equal, sorted: no path missing, none doubled by the shards that ran twice.
    expect(Buffer.from(got.join('\n'))).toEqual(Buffer.from(expected.join('\n')));
    expect(new Set(got).size).toBe(got.length);
    expect(done.counters.matched).toBe(FILES);
    expect(done.shards.done).toBe(done.shards.total);
    expect(done.shards.total).toBeGreaterThan(50);
    const stalled = (await metricSum(cluster.workers, 'filer_shards_stalled_total')) - stalledBefore;
    console.info(
      `scanner kill: killed ${atKill.shards.done}/${atKill.shards.total} shards in (${atKill.counters.matched} matched), at ${killedAt} ms; ` +
        `${done.shards.total} shards; ${stalled} taken back (filer_shards_stalled_total)`,
    );
    expect(stalled).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
