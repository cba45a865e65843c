import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xxhash128 } from 'hash-wasm';
import type { HashOutcome } from '@filer/engine';
import { file, makeTree, nativeAddonOff, noiseBytes, symlink, type TempTree, walkedIdentity } from '@filer/testing';
import { createFileHashReader, createStreamingHash, FileHashReader } from '../src/local/hash-file.js';
import { errnoName, nativeScan, type NativeScan } from '../src/local/native-scan.js';
import { EMPTY_DIGESTS } from '../src/local/streaming-hash.js';
import { LocalFileHasher } from '../src/local/local-file-hasher.js';

// XXH3-128 computed in the native scanner must be the digest hash-wasm gives for the same bytes
// (canonical, big-endian hex), with the same errors, E_CHANGED checks and byte counts.
const CONTENT: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  one: Buffer.from('x'),
  exact: noiseBytes(8192, 3), // the largest file whose sample is the whole file
  over: noiseBytes(8193, 5), // head 4 KiB ‖ tail 4 KiB
  big: noiseBytes(5 * 1024 * 1024 + 77, 9), // several refills of the 1 MiB buffer
};
const NAMES = Object.keys(CONTENT);

const sampleOf = (b: Buffer): Buffer => (b.length <= 8192 ? b : Buffer.concat([b.subarray(0, 4096), b.subarray(b.length - 4096)]));
const shape = (o: HashOutcome): unknown => ('error' in o ? o.error.code : o);

