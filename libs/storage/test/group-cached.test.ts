import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseFilterSpec } from '@filer/core';
import {
  duplicatesFromGroups,
  findDuplicates,
  WHOLE_SAMPLE_MAX,
  type CachedHashes,
  type DupeFile,
  type FileHasher,
  type HashOutcome,
} from '@filer/engine';
import { groupCachedNatively, type NativeScanResult } from '@filer/storage';
import { nativeAddonOff } from '@filer/testing';

/**
 * The native grouping of a fully cached scan must give exactly what the engine's pipeline gives on
 * the same files with the same cached hashes: the same groups, paths, hashes, order and counts; and
 * nothing at all (so the engine runs) when a hash the grouping needs is missing.
 */
const spec = parseFilterSpec({ hidden: true, noIgnore: true });
const EMPTY = 'empty-digest';

/** A hasher that must never be asked: every hash comes from the hints. */
const refuse: FileHasher = {
  algorithm: 'xxh128',
  bytesRead: 0,
  hash: (): Promise<HashOutcome[]> => Promise.reject(new Error('the hasher was asked')),
};

interface Spec {
  path: string;
  size: number;
  dev: number;
  ino: number;
  cached: CachedHashes | null;
}

/** A scan result as the addon returns it for these files. */
function scanOf(files: Spec[]): NativeScanResult {
  const fields = new Float64Array(files.length * 5);
  files.forEach((f, i) => fields.set([f.size, f.dev, f.ino, 1_700_000_000, 5], i * 5));
  const hints = files.map((f) => `${f.cached?.sample ?? ''}\0${f.cached?.full ?? ''}\0`).join('');
  return { roots: [{ joined: files.map((f) => f.path).join('\0'), fields, hints }], errors: [], spec, matchedCache: true };
}

async function viaEngine(files: Spec[], includeEmpty: boolean) {
  const records: DupeFile[] = files.map((f) => ({
    path: f.path,
    size: f.size,
    dev: f.dev,
    ino: f.ino,
    mtimeSec: 1_700_000_000,
    mtimeNsec: 5,
    cached: f.cached,
  }));
  return findDuplicates(records, { hasher: refuse, includeEmpty, emptyHash: EMPTY });
}

function viaNative(files: Spec[], includeEmpty: boolean) {
  const found = groupCachedNatively(scanOf(files), { includeEmpty, emptyHash: EMPTY });
  return found && duplicatesFromGroups(found.groups, found.stats);
}

// Names that JS and byte order sort differently (U+FFFD vs an astral character), plus plain ones.
const NAMES = ['a', 'b', 'B', 'é', '\u{1F600}', '\uFFFD', '\uE000x', 'z z', 'ü ñ'];

/** Files of a few sizes (some above a whole sample), some hard-linked, each with its content's hashes. */
const tree = fc
  .array(
    fc.record({
      dir: fc.constantFrom('/r', '/r/sub', '/r/\u{1F600}', '/r/\uE000'),
      name: fc.constantFrom(...NAMES),
      size: fc.constantFrom(0, 10, WHOLE_SAMPLE_MAX, WHOLE_SAMPLE_MAX + 1, 50_000),
      content: fc.integer({ min: 0, max: 3 }),
      sampleContent: fc.integer({ min: 0, max: 1 }),
      linkTo: fc.option(fc.nat(), { nil: undefined }),
      dev: fc.constantFrom(1, 2),
    }),
    { minLength: 8, maxLength: 40 },
  )
  .map((raw) => {
    const out: Spec[] = [];
    const seen = new Set<string>();
    raw.forEach((r, i) => {
      const path = `${r.dir}/${r.name}${i % 3}`;
      if (seen.has(path)) return;
      seen.add(path);
      const target = r.linkTo !== undefined && out.length > 0 ? out[r.linkTo % out.length] : undefined;
      if (target !== undefined) {
        out.push({ ...target, path });
        return;
      }
      // Files larger than a whole sample may share a sample yet differ in full.
      const whole = r.size <= WHOLE_SAMPLE_MAX;
      const sample = `s${r.size}-${whole ? r.content : r.sampleContent}`;
      out.push({ path, size: r.size, dev: r.dev, ino: 1000 + i, cached: { sample, full: whole ? sample : `f${r.size}-${r.content}` } });
    });
    return out;
  });

