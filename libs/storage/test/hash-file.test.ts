import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xxhash128 } from 'hash-wasm';
import type { DupeFile, HashOutcome } from '@filer/engine';
import { file, makeTree, noiseBytes, runProcess, type TempTree, walkedIdentity } from '@filer/testing';
import { createStreamingHash, FileHashReader } from '../src/local/hash-file.js';
import { packFiles, unpackFiles } from '../src/local/hash-protocol.js';
// The thread pool loads `hash-worker.js` next to its own module, so it must come from the build
// (`npm run build`); the sources have only the .ts file.
import { LocalFileHasher } from '../dist/local/local-file-hasher.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const hashOf = (o: HashOutcome): string => {
  if ('error' in o) throw new Error(`unexpected error ${o.error.code}: ${o.error.message}`);
  return o.hash;
};
const codeOf = (o: HashOutcome): string | undefined => ('error' in o ? o.error.code : undefined);

const OLD = new Date('2020-01-02T03:04:05.000Z');
const BIG = noiseBytes(3 * 1024 * 1024 + 5, 7); // several passes through the 1 MiB read buffer
const MID = noiseBytes(20_000, 11);
const SMALL = noiseBytes(5000, 13);

describe('FileHashReader on real files', () => {
  let t: TempTree;
  beforeAll(() => {
    t = makeTree({
      'big.bin': file(BIG, { mtime: OLD }),
      'mid.bin': file(MID, { mtime: OLD }),
      'small.bin': file(SMALL, { mtime: OLD }),
      'exact.bin': file(noiseBytes(8192, 17), { mtime: OLD }),
    });
  });
  afterAll(() => t.cleanup());

  const reader = async (algo: 'sha256' | 'xxh128' = 'sha256') => new FileHashReader(await createStreamingHash(algo));

  it('a sample of a large file reads the first and last 4 KiB only', async () => {
    const r = await reader();
    const o = r.hashFile(walkedIdentity(t.path('mid.bin')), 'sample');
    expect(o).toEqual({ hash: sha(Buffer.concat([MID.subarray(0, 4096), MID.subarray(20_000 - 4096)])), whole: false });
    expect(r.bytesRead).toBe(8192);
  });

  it('a full hash reads every byte and covers the whole file', async () => {
    const r = await reader();
    const o = r.hashFile(walkedIdentity(t.path('mid.bin')), 'full');
    expect(o).toEqual({ hash: sha(MID), whole: true });
    expect(r.bytesRead).toBe(20_000);
    r.hashFile(walkedIdentity(t.path('big.bin')), 'full');
    expect(r.bytesRead).toBe(20_000 + BIG.length);
  });

  it('a sample of a file up to 8 KiB reads it whole and says so', async () => {
    const r = await reader();
    expect(r.hashFile(walkedIdentity(t.path('small.bin')), 'sample')).toEqual({ hash: sha(SMALL), whole: true });
    expect(r.bytesRead).toBe(5000);
    const exact = r.hashFile(walkedIdentity(t.path('exact.bin')), 'sample');
    expect(exact).toEqual({ hash: sha(noiseBytes(8192, 17)), whole: true });
    expect(r.bytesRead).toBe(5000 + 8192);
  });

  it('the sha256 of a whole file equals sha256sum', async () => {
    for (const name of ['big.bin', 'mid.bin', 'small.bin']) {
      const p = t.path(name);
      const ref = await runProcess('sha256sum', [p]);
      expect(ref.code).toBe(0);
      const expected = ref.stdout.split(' ')[0];
      expect(expected).toMatch(/^[0-9a-f]{64}$/);
      expect(hashOf((await reader()).hashFile(walkedIdentity(p), 'full'))).toBe(expected);
    }
  });

  it('the xxh128 of a whole file equals the one-shot digest, across buffer refills', async () => {
    const r = await reader('xxh128');
    expect(hashOf(r.hashFile(walkedIdentity(t.path('big.bin')), 'full'))).toBe(await xxhash128(BIG));
    expect(hashOf(r.hashFile(walkedIdentity(t.path('small.bin')), 'sample'))).toBe(await xxhash128(SMALL));
    // The reusable hasher is re-initialised between files.
    expect(hashOf(r.hashFile(walkedIdentity(t.path('big.bin')), 'full'))).toBe(await xxhash128(BIG));
  });

  it('the empty digest of each algorithm is the standard one', async () => {
    for (const [algo, digest] of [
      ['sha256', sha(Buffer.alloc(0))],
      ['xxh128', await xxhash128(Buffer.alloc(0))],
    ] as const) {
      expect(await new LocalFileHasher(algo, 1).emptyHash()).toBe(digest);
      const r = new FileHashReader(await createStreamingHash(algo));
      const empty = t.path('empty.bin');
      fs.writeFileSync(empty, '');
      expect(r.hashFile(walkedIdentity(empty), 'full')).toEqual({ hash: digest, whole: true });
    }
  });
});

