import { describe, expect, it } from 'vitest';
import type { DupeFile } from '@filer/engine';
import { hashKeyOf, hashKeyText } from './hash-index-key.js';
import { ShardHashCache } from './shard-hash-cache.js';

const volumes = [
  { root: '/srv/a', id: 'vol-a', dev: 10 },
  { root: '/srv/a/inner', id: 'vol-inner', dev: 11 },
];
const file = (p: string, over: Partial<DupeFile> = {}): DupeFile => ({
  path: p,
  size: 100,
  dev: 10,
  ino: 7,
  mtimeSec: 5,
  mtimeNsec: 123,
  ...over,
});

describe('the shared hash index’s keys', () => {
  it('keys a local file by its volume’s id, inode, size and mtime (ns), never its device number', () => {
    expect(hashKeyOf(file('/srv/a/x/y.bin'), volumes)).toEqual({
      kind: 'file',
      volume: 'vol-a',
      ino: 7,
      size: 100,
      mtimeSec: 5,
      mtimeNsec: 123,
    });
    // The innermost volume wins.
    expect(hashKeyOf(file('/srv/a/inner/z', { dev: 11 }), volumes)).toMatchObject({ volume: 'vol-inner' });
  });

  it('leaves out a file below no volume, beside one (a name that only starts like it), or on another device (a mount inside)', () => {
    expect(hashKeyOf(file('/srv/b/y.bin'), volumes)).toBeUndefined();
    expect(hashKeyOf(file('/srv/ab/y.bin'), volumes)).toBeUndefined();
    expect(hashKeyOf(file('/srv/a/mnt/y.bin', { dev: 99 }), volumes)).toBeUndefined();
  });

  it('keys an object by bucket, key, ETag, size and LastModified (ms); without an ETag it is not cached', () => {
    const o = file('s3://bkt/p/q.txt', { dev: 0, ino: 1, mtimeSec: 1700000000, mtimeNsec: 250_000_000, etag: '"abc"' });
    expect(hashKeyOf(o, volumes)).toEqual({
      kind: 'object',
      bucket: 'bkt',
      key: 'p/q.txt',
      etag: '"abc"',
      size: 100,
      mtimeMs: 1700000000250,
    });
    expect(hashKeyOf({ ...o, etag: undefined }, volumes)).toBeUndefined();
  });

  it('gives one text per identity: any field changed is another key', () => {
    const k = hashKeyOf(file('/srv/a/f'), volumes)!;
    const texts = [
      k,
      { ...k, ino: 8 },
      { ...k, size: 101 },
      { ...k, mtimeSec: 6 },
      { ...k, mtimeNsec: 124 },
      { ...k, volume: 'vol-b' },
    ].map(hashKeyText);
    expect(new Set(texts).size).toBe(texts.length);
  });
});

describe('a hash shard’s in-memory cache', () => {
  const keyOf = (f: DupeFile) => hashKeyOf(f, volumes);

  it('serves prefetched hashes by identity and keeps new ones, one per identity and scope', () => {
    const a = file('/srv/a/a');
    const link = file('/srv/a/link-to-a'); // the same inode: one identity
    const known = new Map([[hashKeyText(keyOf(a)!), { sample: 's-a', full: 'f-a' }]]);
    const sut = new ShardHashCache('xxh128', known, keyOf);
    expect(sut.lookup([a, file('/srv/a/a', { mtimeNsec: 124 }), file('/elsewhere')], 'xxh128')).toEqual([
      { sample: 's-a', full: 'f-a' },
      undefined,
      undefined,
    ]);
    expect(sut.lookup([a], 'sha256')).toEqual([undefined]);
    sut.store(
      [
        { file: a, sample: 's2', full: 'f2' },
        { file: link, sample: 's2', full: 'f2' },
        { file: file('/elsewhere'), sample: 'x' },
      ],
      'xxh128',
    );
    expect(sut.newHashes().map((h) => [h.key.kind === 'file' ? h.key.volume : '', h.scope, h.hash])).toEqual([
      ['vol-a', 'sample', 's2'],
      ['vol-a', 'full', 'f2'],
    ]);
  });
});
