import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir, startCluster, type ClusterHandle } from '@filer/testing';

const DIRS = 1000;
const PER_DIR = 1000;
const ROWS = DIRS * PER_DIR;
const MB = 1024 * 1024;

interface Job {
  id: string;
  state: string;
  message?: string;
  counters: { matched: number };
}

/** VmRSS and VmHWM (peak resident set) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * Reads a response to its end on a connection of its own, pausing 100 ms after every 8 MiB, so a
 * server that did not respect back-pressure would have to buffer what the client does not take.
 */
function readSlowly(url: string, token: string): Promise<{ status: number; lines: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let lines = 0;
      let bytes = 0;
      let sincePause = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        sincePause += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
        if (sincePause >= 8 * MB) {
          sincePause = 0;
          res.pause();
          setTimeout(() => res.resume(), 100);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * Battery 28's streaming row (heavy: about 2–3 minutes on 2 cores): a find job over 1,000,000
 * empty files on tmpfs, its results streamed from the API to a slow reader. The API reads the
 * part files line by line and sends them under back-pressure, so its peak resident set (VmHWM,
 * which counts start-up too) stays under 200 MB.
 */
describe('streaming 1,000,000 result rows (battery 28)', () => {
  let cluster: ClusterHandle;
  let base: string;
  let tree: string;

  beforeAll(async () => {
    base = fastTmpDir('filer-stream-rss-');
    tree = path.join(base, 'tree');
    for (let d = 0; d < DIRS; d++) {
      const dir = path.join(tree, `d${String(d).padStart(4, '0')}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < PER_DIR; f++) fs.closeSync(fs.openSync(path.join(dir, `file-${String(f).padStart(4, '0')}.dat`), 'w'));
    }
    cluster = await startCluster({ allowedRoots: [base], scanners: 2, batch: 1 });
  }, 600_000);

  afterAll(async () => {
    await cluster?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }, 600_000);

  it('sends every row while the API’s peak RSS stays under 200 MB', async () => {
    const api = cluster.api!;
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'find', roots: [tree], options: { format: 'ndjson' } },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as Job;
    const t0 = Date.now();
    let job: Job;
    for (;;) {
      job = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
      if (['completed', 'failed', 'cancelled'].includes(job.state)) break;
      if (Date.now() - t0 > 400_000) throw new Error(`job ${id} still ${job.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(job.state, job.message).toBe('completed');
    expect(job.counters.matched).toBe(ROWS);
    const scanSeconds = (Date.now() - t0) / 1000;

    const before = memoryOf(api.pid);
    const t1 = Date.now();
    const got = await readSlowly(`${cluster.url}/v1/jobs/${id}/results`, cluster.tokens.read);
    const streamSeconds = (Date.now() - t1) / 1000;
    const after = memoryOf(api.pid);
    console.info(
      `stream: find of ${ROWS} files in ${scanSeconds.toFixed(0)} s; ${got.lines} rows (${(got.bytes / MB).toFixed(0)} MiB) streamed in ` +
        `${streamSeconds.toFixed(1)} s; API RSS ${(before.rss / MB).toFixed(0)} → ${(after.rss / MB).toFixed(0)} MiB, ` +
        `peak (VmHWM) ${(after.hwm / MB).toFixed(0)} MiB`,
    );
    expect(got.status).toBe(200);
    expect(got.lines).toBe(ROWS);
    expect(after.hwm).toBeLessThan(200_000_000);
  }, 600_000);
});
