import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, makeTree, nativeAddonOff, symlink, type TempTree, walkedIdentity } from '@filer/testing';
import { createStreamingHash, FileHashReader } from '../src/local/hash-file.js';
import { nativeScan } from '../src/local/native-scan.js';

// Sample hashes read by the native scanner in one call per batch must equal those read file by file with node:fs.
describe('native batched sample reads agree with node:fs', () => {
  let t: TempTree;
  beforeAll(() => {
    t = makeTree({
      empty: file(''),
      small: file('x'.repeat(100)),
      exact: file(Buffer.alloc(8192, 7)),
      big: file(Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251))),
      shrinks: file(Buffer.alloc(20_000, 1)),
      gone: file('soon gone'),
      link: symlink('small'),
    });
  });
  afterAll(() => t.cleanup());

  it('gives the same hashes, byte counts and errors', async () => {
    const files = ['empty', 'small', 'exact', 'big', 'shrinks', 'gone'].map((n) => walkedIdentity(t.path(n)));
    files.push({ ...files[1], path: t.path('link') }); // a path that is now a symlink: refused without -L
    fs.truncateSync(t.path('shrinks'), 10_000);
    fs.unlinkSync(t.path('gone'));
    for (const algo of ['xxh128', 'sha256'] as const) {
      const sut = {
        native: new FileHashReader(await createStreamingHash(algo), false, nativeScan),
        portable: new FileHashReader(await createStreamingHash(algo), false, null),
      };
      const a = sut.native.hashMany(files, 'sample');
      const b = sut.portable.hashMany(files, 'sample');
      const shape = (o: (typeof a)[number]) => ('error' in o ? o.error.code : o);
      expect(a.map(shape)).toEqual(b.map(shape));
      expect(a.map(shape).slice(4)).toEqual(['E_CHANGED', 'ENOENT', 'ELOOP']);
      expect(sut.native.bytesRead).toBe(sut.portable.bytesRead);
      expect(sut.native.bytesRead).toBe(0 + 100 + 8192 + 8192);
    }
  });

  it.skipIf(nativeAddonOff)('is built', () => {
    expect(nativeScan?.readSamples).toBeTypeOf('function');
  });
});
