import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findDuplicates, type DupeFile, type DupePhase } from '@filer/engine';
import { openStateDb, SqliteHashCache } from '@filer/storage/state';
import { file, makeTree, noiseBytes, type TempTree, walkedIdentity } from '@filer/testing';
// Worker threads need the built `hash-worker.js` (see hash-file.test.ts).
import { LocalFileHasher } from '../dist/local/local-file-hasher.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const OLD = new Date('2021-03-04T05:06:07.000Z');
const LATER = new Date('2022-03-04T05:06:07.000Z');
const A = noiseBytes(20_000, 1);
/** Same head and tail blocks as A, different middle: its sample collides, its full hash does not. */
const A_MID = Buffer.concat([A.subarray(0, 4096), noiseBytes(20_000 - 8192, 2), A.subarray(20_000 - 4096)]);
const D = noiseBytes(30_000, 3);

const cleanup: (() => void)[] = [];
afterAll(() => cleanup.forEach((c) => c()));

describe('a file modified between the sample and the full hash', () => {
  let t: TempTree;
  let hasher: LocalFileHasher;
  beforeEach(() => {
    t = makeTree({
      'a1.bin': file(A, { mtime: OLD }),
      'a2.bin': file(A, { mtime: OLD }),
      'a3.bin': file(A, { mtime: OLD }),
      'decoy.bin': file(A_MID, { mtime: OLD }),
      'd1.bin': file(D, { mtime: OLD }),
      'd2.bin': file(D, { mtime: OLD }),
    });
    cleanup.push(t.cleanup);
    hasher = new LocalFileHasher('sha256', 2);
  });
  afterEach(async () => {
    await hasher.close();
  });

  const walk = (): DupeFile[] => ['a1.bin', 'a2.bin', 'a3.bin', 'decoy.bin', 'd1.bin', 'd2.bin'].map((n) => walkedIdentity(t.path(n)));

  /** Runs the pipeline; when the full phase starts, `mutate` runs once. */
  async function runWith(mutate: () => void, cache?: SqliteHashCache) {
    const phases: DupePhase[] = [];
    const result = await findDuplicates(walk(), {
      hasher,
      cache,
      includeEmpty: false,
      emptyHash: await hasher.emptyHash(),
      onPhase: (p) => {
        phases.push(p);
        if (p === 'full') mutate();
      },
    });
    expect(phases).toEqual(['size', 'sample', 'full', 'done']);
    return result;
  }

  it('control: unchanged, the groups are the copies and the decoy stays out', async () => {
    const r = await runWith(() => {});
    expect(r.errors).toEqual([]);
    expect(r.groups).toEqual(
      [
        { size: 30_000, hash: sha(D), paths: [t.path('d1.bin'), t.path('d2.bin')], wasted: 30_000 },
        { size: 20_000, hash: sha(A), paths: [t.path('a1.bin'), t.path('a2.bin'), t.path('a3.bin')], wasted: 40_000 },
      ].sort((x, y) => y.wasted - x.wasted),
    );
    expect(r.stats).toMatchObject({ candidates: 6, sampled: 6, fullyHashed: 6, bytesRead: 6 * 8192 + 4 * 20_000 + 2 * 30_000 });
  });

  it('rewritten with the same size and a new mtime: E_CHANGED, out of every group, the rest still grouped', async () => {
    const victim = t.path('a2.bin');
    const r = await runWith(() => {
      const changed = Buffer.from(A);
      changed[10_000] ^= 0xff; // the middle only: its sample would still match
      fs.writeFileSync(victim, changed);
      fs.utimesSync(victim, LATER, LATER);
      expect(fs.statSync(victim).size).toBe(20_000);
    });
    expect(r.errors).toEqual([{ path: victim, code: 'E_CHANGED', message: expect.any(String) }]);
    expect(r.groups).toEqual([
      { size: 30_000, hash: sha(D), paths: [t.path('d1.bin'), t.path('d2.bin')], wasted: 30_000 },
      { size: 20_000, hash: sha(A), paths: [t.path('a1.bin'), t.path('a3.bin')], wasted: 20_000 },
    ]);
    expect(r.groups.flatMap((g) => g.paths)).not.toContain(victim);
    expect(r.stats).toMatchObject({ errors: 1, groups: 2, duplicateFiles: 4, wastedBytes: 50_000 });
  });

  it('rewritten with identical bytes but a new mtime is still E_CHANGED (identity, not content)', async () => {
    const victim = t.path('d1.bin');
    const r = await runWith(() => {
      fs.writeFileSync(victim, D);
      fs.utimesSync(victim, LATER, LATER);
    });
    expect(r.errors.map((e) => [e.path, e.code])).toEqual([[victim, 'E_CHANGED']]);
    expect(r.groups.map((g) => g.paths)).toEqual([[t.path('a1.bin'), t.path('a2.bin'), t.path('a3.bin')]]);
  });

  it('a changed file is not written to the cache; the others are, with their full hashes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-change-cache-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openStateDb(path.join(dir, 'state.db'));
    try {
      const cache = new SqliteHashCache(db);
      const before = walk();
      const victim = t.path('a3.bin');
      await runWith(() => {
        fs.writeFileSync(victim, noiseBytes(20_000, 9));
        fs.utimesSync(victim, LATER, LATER);
      }, cache);
      const hits = cache.lookup([...before, walkedIdentity(victim)], 'sha256');
      const sample = (b: Buffer): string => sha(Buffer.concat([b.subarray(0, 4096), b.subarray(b.length - 4096)]));
      expect(hits).toEqual([
        { sample: sample(A), full: sha(A) },
        { sample: sample(A), full: sha(A) },
        undefined,
        { sample: sample(A_MID), full: sha(A_MID) },
        { sample: sample(D), full: sha(D) },
        { sample: sample(D), full: sha(D) },
        undefined,
      ]);
    } finally {
      db.close();
    }
  });
});