describe('FileHashReader: files that changed since the walk', () => {
  let t: TempTree;
  beforeAll(() => {
    t = makeTree({});
  });
  afterAll(() => t.cleanup());

  let n = 0;
  /** A fresh 20 000-byte file with an old mtime, and what the walk recorded for it. */
  function fresh(content = MID): { p: string; rec: DupeFile } {
    const p = t.path(`f${n++}.bin`);
    fs.writeFileSync(p, content);
    fs.utimesSync(p, OLD, OLD);
    return { p, rec: walkedIdentity(p) };
  }
  const both = async (rec: DupeFile): Promise<(string | undefined)[]> => {
    const r = new FileHashReader(await createStreamingHash('xxh128'));
    return [codeOf(r.hashFile(rec, 'sample')), codeOf(r.hashFile(rec, 'full'))];
  };

  it('hashes an unchanged file (control)', async () => {
    const { rec } = fresh();
    expect(await both(rec)).toEqual([undefined, undefined]);
  });

  it('E_CHANGED when rewritten with the same size and a new mtime', async () => {
    const { p, rec } = fresh();
    fs.writeFileSync(p, noiseBytes(20_000, 99));
    expect(fs.statSync(p).size).toBe(rec.size);
    expect(await both(rec)).toEqual(['E_CHANGED', 'E_CHANGED']);
  });

  it('E_CHANGED when only the mtime moved (same bytes)', async () => {
    const { p, rec } = fresh();
    fs.utimesSync(p, OLD, new Date(OLD.getTime() + 1));
    expect(await both(rec)).toEqual(['E_CHANGED', 'E_CHANGED']);
  });

  it('E_CHANGED when truncated, or grown, after it was recorded', async () => {
    const a = fresh();
    fs.truncateSync(a.p, 10_000);
    fs.utimesSync(a.p, OLD, OLD); // even with the old mtime put back
    expect(await both(a.rec)).toEqual(['E_CHANGED', 'E_CHANGED']);
    const b = fresh();
    fs.appendFileSync(b.p, 'x');
    fs.utimesSync(b.p, OLD, OLD);
    expect(await both(b.rec)).toEqual(['E_CHANGED', 'E_CHANGED']);
  });

  it('E_CHANGED when replaced by another file (new inode, same size and mtime)', async () => {
    const { p, rec } = fresh();
    const other = t.path('replacement.tmp');
    fs.writeFileSync(other, MID);
    fs.utimesSync(other, OLD, OLD);
    fs.renameSync(other, p);
    expect(walkedIdentity(p).mtimeSec).toBe(rec.mtimeSec);
    expect(await both(rec)).toEqual(['E_CHANGED', 'E_CHANGED']);
  });

  it('the open error code when the file is gone or became a symlink', async () => {
    const gone = fresh();
    fs.rmSync(gone.p);
    expect(await both(gone.rec)).toEqual(['ENOENT', 'ENOENT']);
    const linked = fresh();
    const keep = t.path('keep.bin');
    fs.renameSync(linked.p, keep);
    fs.symlinkSync(keep, linked.p);
    expect(await both(linked.rec)).toEqual(['ELOOP', 'ELOOP']);
  });

  it('reports the error for that path with a message', async () => {
    const { p, rec } = fresh();
    fs.writeFileSync(p, noiseBytes(20_000, 5));
    const o = (await (async () => new FileHashReader(await createStreamingHash('sha256')))()).hashFile(rec, 'full');
    expect(o).toEqual({ error: { path: p, code: 'E_CHANGED', message: expect.stringMatching(/changed/) } });
  });
});

