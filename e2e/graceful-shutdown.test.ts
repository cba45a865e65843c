import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir, runFiler, startCluster, type ClusterHandle } from '@filer/testing';
import { contentListing, writeWideTree } from './tree-fixtures.js';

// Big enough that the walk outlasts the signal: the native walk lists 30,000 files in about 0.1 s.
const FIND_FILES = 200_000;
const MOVE_FILES = 20_000;
const GRACE_MS = 20_000;

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { matched: number };
  apply?: { done: number };
}

interface LogLine {
  name: string;
  at: number;
  msg?: string;
  shard?: string;
  shardId?: string;
  queue?: string;
}

/**
 * Battery 21: SIGTERM a worker in the middle of a shard. A scanner hands its walk back (nothing
 * written, put back in the queue) and exits at once; a batch worker finishes its apply shard and
 * then exits. Either way within the grace period, with exit code 0, no shard stalled, and results
 * exactly those of a run without the signal.
 */
describe('SIGTERM mid-shard', () => {
  let cluster: ClusterHandle;
  let base: string;
  let shm: string;
  const lines: LogLine[] = [];

  const submit = async (spec: unknown): Promise<Job> => {
    const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
    expect(res.status, await res.clone().text()).toBe(202);
    return (await res.json()) as Job;
  };
  const get = async (id: string): Promise<Job> =>
    (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
  const waitUntil = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const final = async (id: string): Promise<Job> => {
    let job: Job | undefined;
    await waitUntil(`job ${id} final`, async () => ['completed', 'failed', 'cancelled'].includes((job = await get(id)).state));
    return job!;
  };
  /** Shards taken back from a worker that stopped renewing their locks: there must be none. */
  const stalled = (): string[] => lines.filter((l) => l.msg?.startsWith('shard stalled')).map((l) => `${l.name}: ${l.queue} ${l.shardId}`);
  const worker = (name: string) => cluster.workers.find((w) => w.name === name)!;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-sigterm-'));
    // The find's 200,000 files on tmpfs: over a minute to write to this host's disk under load.
    shm = fastTmpDir('filer-sigterm-');
    writeWideTree(path.join(shm, 'tree'), FIND_FILES);
    // One scanner whose single shard walks the whole tree; two batch workers, one shard at a time each.
    cluster = await startCluster({
      allowedRoots: [base, shm],
      scanners: 1,
      batch: 2,
      onLine: (name, line) => {
        if (!line.startsWith('{')) return;
        try {
          const l = JSON.parse(line) as Omit<LogLine, 'name' | 'at'>;
          lines.push({ name, at: Date.now(), msg: l.msg, shard: l.shard, shardId: l.shardId, queue: l.queue });
        } catch {
          // not a log line
        }
      },
      env: {
        FILER_SHARD_BUDGET: '10000000',
        FILER_BATCH_SHARD_SIZE: '1000',
        FILER_WORKER_CONCURRENCY: '1',
        // The test asserts that no shard stalls: a lock long enough that a loaded machine's slow
        // fsync or GC pause is not taken for a dead worker, short enough that a shard a stopping
        // worker really abandoned is taken back (and seen) before its job can complete.
        FILER_LOCK_DURATION_MS: '6000',
        FILER_STALLED_INTERVAL_MS: '1000',
        FILER_SHUTDOWN_TIMEOUT_MS: String(GRACE_MS),
      },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    for (const dir of [base, shm]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('a scanner mid-find hands its shard back and exits at once; the find is exact', async () => {
    const tree = path.join(shm, 'tree');
    const local = await runFiler(['find', tree, '--format', 'ndjson']);
    const expected = local.stdout
      .split('\n')
      .filter((l) => l !== '')
      .sort();
    expect(expected).toHaveLength(FIND_FILES);
    const from = lines.length;
    const job = await submit({ kind: 'find', roots: [tree], options: { format: 'ndjson' } });
    await waitUntil('the scan shard starts', () => lines.slice(from).some((l) => l.name === 'scanner-1' && l.msg === 'shard started'));
    const t0 = Date.now();
    const status = await worker('scanner-1').kill('SIGTERM');
    const exitMs = Date.now() - t0;
    console.info(`scanner SIGTERMed mid-shard: exited ${exitMs} ms later`);
    expect(status).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(GRACE_MS);
    const mine = lines.slice(from).filter((l) => l.name === 'scanner-1');
    expect(mine.map((l) => l.msg)).toContain('shard handed back: this worker is stopping, another one runs it');
    expect(mine.map((l) => l.msg)).not.toContain('shard finished');
    expect((await get(job.id)).state).toBe('running');

    await worker('scanner-1').restart();
    const done = await final(job.id);
    expect(done.state, done.message).toBe('completed');
    expect(done.counters.matched).toBe(FIND_FILES);
    const res = await cluster.request('GET', `/v1/jobs/${job.id}/results`, { token: cluster.tokens.read });
    expect(
      (await res.text())
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(expected);
    expect(stalled()).toEqual([]);
  }, 240_000);

  it('a batch worker mid-move finishes its shard, then exits; the move is exact', async () => {
    const src = path.join(base, 'src');
    const dest = path.join(base, 'dest');
    writeWideTree(src, MOVE_FILES);
    const before = contentListing(src);
    const from = lines.length;
    const job = await submit({ kind: 'move', roots: [src], options: { dest }, apply: true });
    let shardId: string | undefined;
    await waitUntil('an apply shard starts on batch-1', () => {
      shardId = lines.slice(from).find((l) => l.name === 'batch-1' && l.msg === 'shard started' && l.shard === 'apply')?.shardId;
      return shardId !== undefined;
    });
    const t0 = Date.now();
    const status = await worker('batch-1').kill('SIGTERM');
    const exitMs = Date.now() - t0;
    console.info(`batch worker SIGTERMed mid-shard: exited ${exitMs} ms later`);
    expect(status).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(GRACE_MS);
    // It finished the shard it held (after the signal), and took no other.
    const mine = lines.slice(from).filter((l) => l.name === 'batch-1' && l.shard === 'apply');
    expect(mine.filter((l) => l.msg === 'shard finished').map((l) => l.shardId)).toEqual([shardId]);
    expect(mine.find((l) => l.msg === 'shard finished')!.at).toBeGreaterThanOrEqual(t0);

    // The other batch worker applies the rest; the stopped one is not restarted.
    const done = await final(job.id);
    expect(done.state, done.message).toBe('completed');
    expect(done.apply?.done).toBe(MOVE_FILES);
    expect(contentListing(dest)).toEqual(before);
    expect(contentListing(src)).toEqual([]);
    expect(stalled()).toEqual([]);
    await worker('batch-1').restart();
  }, 240_000);
});
