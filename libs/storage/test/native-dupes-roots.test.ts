import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type Database from 'better-sqlite3';
import { parseFilterSpec, type FilterInput } from '@filer/core';
import { WHOLE_SAMPLE_MAX } from '@filer/engine';
import { openStateDb, SqliteHashCache } from '@filer/storage/state';
import { nativeAddonOff, noiseBytes } from '@filer/testing';
import { entriesOf, viaEngine, viaNative } from './native-dupes-pair.js';

/**
 * The addon's duplicate pipeline over several roots (disjoint, nested, repeated) and with name and
 * stat filters must give what the engine gives on the same scans: the same groups, counts, errors
 * and cache entries. The engine is the reference: it is what these runs used before.
 */
const dirs: string[] = [];
const dbs: Database.Database[] = [];
afterAll(() => {
  for (const db of dbs) if (db.open) db.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const openCache = (file: string): SqliteHashCache => {
  const db = openStateDb(file);
  dbs.push(db);
  return new SqliteHashCache(db);
};

const BIG = 20_000;
const OLD = new Date(Date.UTC(2020, 0, 1));
const content = (size: number, variant: number): Buffer =>
  Buffer.from(size <= WHOLE_SAMPLE_MAX ? noiseBytes(size, 10 + variant) : noiseBytes(size, 1 + (variant === 1 ? 7 : 0)));

const DIRS = ['', 'sub', 'sub/deep', 'other', '.dot'];
const NAMES = ['a.txt', 'b.bin', 'é.TXT', '.h.txt', 'z z.bin', 'noext'];
const treeSpec = fc.array(
  fc.record({
    dir: fc.constantFrom(...DIRS),
    name: fc.constantFrom(...NAMES),
    size: fc.constantFrom(0, 10, WHOLE_SAMPLE_MAX + 1, BIG),
    variant: fc.integer({ min: 0, max: 1 }),
    old: fc.boolean(),
    link: fc.option(fc.nat(), { freq: 6, nil: undefined }),
  }),
  { minLength: 4, maxLength: 24 },
);

/** Roots: one to three of the tree's directories, nested or repeated at will. */
const rootsSpec = fc.array(fc.constantFrom(...DIRS.slice(0, 4)), { minLength: 1, maxLength: 3 });

/** Filters the native scan does not apply itself (names, sizes, times) and those it does (hidden, depth). */
const filterSpec = fc.constantFrom<FilterInput>(
  {},
  { ext: ['txt'] },
  { minSize: 11 },
  { maxSize: WHOLE_SAMPLE_MAX + 1, ext: ['bin', 'txt'] },
  { name: ['a*', '*.bin'] },
  { regex: '^[aé]' },
  { newer: '2021-01-01' },
  { older: '2021-01-01', minSize: 1 },
  { hidden: false, ext: ['txt'] },
  { maxDepth: 1 },
);

interface FileSpec {
  dir: string;
  name: string;
  size: number;
  variant: number;
  old: boolean;
  link?: number;
}

function writeTree(root: string, raw: FileSpec[]): void {
  const written: string[] = [];
  raw.forEach((f, i) => {
    const p = path.join(root, f.dir, `${i}${f.name}`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (f.link !== undefined && written.length > 0) fs.linkSync(written[f.link % written.length], p);
    else {
      fs.writeFileSync(p, content(f.size, f.variant));
      if (f.old) fs.utimesSync(p, OLD, OLD);
      written.push(p);
    }
  });
  for (const d of DIRS) fs.mkdirSync(path.join(root, d), { recursive: true });
}

describe.skipIf(nativeAddonOff)('findDuplicatesNatively over several roots and with filters', () => {
  it('property: the same groups, counts, errors and cache entries as the engine on the same scans', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        treeSpec,
        rootsSpec,
        filterSpec,
        fc.boolean(),
        fc.boolean(),
        async (files, rels, filter, includeEmpty, withCache) => {
          const base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-native-roots-'));
          dirs.push(base);
          const root = path.join(base, 'tree');
          writeTree(root, files);
          const roots = rels.map((r) => path.join(root, r));
          const s = parseFilterSpec({ hidden: true, noIgnore: true, ...filter });
          const cacheA = withCache ? openCache(path.join(base, 'a.db')) : undefined;
          const cacheB = withCache ? openCache(path.join(base, 'b.db')) : undefined;
          // A first run fills the caches, a second one is served from them.
          for (let pass = 0; pass < (withCache ? 2 : 1); pass++) {
            const native = await viaNative(roots, s, cacheA, includeEmpty);
            const engine = await viaEngine(roots, s, cacheB, includeEmpty);
            cacheB?.flush();
            expect(native.scanErrors).toEqual(engine.scanErrors);
            expect(native.errors).toEqual(engine.result.errors);
            expect(native.groups.map((g) => ({ ...g, paths: [...g.paths] }))).toEqual(
              engine.result.groups.map(({ size, hash, paths }) => ({ size, hash, paths })),
            );
            const { groups, duplicateFiles, wastedBytes, errors, ...stats } = engine.result.stats;
            void [groups, duplicateFiles, wastedBytes, errors];
            expect({ ...native.stats }).toEqual(stats);
            if (withCache) expect(entriesOf(cacheA!, root)).toEqual(entriesOf(cacheB!, root));
            if (pass === 1) expect(native.stats.bytesRead).toBe(0);
          }
          run++;
          fs.rmSync(base, { recursive: true, force: true });
        },
      ),
      { numRuns: 80 },
    );
    expect(run).toBe(80);
  }, 180_000);

  it('a file under two overlapping roots counts once, and a real hard link still counts as one', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-native-roots-'));
    dirs.push(base);
    const root = path.join(base, 'tree');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sub/a'), content(BIG, 0));
    fs.writeFileSync(path.join(root, 'b'), content(BIG, 0));
    fs.linkSync(path.join(root, 'sub/a'), path.join(root, 'sub/link'));
    const s = parseFilterSpec({ hidden: true, noIgnore: true });
    const found = await viaNative([root, path.join(root, 'sub'), root], s, undefined, false);
    expect(found.stats).toMatchObject({ files: 2, hardLinks: 1, candidates: 2 });
    expect(found.groups.map((g) => g.paths)).toEqual([[path.join(root, 'b'), path.join(root, 'sub/a')]]);
  });

  it('filters leave rejected files unhashed: an --ext run reads only the matching files', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-native-roots-'));
    dirs.push(base);
    const root = path.join(base, 'tree');
    fs.mkdirSync(root);
    for (const n of ['a.txt', 'b.txt', 'c.bin', 'd.bin']) fs.writeFileSync(path.join(root, n), content(BIG, 0));
    const found = await viaNative([root], parseFilterSpec({ hidden: true, noIgnore: true, ext: ['txt'] }), undefined, false);
    expect(found.stats).toMatchObject({ files: 2, candidates: 2, sampled: 2, fullyHashed: 2 });
    expect(found.groups.map((g) => g.paths.map((p) => path.basename(p)))).toEqual([['a.txt', 'b.txt']]);
  });
});
