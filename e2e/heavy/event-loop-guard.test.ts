import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir, metricSamples, scrapeMetrics, startCluster, type ClusterHandle, type ClusterProcess } from '@filer/testing';

const ENTRIES = 300_000;
const BLOBS = 8;
const BLOB_BYTES = 256 * 1024 * 1024;

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { entries?: number; matched: number };
  dupes?: { groups: number; bytesHashed: number; filesHashed: number };
}

/** The event-loop delay a worker's /metrics reports (prom-client's monitorEventLoopDelay: the window since the previous scrape). */
function loopDelay(text: string): { p99: number; max: number } {
  const one = (name: string): number => {
    const s = metricSamples(text, name);
    expect(s, name).toHaveLength(1);
    return s[0].value;
  };
  return { p99: one('filer_process_nodejs_eventloop_lag_p99_seconds'), max: one('filer_process_nodejs_eventloop_lag_max_seconds') };
}

/**
 * Battery 22 (heavy: about 1–2 minutes on 2 cores): a dupes job whose scan meets one directory of
 * 300,000 entries and whose hash phase reads 2 GiB (eight identical 256 MiB files, sparse on
 * tmpfs, so their samples collide and each is hashed whole), on workers with the default lock
 * (30 s). A shard that kept the event loop from turning for longer than the lock would lose it
 * and run twice. Pass: no stalled shard, and each worker's event-loop delay p99 under 500 ms.
 */
describe('the event loop keeps turning under a huge directory and 2 GiB of hashing (battery 22)', () => {
  let cluster: ClusterHandle;
  let base: string;
  let tree: string;

  beforeAll(async () => {
    base = fastTmpDir('filer-loop-guard-');
    tree = path.join(base, 'tree');
    const big = path.join(tree, 'big');
    fs.mkdirSync(big, { recursive: true });
    for (let i = 0; i < ENTRIES; i++) fs.closeSync(fs.openSync(path.join(big, `entry-${String(i).padStart(6, '0')}.txt`), 'w'));
    const blobs = path.join(tree, 'blobs');
    fs.mkdirSync(blobs);
    for (let i = 0; i < BLOBS; i++) {
      // Sparse: all holes, read back as zeros without taking 2 GiB of memory.
      const blob = path.join(blobs, `blob-${i}.bin`);
      fs.writeFileSync(blob, '');
      fs.truncateSync(blob, BLOB_BYTES);
    }
    // The lock settings are left at their defaults (30 s lock, 5 s stalled check), as the battery asks.
    cluster = await startCluster({ allowedRoots: [base], scanners: 1, batch: 1 });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }, 300_000);

  it('finds the groups with no stalled shard and a p99 event-loop delay under 500 ms in each worker', async () => {
    const workers: ClusterProcess[] = cluster.workers;
    // A scrape resets the delay histograms: the next one covers exactly the job.
    for (const w of workers) await scrapeMetrics(w);
    const t0 = Date.now();
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'dupes', roots: [tree], options: { format: 'ndjson' } },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as Job;
    let job: Job;
    for (;;) {
      job = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
      if (['completed', 'failed', 'cancelled'].includes(job.state)) break;
      if (Date.now() - t0 > 240_000) throw new Error(`job ${id} still ${job.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (Date.now() - t0) / 1000;
    const after = await Promise.all(workers.map(async (w) => ({ name: w.name, text: await scrapeMetrics(w) })));
    const delays = after.map(({ name, text }) => ({ name, ...loopDelay(text) }));
    const stalled = after.reduce(
      (n, { text }) => n + metricSamples(text, 'filer_shards_stalled_total').reduce((m, s) => m + s.value, 0),
      0,
    );
    console.info(
      `event-loop guard: dupes over ${ENTRIES} entries + ${(BLOBS * BLOB_BYTES) / 2 ** 30} GiB in ${seconds.toFixed(1)} s; ` +
        delays.map((d) => `${d.name} p99 ${(d.p99 * 1000).toFixed(0)} ms, max ${(d.max * 1000).toFixed(0)} ms`).join('; ') +
        `; hashed ${job.dupes?.bytesHashed} bytes; ${stalled} stalled`,
    );
    expect(job.state, job.message).toBe('completed');
    expect(job.dupes).toMatchObject({ groups: 1 });
    // Every blob was read whole (samples first, then the full files: at least 2 GiB).
    expect(job.dupes!.bytesHashed).toBeGreaterThanOrEqual(BLOBS * BLOB_BYTES);
    expect(stalled).toBe(0);
    expect(cluster.logs()).not.toContain('shard stalled');
    for (const d of delays) expect(d.p99, `${d.name} event-loop delay p99 (s)`).toBeLessThan(0.5);
    // The longest block must stay well inside the lock, which is renewed every lockDuration / 2 (15 s).
    // (One directory is listed in one synchronous step: about 3.5 s for these 300,000 entries here.)
    for (const d of delays) expect(d.max, `${d.name} longest event-loop delay (s)`).toBeLessThan(15);
  }, 300_000);
});
