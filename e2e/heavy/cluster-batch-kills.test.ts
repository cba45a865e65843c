import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir, filesBelow, noiseBytes, seededRandom, startCluster, treeManifest, type ClusterHandle } from '@filer/testing';
import { openStateDb, SqliteJournal } from '@filer/storage/state';

const FILES = 10_000;
const KILLS = 5;
const SEED = 15;

interface Job {
  id: string;
  state: string;
  message?: string;
  apply?: { done: number; failed: number };
}

/**
 * Battery 15 (heavy: about 2–4 minutes on 2 cores): the only batch worker SIGKILLed five times
 * at seeded random moments of a move of 10,000 files across devices (tmpfs → disk), restarted
 * after each kill. Shards the dead worker held are taken back and run again from their journals;
 * the move must still end with every file once at the destination, byte for byte, none at the
 * source, and each journaled action done once, with the file it made still the one at its target.
 */
describe('a batch worker SIGKILLed five times mid-move (battery 15)', () => {
  let cluster: ClusterHandle;
  let srcBase: string;
  let destBase: string;
  /** `shard started` lines of apply shards, by shard id. */
  const applyStarts = new Map<string, number>();
  /** Every apply shard start, re-runs included. */
  let applyStartCount = 0;

  beforeAll(async () => {
    // Sources on tmpfs, the destination on the disk: each move is a copy, an fsync, a journaled target, then an unlink.
    srcBase = fastTmpDir('filer-kills-src-');
    destBase = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-kills-dest-')));
    const random = seededRandom(SEED);
    const src = path.join(srcBase, 'src');
    for (let i = 0; i < FILES; i++) {
      const dir = path.join(src, `d${i % 50}`, `e${Math.floor(i / 50) % 4}`);
      if (i < 200) fs.mkdirSync(dir, { recursive: true });
      const size = i % 97 === 0 ? 0 : Math.floor(random() * 16_384);
      fs.writeFileSync(path.join(dir, `f${i}.bin`), noiseBytes(size, i + 1));
    }
    cluster = await startCluster({
      allowedRoots: [srcBase, destBase],
      batch: 1,
      scanners: 1,
      onLine: (_name, line) => {
        if (!line.includes('"shard started"')) return;
        const rec = JSON.parse(line) as { shard?: string; shardId?: string };
        if (rec.shard === 'apply' && rec.shardId !== undefined) {
          applyStarts.set(rec.shardId, (applyStarts.get(rec.shardId) ?? 0) + 1);
          applyStartCount++;
        }
      },
      env: {
        FILER_BATCH_SHARD_SIZE: '400',
        FILER_LOCK_DURATION_MS: '2000',
        FILER_STALLED_INTERVAL_MS: '1000',
        FILER_WORKER_CONCURRENCY: '2',
      },
    });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    for (const d of [srcBase, destBase]) if (d) fs.rmSync(d, { recursive: true, force: true });
  }, 300_000);

  const get = async (id: string): Promise<Job> =>
    (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
  const final = (j: Job): boolean => ['completed', 'failed', 'cancelled', 'undone'].includes(j.state);

  it('ends with all 10,000 files at the destination once, byte for byte, none at the source, each action done once', async () => {
    const src = path.join(srcBase, 'src');
    const dest = path.join(destBase, 'dest');
    const before = treeManifest(src).files;
    expect(before.size).toBe(FILES);

    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'move', roots: [src], options: { dest }, apply: true },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as Job;
    for (let j = await get(id); j.state !== 'applying'; j = await get(id)) {
      expect(final(j), `${j.state}: ${j.message}`).toBe(false);
      await new Promise((r) => setTimeout(r, 20));
    }

    const random = seededRandom(SEED * 1000);
    const batch = cluster.workers.find((w) => w.name === 'batch-1')!;
    const kills: { afterMs: number; movedBefore: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      // Each kill comes 100-500 ms after the (re)started worker took an apply shard, so it lands
      // while shards are in flight: a worker answers /health before its BullMQ workers run (the
      // Nest host checks Redis first), and a kill in that gap would take no shard down.
      const startsBefore = applyStartCount;
      for (const until = Date.now() + 120_000; applyStartCount === startsBefore;) {
        if (Date.now() > until) throw new Error(`no apply shard started within 120 s\n${cluster.logs().slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const afterMs = 100 + Math.floor(random() * 400);
      await new Promise((r) => setTimeout(r, afterMs));
      const j = await get(id);
      expect(final(j), `the move ended after ${k} kills (${j.state}): more files or earlier kills are needed`).toBe(false);
      await batch.kill('SIGKILL');
      kills.push({ afterMs, movedBefore: filesBelow(dest).length });
      await batch.restart();
    }

    const deadline = Date.now() + 300_000;
    let done = await get(id);
    while (!final(done)) {
      if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${done.state}\n${cluster.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 200));
      done = await get(id);
    }
    const ranTwice = [...applyStarts.values()].filter((n) => n > 1).length;
    console.info(
      `batch kills: ${kills.map((k) => `+${k.afterMs} ms (${k.movedBefore} at dest)`).join(', ')}; ` +
        `${applyStarts.size} apply shards, ${ranTwice} started more than once`,
    );
    expect(done.state, done.message).toBe('completed');
    expect(done.apply).toMatchObject({ done: FILES, failed: 0 });
    // Every kill landed while files were still being moved.
    expect(kills.every((k) => k.movedBefore < FILES)).toBe(true);

    const after = treeManifest(dest);
    expect(after.temps).toEqual([]);
    expect(after.files.size).toBe(FILES);
    expect([...after.files.keys()].filter((rel) => / \(\d+\)/.test(rel))).toEqual([]);
    expect(after.files).toEqual(before);
    expect(filesBelow(src)).toEqual([]);

    // The journals: one action per file, each done once, and the file at its target is the one it recorded.
    const journals = path.join(cluster.resultsDir, id, 'journal');
    const actions = [];
    for (const name of fs.readdirSync(journals).filter((n) => n.endsWith('.db'))) {
      const db = openStateDb(path.join(journals, name));
      try {
        const journal = new SqliteJournal(db);
        const jobs = journal.list(10);
        expect(jobs, name).toHaveLength(1);
        actions.push(...journal.actions(jobs[0].id));
      } finally {
        db.close();
      }
    }
    expect(actions).toHaveLength(FILES);
    expect(new Set(actions.map((a) => a.source)).size).toBe(FILES);
    expect(new Set(actions.map((a) => a.target)).size).toBe(FILES);
    expect(actions.filter((a) => a.state !== 'done')).toEqual([]);
    const strangers = actions.filter((a) => {
      const st = fs.statSync(a.target);
      return a.targetId === undefined || a.targetId.ino !== st.ino || a.targetId.dev !== st.dev || a.targetId.size !== st.size;
    });
    expect(strangers).toEqual([]);
    // At-least-once delivery did happen: some apply shards were started again after a kill.
    expect(ranTwice).toBeGreaterThan(0);
  }, 600_000);
});
