import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { findDuplicates, type FindDuplicatesOptions } from './find-duplicates.js';
import { sampleIsWhole, sampleRanges } from './sample-layout.js';
import type { CachedHashes, DupeFile, DupePhase, FileHasher, HashAlgorithm, HashCache, HashOutcome, HashScope } from './dupe-types.js';

const EMPTY = 'EMPTY-HASH';

/** Contents by path, in memory; the fake hasher hashes exactly the bytes a real one would read. */
class MemoryHasher implements FileHasher {
  readonly algorithm: HashAlgorithm = 'sha256';
  bytesRead = 0;
  /** Every call: which paths, which scope. */
  readonly calls: { scope: HashScope; paths: string[] }[] = [];
  /** Paths that fail, per scope. */
  readonly failures = new Map<string, { scope: HashScope; code: string }>();

  constructor(readonly contents: Map<string, Buffer>) {}

  async hash(files: readonly DupeFile[], scope: HashScope): Promise<HashOutcome[]> {
    await Promise.resolve();
    this.calls.push({ scope, paths: files.map((f) => f.path) });
    return files.map((f) => {
      const fail = this.failures.get(f.path);
      if (fail && fail.scope === scope) return { error: { path: f.path, code: fail.code, message: 'injected' } };
      const data = this.contents.get(f.path)!;
      const ranges = scope === 'sample' ? sampleRanges(f.size) : [[0, f.size] as [number, number]];
      const h = createHash('sha256');
      for (const [start, length] of ranges) {
        h.update(data.subarray(start, start + length));
        this.bytesRead += length;
      }
      return { hash: h.digest('hex'), whole: scope === 'full' || sampleIsWhole(f.size) };
    });
  }

  scopes(scope: HashScope): string[] {
    return this.calls.filter((c) => c.scope === scope).flatMap((c) => c.paths);
  }
}