describe.skipIf(nativeAddonOff)('groupCachedNatively', () => {
  it('property: equals the engine on fully cached files (hard links, devices, empties, unicode paths)', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.boolean(), async (files, includeEmpty) => {
        const native = viaNative(files, includeEmpty);
        const engine = await viaEngine(files, includeEmpty);
        expect(native).toBeDefined();
        expect(native!.groups).toEqual(engine.groups);
        expect(native!.stats).toEqual(engine.stats);
      }),
      { numRuns: 300 },
    );
  });

  it('orders groups as the report does: wasted bytes, then size, then first path (as JS compares strings)', () => {
    const file = (path: string, size: number, ino: number, hash: string): Spec => ({
      path,
      size,
      dev: 1,
      ino,
      cached: { sample: hash, full: hash },
    });
    const files = [
      file('/r/\uE000', 10, 1, 'x'),
      file('/r/\u{1F600}', 10, 2, 'y'),
      file('/r/\uE001', 10, 3, 'x'),
      file('/r/\u{1F601}', 10, 4, 'y'),
      file('/r/big1', 20, 5, 'z'),
      file('/r/big2', 20, 6, 'z'),
      file('/r/three1', 7, 7, 'w'),
      file('/r/three2', 7, 8, 'w'),
      file('/r/three3', 7, 9, 'w'),
    ];
    expect(viaNative(files, false)!.groups.map((g) => g.paths)).toEqual([
      ['/r/big1', '/r/big2'],
      ['/r/three1', '/r/three2', '/r/three3'],
      ['/r/\u{1F600}', '/r/\u{1F601}'],
      ['/r/\uE000', '/r/\uE001'],
    ]);
  });

  it('gives up when a candidate has no cached sample, or a colliding large file no whole hash', () => {
    const big = WHOLE_SAMPLE_MAX + 1;
    const base: Spec[] = [
      { path: '/r/a', size: big, dev: 1, ino: 1, cached: { sample: 's', full: 'f' } },
      { path: '/r/b', size: big, dev: 1, ino: 2, cached: { sample: 's', full: 'f' } },
      { path: '/r/lone', size: 7, dev: 1, ino: 3, cached: null },
    ];
    expect(viaNative(base, false)?.groups).toEqual([{ size: big, hash: 'f', paths: ['/r/a', '/r/b'], wasted: big }]);
    expect(viaNative([base[0], { ...base[1], cached: null }, base[2]], false)).toBeUndefined();
    expect(viaNative([base[0], { ...base[1], cached: { sample: 's' } }, base[2]], false)).toBeUndefined();
    // A different sample needs no whole hash: no group, and nothing missing.
    expect(viaNative([base[0], { ...base[1], cached: { sample: 't' } }, base[2]], false)?.groups).toEqual([]);
  });

  it('leaves to the engine what it does not handle: several roots, filters, a scan without cache rows', () => {
    const files: Spec[] = [
      { path: '/r/a', size: 5, dev: 1, ino: 1, cached: { sample: 's', full: 's' } },
      { path: '/r/b', size: 5, dev: 1, ino: 2, cached: { sample: 's', full: 's' } },
    ];
    const scan = scanOf(files);
    expect(groupCachedNatively(scan, { includeEmpty: false, emptyHash: EMPTY })).toBeDefined();
    expect(
      groupCachedNatively({ ...scan, roots: [...scan.roots, ...scan.roots] }, { includeEmpty: false, emptyHash: EMPTY }),
    ).toBeUndefined();
    expect(
      groupCachedNatively({ ...scan, spec: parseFilterSpec({ ext: ['csv'], noIgnore: true }) }, { includeEmpty: false, emptyHash: EMPTY }),
    ).toBeUndefined();
    expect(groupCachedNatively({ ...scan, matchedCache: false }, { includeEmpty: false, emptyHash: EMPTY })).toBeUndefined();
    expect(groupCachedNatively(scan, { includeEmpty: false, emptyHash: EMPTY, native: null })).toBeUndefined();
  });
});