describe('cache rows written chunk by chunk during a run', () => {
  // More files than one hashing chunk (4,096), so rows are written in several transactions while
  // later chunks are still being hashed.
  const COUNT = 5000;
  const name = (i: number): string => `d${i % 13}/f${String(i).padStart(4, '0')}.txt`;
  const body = (i: number, version = 0): Buffer => Buffer.from(`content ${i % 1500} v${version}\n`.padEnd(40 + (i % 3), '.'));
  let t: TempTree;
  let hasher: LocalFileHasher;
  let db: ReturnType<typeof openStateDb>;
  beforeEach(() => {
    t = makeTree(Object.fromEntries(Array.from({ length: COUNT }, (_, i) => [name(i), file(body(i), { mtime: OLD })])));
    cleanup.push(t.cleanup);
    hasher = new LocalFileHasher('xxh128', 2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-chunk-cache-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    db = openStateDb(path.join(dir, 'state.db'));
  });
  afterEach(async () => {
    await hasher.close();
    db.close();
  });

  const walk = (): DupeFile[] => Array.from({ length: COUNT }, (_, i) => walkedIdentity(t.path(name(i))));
  const run = async () =>
    findDuplicates(walk(), { hasher, cache: new SqliteHashCache(db), includeEmpty: false, emptyHash: hasher.emptyHash() });
  const groupsOf = (r: Awaited<ReturnType<typeof run>>): string[][] => r.groups.map((g) => g.paths);

  it('a file changed after its chunk was written is hashed again, never served its old hash', async () => {
    const cold = await run();
    expect(cold.stats).toMatchObject({ sampled: COUNT, cacheHits: 0, errors: 0 });
    const rows = db.prepare('SELECT sum(n) FROM dir_hashes').pluck().get() as number;
    expect(rows).toBe(COUNT);

    const warm = await run();
    expect(warm.stats).toMatchObject({ sampled: 0, fullyHashed: 0, cacheHits: COUNT });
    expect(groupsOf(warm)).toEqual(groupsOf(cold));

    // One file from the first chunk and one from the last: same size, new content and mtime.
    const early = 3;
    const late = COUNT - 2;
    for (const i of [early, late]) {
      fs.writeFileSync(t.path(name(i)), body(i, 1));
      fs.utimesSync(t.path(name(i)), LATER, LATER);
      expect(body(i, 1).length).toBe(body(i).length);
    }
    const after = await run();
    expect(after.stats).toMatchObject({ sampled: 2, cacheHits: COUNT - 2, errors: 0 });
    for (const i of [early, late]) {
      expect(after.groups.some((g) => g.paths.includes(t.path(name(i))))).toBe(false);
    }
    // Every group still holds files of identical content.
    for (const g of after.groups) for (const p of g.paths) expect(fs.readFileSync(p).equals(fs.readFileSync(g.paths[0]))).toBe(true);
  });
});