describe.skipIf(nativeAddonOff)('native XXH3-128 (hashBatch)', () => {
  const native = nativeScan as NativeScan;
  /** hashBatch on two threads: block 4096 for samples, 0 for whole files. */
  const batch = async (paths: string[], sizes: number[], block: number, follow = false): Promise<{ r: Float64Array; d: Buffer }> => {
    const [r, d] = await native.hashBatch(paths.join('\0'), paths.length, Float64Array.from(sizes), block, follow, 2);
    return { r, d: Buffer.from(d.buffer, d.byteOffset, d.byteLength) };
  };
  let t: TempTree;
  beforeAll(() => {
    t = makeTree({
      ...Object.fromEntries(NAMES.map((n) => [n, file(CONTENT[n])])),
      shrinks: file(noiseBytes(3 * 1024 * 1024, 1)),
      shrinksSmall: file(noiseBytes(20_000, 2)),
      grows: file(noiseBytes(20_000, 4)),
      gone: file('soon gone'),
      target: file('the target'),
      link: symlink('target'),
    });
  });
  afterAll(() => t.cleanup());

  it('the addon gives hash-wasm digests of samples and whole files', async () => {
    const paths = NAMES.map((n) => t.path(n));
    const sizes = NAMES.map((n) => CONTENT[n].length);
    let d: Buffer = Buffer.alloc(0);
    const hex = (i: number): string => d.toString('hex', i * 16, i * 16 + 16);
    const { r: s, d: sd } = await batch(paths, sizes, 4096);
    d = sd;
    for (let i = 0; i < NAMES.length; i++) {
      const c = CONTENT[NAMES[i]];
      expect(s[i * 7]).toBe(0);
      expect(s[i * 7 + 1]).toBe(c.length);
      expect(s[i * 7 + 6]).toBe(Math.min(c.length, 8192));
      expect(hex(i), NAMES[i]).toBe(await xxhash128(sampleOf(c)));
    }
    const { r: f, d: fd } = await batch(paths, sizes, 0);
    d = fd;
    for (let i = 0; i < NAMES.length; i++) {
      const c = CONTENT[NAMES[i]];
      expect(f[i * 7]).toBe(0);
      expect(f[i * 7 + 6]).toBe(c.length);
      expect(hex(i), NAMES[i]).toBe(await xxhash128(c));
    }
    expect(hex(0)).toBe(EMPTY_DIGESTS.xxh128);
  });

  it('the reader: native and portable agree on hashes, errors and bytes read, for samples and whole files', async () => {
    const files = [...NAMES, 'shrinks', 'shrinksSmall', 'grows', 'gone', 'link'].map((n) =>
      n === 'link' ? { ...walkedIdentity(t.path('target')), path: t.path('link') } : walkedIdentity(t.path(n)),
    );
    fs.truncateSync(t.path('shrinks'), 2 * 1024 * 1024);
    fs.truncateSync(t.path('shrinksSmall'), 10_000);
    fs.appendFileSync(t.path('grows'), 'x');
    fs.unlinkSync(t.path('gone'));
    for (const scope of ['sample', 'full'] as const) {
      const nat = await createFileHashReader('xxh128', false, native);
      const portable = new FileHashReader(await createStreamingHash('xxh128'), false, null);
      const a = nat.hashMany(files, scope);
      const b = portable.hashMany(files, scope);
      expect(a.map(shape)).toEqual(b.map(shape));
      expect(a.slice(NAMES.length).map(shape)).toEqual(['E_CHANGED', 'E_CHANGED', 'E_CHANGED', 'ENOENT', 'ELOOP']);
      for (let i = 0; i < NAMES.length; i++) {
        const c = CONTENT[NAMES[i]];
        expect(a[i]).toEqual({ hash: await xxhash128(scope === 'full' ? c : sampleOf(c)), whole: scope === 'full' || c.length <= 8192 });
      }
      const expected = NAMES.reduce((n, k) => n + (scope === 'full' ? CONTENT[k].length : Math.min(CONTENT[k].length, 8192)), 0);
      expect(nat.bytesRead).toBe(expected);
      expect(portable.bytesRead).toBe(expected);
      // The single-file entry point gives the same result.
      expect(nat.hashFile(files[3], scope)).toEqual(a[3]);
      // The hasher: in-process (native batches on threads of their own) and on worker threads
      // without the addon give the same outcomes and byte counts; several batches in flight.
      const inProcess = new LocalFileHasher('xxh128', 2, false, true);
      const workers = new LocalFileHasher('xxh128', 2, false, false);
      const many = Array.from({ length: 9000 }, (_, k) => files[k % files.length]);
      const [c, w] = await Promise.all([inProcess.hash(many, scope), workers.hash(many, scope)]);
      await workers.close();
      expect(c).toEqual(many.map((_, k) => a[k % files.length]));
      expect(w.map(shape)).toEqual(c.map(shape));
      expect(inProcess.bytesRead).toBe(workers.bytesRead);
      expect(inProcess.filesHashed).toBe(9000);
    }
  });

  it('a shorter file is a short read (−1), reported as E_CHANGED "shrank"', async () => {
    const p = t.path('short');
    fs.writeFileSync(p, noiseBytes(1000, 8));
    const rec = { ...walkedIdentity(p), size: 2_000_000 };
    for (const block of [0, 4096]) {
      const { r: res, d } = await batch([p], [2_000_000], block);
      expect(res[0]).toBe(-1);
      expect(d.equals(Buffer.alloc(16))).toBe(true);
    }
    const r = new FileHashReader(
      { algorithm: 'xxh128', init: () => undefined, update: () => undefined, digest: () => 'unused' },
      false,
      native,
    );
    const inProcess = new LocalFileHasher('xxh128', 2, false, true);
    for (const scope of ['sample', 'full'] as const) {
      const shrank = [{ error: { path: p, code: 'E_CHANGED', message: 'shrank while it was read' } }];
      expect(r.hashMany([rec], scope)).toEqual(shrank);
      expect(await inProcess.hash([rec], scope)).toEqual(shrank);
    }
    expect(r.bytesRead).toBe(0);
    expect(inProcess.bytesRead).toBe(0);
  });

  it('a symlink is refused without follow and hashed with it', async () => {
    const link = t.path('link');
    expect(errnoName((await batch([link], [10], 0)).r[0])).toBe('ELOOP');
    const followed = await batch([link], [10], 0, true);
    expect(followed.r[0]).toBe(0);
    expect(followed.d.toString('hex')).toBe(await xxhash128('the target'));
    const missing = await batch([t.path('nope')], [1], 4096);
    expect(errnoName(missing.r[0])).toBe('ENOENT');
  });
});