describe('LocalFileHasher (worker threads)', () => {
  let t: TempTree;
  const COUNT = 600; // more than two batches of 256
  const content = (i: number): Buffer => (i % 50 === 0 ? noiseBytes(10_000 + i, i + 1) : Buffer.from(`file number ${i}\n`));
  beforeAll(() => {
    t = makeTree(Object.fromEntries(Array.from({ length: COUNT }, (_, i) => [`d${i % 7}/f${i}.txt`, file(content(i))])));
  });
  afterAll(() => t.cleanup());

  it('returns outcomes in input order across batches and threads, and counts bytes', async () => {
    const hasher = new LocalFileHasher('sha256', 2);
    try {
      const files = Array.from({ length: COUNT }, (_, i) => walkedIdentity(t.path(`d${i % 7}/f${i}.txt`)));
      const sample = await hasher.hash(files, 'sample');
      expect(sample).toHaveLength(COUNT);
      sample.forEach((o, i) => {
        const c = content(i);
        const expected = c.length <= 8192 ? sha(c) : sha(Buffer.concat([c.subarray(0, 4096), c.subarray(c.length - 4096)]));
        expect(o).toEqual({ hash: expected, whole: c.length <= 8192 });
      });
      const sampleBytes = files.reduce((n, f) => n + Math.min(f.size, 8192), 0);
      expect(hasher.bytesRead).toBe(sampleBytes);
      expect(hasher.filesHashed).toBe(COUNT);

      const big = files.filter((f) => f.size > 8192);
      expect(big).toHaveLength(12);
      const full = await hasher.hash(big, 'full');
      expect(full.map(hashOf)).toEqual(big.map((f) => sha(fs.readFileSync(f.path))));
      expect(hasher.bytesRead).toBe(sampleBytes + big.reduce((n, f) => n + f.size, 0));
      expect(await hasher.hash([], 'full')).toEqual([]);
    } finally {
      await hasher.close();
    }
  });

  it('reports E_CHANGED from a worker for a file rewritten after the walk, others unaffected', async () => {
    const hasher = new LocalFileHasher('xxh128', 2);
    try {
      const files = [1, 2, 3].map((i) => walkedIdentity(t.path(`d${i % 7}/f${i}.txt`)));
      const victim = files[1].path;
      const before = fs.readFileSync(victim);
      fs.writeFileSync(victim, Buffer.from(before.toString().replace('2', '9')));
      fs.utimesSync(victim, OLD, OLD);
      const out = await hasher.hash(files, 'sample');
      expect(out.map(codeOf)).toEqual([undefined, 'E_CHANGED', undefined]);
      expect(out[0]).toEqual({ hash: await xxhash128(content(1)), whole: true });
      expect(out[2]).toEqual({ hash: await xxhash128(content(3)), whole: true });
    } finally {
      await hasher.close();
    }
  });
});

describe('hash batches sent to worker threads packed', () => {
  it('unpack gives back every path and identity field exactly, odd names and large numbers included', () => {
    const files: DupeFile[] = [
      { path: '/a b/new\nline,comma', size: 0, dev: 1, ino: 2, mtimeSec: 3, mtimeNsec: 4 },
      { path: 'relative/é/🙂', size: 2 ** 53 - 1, dev: 66_306, ino: 2 ** 53 - 2, mtimeSec: -1, mtimeNsec: 999_999_999 },
      { path: '/x', size: 8192, dev: 0, ino: 0, mtimeSec: 0, mtimeNsec: 0 },
    ];
    const { paths, meta } = packFiles(files);
    expect(unpackFiles(paths, meta)).toEqual(files);
    const one = packFiles([files[1]]);
    expect(unpackFiles(one.paths, one.meta)).toEqual([files[1]]);
  });
});