/** A cache keyed by path that checks identity like the real one. */
class MemoryCache implements HashCache {
  readonly rows = new Map<string, { file: DupeFile; sample?: string; full?: string; algo: HashAlgorithm }>();
  readonly stores: { path: string; sample?: string; full?: string }[][] = [];
  lookups = 0;

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    this.lookups++;
    return files.map((f) => {
      const r = this.rows.get(f.path);
      if (!r || r.algo !== algorithm || r.file.size !== f.size || r.file.ino !== f.ino || r.file.mtimeNsec !== f.mtimeNsec)
        return undefined;
      return { sample: r.sample, full: r.full };
    });
  }

  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void {
    this.stores.push(entries.map((e) => ({ path: e.file.path, sample: e.sample, full: e.full })));
    for (const e of entries) this.rows.set(e.file.path, { file: e.file, sample: e.sample, full: e.full, algo: algorithm });
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A world of in-memory files: path → content (hard links share an inode via `links`). */
function world(spec: Record<string, Buffer>, links: Record<string, string> = {}) {
  const contents = new Map<string, Buffer>();
  const files: DupeFile[] = [];
  let ino = 100;
  const inoOf = new Map<string, number>();
  for (const [path, data] of Object.entries(spec)) {
    contents.set(path, data);
    inoOf.set(path, ino);
    files.push({ path, size: data.length, dev: 1, ino: ino++, mtimeSec: 1_700_000_000, mtimeNsec: 5 });
  }
  for (const [path, target] of Object.entries(links)) {
    contents.set(path, spec[target]);
    files.push({ path, size: spec[target].length, dev: 1, ino: inoOf.get(target)!, mtimeSec: 1_700_000_000, mtimeNsec: 5 });
  }
  const hasher = new MemoryHasher(contents);
  return { files, hasher, contents };
}

const run = (files: DupeFile[], hasher: FileHasher, extra: Partial<FindDuplicatesOptions> = {}) =>
  findDuplicates(files, { hasher, includeEmpty: false, emptyHash: EMPTY, ...extra });

/** `size` bytes of `fill`, with single bytes overridden: `{ pos: value }`. */
function bytes(size: number, fill: number, patch: Record<number, number> = {}): Buffer {
  const b = Buffer.alloc(size, fill);
  for (const [pos, v] of Object.entries(patch)) b[Number(pos) < 0 ? size + Number(pos) : Number(pos)] = v;
  return b;
}

const groupPaths = (r: { groups: { paths: string[] }[] }): string[][] => r.groups.map((g) => g.paths);

describe('findDuplicates phases', () => {
  it('splits files whose samples collide by their full hashes', async () => {
    const A = bytes(20_000, 1);
    const { files, hasher } = world({
      '/a': A,
      '/b': Buffer.from(A),
      '/mid': bytes(20_000, 1, { 10_000: 9 }), // same head and tail, different middle
      '/mid2': bytes(20_000, 1, { 10_000: 9 }),
      '/mid3': bytes(20_000, 1, { 12_000: 9 }),
    });
    const r = await run(files, hasher);
    expect(groupPaths(r)).toEqual([
      ['/a', '/b'],
      ['/mid', '/mid2'],
    ]);
    expect(r.groups.map((g) => g.hash)).toEqual([sha(A), sha(bytes(20_000, 1, { 10_000: 9 }))]);
    expect(r.groups.map((g) => g.wasted)).toEqual([20_000, 20_000]);
    expect(hasher.scopes('sample').sort()).toEqual(['/a', '/b', '/mid', '/mid2', '/mid3']);
    expect(hasher.scopes('full').sort()).toEqual(['/a', '/b', '/mid', '/mid2', '/mid3']);
    expect(r.stats).toMatchObject({ candidates: 5, sampled: 5, fullyHashed: 5, groups: 2, duplicateFiles: 4, wastedBytes: 40_000 });
    expect(r.stats.bytesRead).toBe(5 * 8192 + 5 * 20_000);
    expect(r.errors).toEqual([]);
  });

  it("hashes in the order files were walked (a directory's files together), from any iterable", async () => {
    const walked: Record<string, Buffer> = {
      '/z/1': bytes(9_000, 1),
      '/z/2': bytes(9_000, 2),
      '/a/1': bytes(9_000, 3),
      '/a/2': bytes(500, 4),
      '/m/1': bytes(500, 5),
      '/m/2': bytes(9_000, 1),
    };
    const { files, hasher } = world(walked);
    function* generate(): Generator<DupeFile> {
      yield* files;
    }
    const r = await findDuplicates(generate(), { hasher, includeEmpty: false, emptyHash: EMPTY });
    expect(hasher.calls.find((c) => c.scope === 'sample')!.paths).toEqual(['/z/1', '/z/2', '/a/1', '/a/2', '/m/1', '/m/2']);
    expect(hasher.calls.find((c) => c.scope === 'full')!.paths).toEqual(['/z/1', '/m/2']);
    expect(groupPaths(r)).toEqual([['/m/2', '/z/1']]);
  });

  it('hashes whole files only where samples collide', async () => {
    const { files, hasher } = world({
      '/x1': bytes(10_000, 2),
      '/x2': bytes(10_000, 2),
      '/last': bytes(10_000, 2, { [-1]: 7 }), // differs in the last byte: the sample tells it apart
      '/first': bytes(10_000, 2, { 0: 7 }),
      '/lonely': bytes(12_345, 2), // unique size: never read
    });
    const r = await run(files, hasher);
    expect(groupPaths(r)).toEqual([['/x1', '/x2']]);
    expect(hasher.scopes('sample').sort()).toEqual(['/first', '/last', '/x1', '/x2']);
    expect(hasher.scopes('full').sort()).toEqual(['/x1', '/x2']);
    expect(r.stats).toMatchObject({ files: 5, candidates: 4, sampled: 4, fullyHashed: 2, bytesRead: 4 * 8192 + 2 * 10_000 });
  });

  it('never computes a full hash of files read whole by the sample', async () => {
    const { files, hasher } = world({
      '/s1': bytes(8192, 3),
      '/s2': bytes(8192, 3),
      '/s3': bytes(8192, 3, { 4000: 0 }),
      '/t1': Buffer.from('hello'),
      '/t2': Buffer.from('hello'),
      '/t3': Buffer.from('hellO'),
    });
    const r = await run(files, hasher);
    expect(groupPaths(r)).toEqual([
      ['/s1', '/s2'],
      ['/t1', '/t2'],
    ]);
    expect(r.groups[1].hash).toBe(sha(Buffer.from('hello')));
    expect(hasher.calls.map((c) => c.scope)).toEqual(['sample']);
    expect(r.stats.fullyHashed).toBe(0);
    expect(r.stats.bytesRead).toBe(3 * 8192 + 3 * 5);
  });

  it('reads nothing when no size is shared', async () => {
    const { files, hasher } = world({ '/a': bytes(1, 0), '/b': bytes(2, 0), '/c': bytes(3, 0) });
    const r = await run(files, hasher);
    expect(r.groups).toEqual([]);
    expect(hasher.calls).toEqual([]);
    expect(r.stats).toMatchObject({ files: 3, candidates: 0, sampled: 0, fullyHashed: 0, bytesRead: 0, groups: 0 });
  });

  it('reports a file that fails its sample and groups the rest without it', async () => {
    const { files, hasher } = world({
      '/a': bytes(100, 4),
      '/b': bytes(100, 4),
      '/c': bytes(100, 4),
      '/d': bytes(200, 5),
      '/e': bytes(200, 5),
    });
    hasher.failures.set('/b', { scope: 'sample', code: 'EACCES' });
    hasher.failures.set('/e', { scope: 'sample', code: 'E_CHANGED' });
    const r = await run(files, hasher);
    expect(groupPaths(r)).toEqual([['/a', '/c']]);
    expect(r.errors.map((e) => [e.path, e.code]).sort()).toEqual([
      ['/b', 'EACCES'],
      ['/e', 'E_CHANGED'],
    ]);
    expect(r.stats.errors).toBe(2);
    expect(r.stats.groups).toBe(1);
  });

  it('reports a file that fails its full hash and groups the rest without it', async () => {
    const big = bytes(9000, 6);
    const { files, hasher } = world({
      '/a': big,
      '/b': Buffer.from(big),
      '/c': Buffer.from(big),
      '/p': bytes(9000, 8),
      '/q': bytes(9000, 8),
    });
    hasher.failures.set('/c', { scope: 'full', code: 'E_CHANGED' });
    hasher.failures.set('/q', { scope: 'full', code: 'EIO' });
    const r = await run(files, hasher);
    expect(groupPaths(r)).toEqual([['/a', '/b']]);
    expect(r.errors.map((e) => [e.path, e.code])).toEqual([
      ['/c', 'E_CHANGED'],
      ['/q', 'EIO'],
    ]);
    expect(r.stats).toMatchObject({ errors: 2, groups: 1, duplicateFiles: 2, wastedBytes: 9000 });
  });

  it('does not store a failed file in the cache', async () => {
    const { files, hasher } = world({ '/a': bytes(9000, 6), '/b': bytes(9000, 6), '/c': bytes(9000, 6) });
    hasher.failures.set('/b', { scope: 'full', code: 'E_CHANGED' });
    const cache = new MemoryCache();
    await run(files, hasher, { cache });
    expect(cache.stores).toHaveLength(1);
    expect(cache.stores[0].map((s) => s.path).sort()).toEqual(['/a', '/c']);
  });

  it('stores fresh results: samples, and full hashes where computed or implied by a whole sample', async () => {
    const big = bytes(9000, 6);
    const { files, hasher } = world({
      '/big1': big,
      '/big2': Buffer.from(big),
      '/bigx': bytes(9000, 6, { 0: 1 }),
      '/s1': Buffer.from('abc'),
      '/s2': Buffer.from('abd'),
      '/unique': bytes(77, 0),
    });
    const cache = new MemoryCache();
    await run(files, hasher, { cache });
    expect(cache.lookups).toBe(1);
    const stored = [...cache.stores.flat()].sort((a, b) => (a.path < b.path ? -1 : 1));
    const sample = (b: Buffer): string => sha(Buffer.concat([b.subarray(0, 4096), b.subarray(b.length - 4096)]));
    expect(stored).toEqual([
      { path: '/big1', sample: sample(big), full: sha(big) },
      { path: '/big2', sample: sample(big), full: sha(big) },
      { path: '/bigx', sample: sample(bytes(9000, 6, { 0: 1 })), full: undefined },
      { path: '/s1', sample: sha(Buffer.from('abc')), full: sha(Buffer.from('abc')) },
      { path: '/s2', sample: sha(Buffer.from('abd')), full: sha(Buffer.from('abd')) },
    ]);
  });

  it('takes hashes from the cache instead of hashing, and stores nothing on a fully warm run', async () => {
    const big = bytes(9000, 6);
    const spec = {
      '/big1': big,
      '/big2': Buffer.from(big),
      '/bigx': bytes(9000, 6, { 0: 1 }),
      '/s1': Buffer.from('abc'),
      '/s2': Buffer.from('abc'),
    };
    const cache = new MemoryCache();
    const cold = world(spec);
    const first = await run(cold.files, cold.hasher, { cache });
    const coldStores = cache.stores.length;
    expect(coldStores).toBeGreaterThan(0);
    const warm = world(spec);
    const second = await run(warm.files, warm.hasher, { cache });
    expect(warm.hasher.calls).toEqual([]);
    expect(second.groups).toEqual(first.groups);
    expect(second.stats).toMatchObject({ candidates: 5, cacheHits: 5, sampled: 0, fullyHashed: 0, bytesRead: 0 });
    expect(cache.stores).toHaveLength(coldStores); // only the cold run stored
  });

  it('writes the cache as it goes, each file once, with the same rows as one write at the end', async () => {
    // More files than one hashing chunk, so results are written while later chunks are hashed.
    const spec: Record<string, Buffer> = {};
    for (let i = 0; i < 5000; i++) spec[`/s/${String(i).padStart(4, '0')}`] = Buffer.from(`small ${i % 2000}`);
    for (let i = 0; i < 30; i++) spec[`/b/${i}`] = bytes(9000, i % 10, i % 3 === 0 ? { 4500: 1 } : {});
    const { files, hasher } = world(spec);
    hasher.failures.set('/b/4', { scope: 'full', code: 'E_CHANGED' });
    hasher.failures.set('/s/0007', { scope: 'sample', code: 'EIO' });
    const cache = new MemoryCache();
    await run(files, hasher, { cache });
    expect(cache.stores.length).toBeGreaterThan(2);
    const written = cache.stores.flat();
    const paths = written.map((w) => w.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.sort()).toEqual(
      files
        .map((f) => f.path)
        .filter((p) => p !== '/b/4' && p !== '/s/0007')
        .sort(),
    );
    const sampleOf = (b: Buffer): string =>
      b.length <= 8192 ? sha(b) : sha(Buffer.concat([b.subarray(0, 4096), b.subarray(b.length - 4096)]));
    const collided = new Set(hasher.scopes('full'));
    for (const w of written) {
      const data = spec[w.path];
      expect(w.sample).toBe(sampleOf(data));
      // Whole samples and computed full hashes are written; a big file whose sample was unique has none.
      expect(w.full).toBe(data.length <= 8192 || collided.has(w.path) ? sha(data) : undefined);
    }
    const warm = world(spec);
    const again = await run(warm.files, warm.hasher, { cache });
    const uncached = world(spec);
    expect(again.groups).toEqual((await run(uncached.files, uncached.hasher)).groups);
    // Only the files that failed are hashed again (a failed file's sample was not written either).
    expect(warm.hasher.calls.map((c) => c.paths.sort())).toEqual([['/b/4', '/s/0007'], ['/b/4']]);
  });

  it('hashes only the missing full hash when the cache has just the sample', async () => {
    const big = bytes(9000, 6);
    const { files, hasher } = world({ '/big1': big, '/big2': Buffer.from(big) });
    const cache = new MemoryCache();
    const sampleOnly = sha(Buffer.concat([big.subarray(0, 4096), big.subarray(9000 - 4096)]));
    cache.store([{ file: files[0], sample: sampleOnly }], 'sha256');
    cache.store([{ file: files[1], sample: sampleOnly, full: sha(big) }], 'sha256');
    cache.stores.length = 0;
    const r = await run(files, hasher, { cache });
    expect(hasher.calls).toEqual([{ scope: 'full', paths: ['/big1'] }]);
    expect(groupPaths(r)).toEqual([['/big1', '/big2']]);
    expect(r.stats).toMatchObject({ cacheHits: 2, sampled: 0, fullyHashed: 1, bytesRead: 9000 });
    expect(cache.stores).toEqual([[{ path: '/big1', sample: sampleOnly, full: sha(big) }]]);
  });

  it('ignores a cache row for another algorithm or a changed file', async () => {
    const { files, hasher } = world({ '/a': Buffer.from('xy'), '/b': Buffer.from('xy') });
    const cache = new MemoryCache();
    cache.store([{ file: files[0], sample: 'stale', full: 'stale' }], 'xxh128');
    cache.store([{ file: { ...files[1], mtimeNsec: 6 }, sample: 'stale', full: 'stale' }], 'sha256');
    const r = await run(files, hasher, { cache });
    expect(r.stats.cacheHits).toBe(0);
    expect(hasher.scopes('sample')).toEqual(['/a', '/b']);
    expect(r.groups).toEqual([{ size: 2, hash: sha(Buffer.from('xy')), paths: ['/a', '/b'], wasted: 2 }]);
  });

  it('a cached (possibly wrong) hash is trusted while the file looks unchanged', async () => {
    // Proves hits really skip reading: two different files with a forged equal cache entry group.
    const { files, hasher } = world({ '/a': Buffer.from('one'), '/b': Buffer.from('two') });
    const cache = new MemoryCache();
    cache.store(
      files.map((file) => ({ file, sample: 'forged', full: 'forged' })),
      'sha256',
    );
    const r = await run(files, hasher, { cache });
    expect(hasher.calls).toEqual([]);
    expect(groupPaths(r)).toEqual([['/a', '/b']]);
  });

  it('uses hashes the source found in the cache, looks up only files it did not ask about, hashes misses', async () => {
    const big = bytes(9000, 6);
    const spec = { '/h1': big, '/h2': Buffer.from(big), '/miss': Buffer.from(big), '/unasked': Buffer.from(big), '/lone': bytes(5, 1) };
    const { files, hasher } = world(spec);
    const cache = new MemoryCache();
    const [sampled] = await new MemoryHasher(new Map([['/x', big]])).hash([{ ...files[0], path: '/x' }], 'sample');
    const sample = (sampled as { hash: string }).hash;
    cache.store([{ file: files[3], sample, full: sha(big) }], 'sha256');
    const hinted: DupeFile[] = [
      { ...files[0], cached: { sample, full: sha(big) } },
      { ...files[1], cached: { sample } },
      { ...files[2], cached: null },
      files[3],
      { ...files[4], cached: null },
    ];
    const r = await run(hinted, hasher, { cache });
    expect(cache.lookups).toBe(1);
    expect(hasher.scopes('sample')).toEqual(['/miss']);
    expect(hasher.scopes('full')).toEqual(['/h2', '/miss']);
    expect(r.stats).toMatchObject({ candidates: 4, cacheHits: 3, sampled: 1, fullyHashed: 2 });
    expect(groupPaths(r)).toEqual([['/h1', '/h2', '/miss', '/unasked']]);
    // Every file was asked about: no lookup at all.
    const again = world(spec);
    const asked = again.files.map((f) => ({ ...f, cached: null }));
    const before = cache.lookups;
    await run(asked, again.hasher, { cache });
    expect(cache.lookups).toBe(before);
  });

  it('counts hard links once and groups an inode with a real copy under its smallest path', async () => {
    const { files, hasher } = world({ '/m/orig': Buffer.from('data'), '/z/copy': Buffer.from('data') }, { '/a/link': '/m/orig' });
    const r = await run(files, hasher);
    expect(groupPaths(r)).toEqual([['/a/link', '/z/copy']]);
    expect(r.stats).toMatchObject({ files: 2, hardLinks: 1, candidates: 2 });
    const alone = world({ '/orig': Buffer.from('data') }, { '/link1': '/orig', '/link2': '/orig' });
    const r2 = await run(alone.files, alone.hasher);
    expect(r2.groups).toEqual([]);
    expect(alone.hasher.calls).toEqual([]);
    expect(r2.stats).toMatchObject({ files: 1, hardLinks: 2 });
  });

  it('skips empty files, or groups them under the empty hash without reading them', async () => {
    const spec = { '/e1': Buffer.alloc(0), '/e2': Buffer.alloc(0), '/x': Buffer.from('1'), '/y': Buffer.from('1') };
    const skip = world(spec);
    const r1 = await run(skip.files, skip.hasher);
    expect(groupPaths(r1)).toEqual([['/x', '/y']]);
    expect(r1.stats).toMatchObject({ emptySkipped: 2, candidates: 2 });
    const keep = world(spec);
    const r2 = await run(keep.files, keep.hasher, { includeEmpty: true });
    expect(r2.groups).toEqual([
      { size: 1, hash: sha(Buffer.from('1')), paths: ['/x', '/y'], wasted: 1 },
      { size: 0, hash: EMPTY, paths: ['/e1', '/e2'], wasted: 0 },
    ]);
    expect(keep.hasher.scopes('sample')).toEqual(['/x', '/y']);
    expect(r2.stats).toMatchObject({ emptySkipped: 0, candidates: 2, groups: 2, duplicateFiles: 4 });
  });

  it('announces phases in order, awaiting each', async () => {
    const { files, hasher } = world({ '/a': bytes(9000, 1), '/b': bytes(9000, 1) });
    const seen: string[] = [];
    await run(files, hasher, {
      onPhase: async (p: DupePhase) => {
        seen.push(`${p}:${hasher.calls.length}`);
        await new Promise((r) => setTimeout(r, 1));
      },
    });
    expect(seen).toEqual(['size:0', 'sample:0', 'full:1', 'done:2']);
  });
});

describe('findDuplicates property', () => {
  // Contents from a small palette so collisions are common: sizes around the sample boundary,
  // a fill byte, and one patched byte (head, middle or tail) to make near-identical decoys.
  const content = fc.record({
    size: fc.constantFrom(0, 1, 2, 4096, 8192, 8193, 9000, 12_288),
    fill: fc.integer({ min: 0, max: 1 }),
    patchAt: fc.constantFrom('none', 'head', 'middle', 'tail'),
    patchValue: fc.integer({ min: 2, max: 3 }),
  });
  const materialise = (c: { size: number; fill: number; patchAt: string; patchValue: number }): Buffer => {
    const b = Buffer.alloc(c.size, c.fill);
    if (c.size > 0 && c.patchAt !== 'none') {
      b[c.patchAt === 'head' ? 0 : c.patchAt === 'tail' ? c.size - 1 : Math.floor(c.size / 2)] = c.patchValue;
    }
    return b;
  };

  it('groups exactly the files with equal contents (hard links as one file, empties when asked)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(content, { minLength: 1, maxLength: 8 }),
        fc.array(fc.record({ pick: fc.nat(), link: fc.integer({ min: 0, max: 4 }), linkTo: fc.nat() }), { minLength: 0, maxLength: 25 }),
        fc.boolean(),
        fc.boolean(),
        async (palette, picks, includeEmpty, useCache) => {
          const datas = palette.map(materialise);
          const spec: Record<string, Buffer> = {};
          const links: Record<string, string> = {};
          const names: string[] = [];
          picks.forEach((p, i) => {
            const name = `/f${String(i).padStart(2, '0')}`;
            // One name in five is a hard link to an earlier file.
            if (p.link === 0 && names.length > 0) links[name] = names[p.linkTo % names.length];
            else {
              spec[name] = datas[p.pick % datas.length];
              names.push(name);
            }
          });
          const { files, hasher } = world(spec, links);
          const cache = useCache ? new MemoryCache() : undefined;
          const r = await run(files, hasher, { includeEmpty, cache });

          // Expected: one representative (smallest path) per inode, grouped by content.
          const rep = new Map<string, string>();
          for (const name of names) rep.set(name, name);
          for (const [link, target] of Object.entries(links)) if (link < rep.get(target)!) rep.set(target, link);
          const byContent = new Map<string, string[]>();
          for (const name of names) {
            const data = spec[name];
            if (data.length === 0 && !includeEmpty) continue;
            const key = data.toString('hex');
            byContent.set(key, [...(byContent.get(key) ?? []), rep.get(name)!]);
          }
          const expected = [...byContent.values()].filter((g) => g.length > 1).map((g) => g.sort());
          const sortGroups = (gs: string[][]): string[][] => [...gs].sort((a, b) => (a[0] < b[0] ? -1 : 1));
          expect(sortGroups(groupPaths(r))).toEqual(sortGroups(expected));
          expect(r.errors).toEqual([]);
          for (let i = 1; i < r.groups.length; i++) expect(r.groups[i - 1].wasted).toBeGreaterThanOrEqual(r.groups[i].wasted);
          // Whole files are only read where a sample could not decide.
          expect(hasher.scopes('full').every((p) => !sampleIsWhole(files.find((f) => f.path === p)!.size))).toBe(true);
          if (cache) {
            // A second run from the cache reads nothing and finds the same groups.
            const again = new MemoryHasher(hasher.contents);
            const r2 = await run(files, again, { includeEmpty, cache });
            expect(again.calls).toEqual([]);
            expect(r2.groups).toEqual(r.groups);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
