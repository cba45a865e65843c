import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type Database from 'better-sqlite3';
import { parseFilterSpec } from '@filer/core';
import { WHOLE_SAMPLE_MAX, type DupePhase } from '@filer/engine';
import { dupeFilesOf, findDuplicatesNatively } from '@filer/storage';
import { openStateDb, SqliteHashCache } from '@filer/storage/state';
import { nativeAddonOff, noiseBytes } from '@filer/testing';
import { EMPTY, entriesOf, viaEngine, viaNative } from './native-dupes-pair.js';

/**
 * The addon's whole duplicate pipeline (scan, cache hints, hashing, grouping, the cache's new rows)
 * must give exactly what the engine's pipeline gives on the same scan: the same groups, counts,
 * failures, and the same entries written to the cache.
 */
const spec = parseFilterSpec({ hidden: true, noIgnore: true });
const dirs: string[] = [];
const dbs: Database.Database[] = [];
afterAll(() => {
  for (const db of dbs) if (db.open) db.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};
const openCache = (file: string): SqliteHashCache => {
  const db = openStateDb(file);
  dbs.push(db);
  return new SqliteHashCache(db);
};

const BIG = 20_000;
/** Contents by kind: small and large files, large ones sharing head and tail but not their middle, or differing in the last byte only. */
function content(size: number, variant: number): Buffer {
  if (size <= WHOLE_SAMPLE_MAX) return Buffer.from(noiseBytes(size, 10 + variant));
  const base = Buffer.from(noiseBytes(size, 1));
  if (variant === 1) noiseBytes(size - 8192, 2).forEach((b, i) => (base[4096 + i] = b));
  if (variant === 2) base[size - 1] ^= 0xff;
  return base;
}

interface FileSpec {
  rel: string;
  size: number;
  variant: number;
  /** Index of an earlier file to hard-link instead of writing content. */
  linkTo?: number;
}

const NAMES = ['a', 'b', 'é', '\u{1F600}', '\uFFFD', 'z z'];
const treeSpec = fc
  .array(
    fc.record({
      dir: fc.constantFrom('', 'sub', 'sub/deep', '\uE000'),
      name: fc.constantFrom(...NAMES),
      size: fc.constantFrom(0, 10, WHOLE_SAMPLE_MAX, WHOLE_SAMPLE_MAX + 1, BIG),
      variant: fc.integer({ min: 0, max: 2 }),
      link: fc.option(fc.nat(), { freq: 5, nil: undefined }),
    }),
    { minLength: 4, maxLength: 24 },
  )
  .map((raw) => {
    const out: FileSpec[] = [];
    const seen = new Set<string>();
    raw.forEach((r, i) => {
      const rel = path.join(r.dir, `${r.name}${i % 4}`);
      if (seen.has(rel)) return;
      seen.add(rel);
      const linkTo = r.link !== undefined && out.length > 0 ? r.link % out.length : undefined;
      out.push({
        rel,
        size: r.size,
        variant: r.variant,
        linkTo: linkTo !== undefined && out[linkTo].linkTo === undefined ? linkTo : undefined,
      });
    });
    return out;
  });

/** What changes between the run that fills the cache and the compared run. */
const changes = fc.array(fc.record({ which: fc.nat(), kind: fc.constantFrom('rewrite', 'touch', 'remove', 'add') }), { maxLength: 4 });

function writeTree(root: string, files: FileSpec[]): void {
  files.forEach((f, i) => {
    const p = path.join(root, f.rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (f.linkTo !== undefined) fs.linkSync(path.join(root, files[f.linkTo].rel), p);
    else fs.writeFileSync(p, content(f.size, f.variant));
    void i;
  });
}

function applyChanges(root: string, files: FileSpec[], list: { which: number; kind: string }[]): void {
  list.forEach((c, k) => {
    const f = files[c.which % files.length];
    const p = path.join(root, f.rel);
    if (!fs.existsSync(p)) return;
    if (c.kind === 'rewrite') {
      fs.rmSync(p);
      fs.writeFileSync(p, content(f.size, (f.variant + 1) % 3));
    } else if (c.kind === 'touch') {
      const t = new Date(Date.UTC(2020, 0, 1 + k));
      fs.utimesSync(p, t, t);
    } else if (c.kind === 'remove') fs.rmSync(p);
    else fs.writeFileSync(path.join(path.dirname(p), `added${k}`), content(f.size, f.variant));
  });
}

describe.skipIf(nativeAddonOff)('findDuplicatesNatively', () => {
  it('property: the same groups, counts and cache entries as the engine, on real trees with and without a cache', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(treeSpec, changes, fc.boolean(), fc.boolean(), async (files, list, includeEmpty, withCache) => {
        const base = tempDir('filer-native-dupes-');
        const root = path.join(base, 'tree');
        writeTree(root, files);
        const stateA = path.join(base, 'a.db');
        if (withCache) {
          // The cache first learns the tree, then the tree changes: the compared runs mix hits and misses.
          await viaEngine([root], spec, openCache(stateA), includeEmpty);
          // Closed (its WAL checkpointed into the file) before the file is copied.
          dbs.pop()!.close();
          applyChanges(root, files, list);
          fs.copyFileSync(stateA, path.join(base, 'b.db'));
        }
        const cacheA = withCache ? openCache(stateA) : undefined;
        const cacheB = withCache ? openCache(path.join(base, 'b.db')) : undefined;
        const native = await viaNative([root], spec, cacheA, includeEmpty);
        const engine = await viaEngine([root], spec, cacheB, includeEmpty);
        cacheB?.flush();
        expect(native.scanErrors).toEqual(engine.scanErrors);
        expect(native.errors).toEqual(engine.result.errors);
        expect(native.groups.map((g) => ({ ...g, paths: [...g.paths] }))).toEqual(
          engine.result.groups.map(({ size, hash, paths }) => ({ size, hash, paths })),
        );
        expect({ ...native.stats }).toEqual({
          ...engine.result.stats,
          groups: undefined,
          duplicateFiles: undefined,
          wastedBytes: undefined,
          errors: undefined,
        });
        if (withCache) expect(entriesOf(cacheA!, root)).toEqual(entriesOf(cacheB!, root));
        else expect(native.rows).toEqual([]);
        run++;
        fs.rmSync(base, { recursive: true, force: true });
      }),
      { numRuns: 60 },
    );
    expect(run).toBe(60);
  }, 120_000);

  it('a second run on the cache it filled reads nothing and gives the same groups', async () => {
    const base = tempDir('filer-native-dupes-');
    const root = path.join(base, 'tree');
    writeTree(root, [
      { rel: 'a1', size: BIG, variant: 0 },
      { rel: 'sub/a2', size: BIG, variant: 0 },
      { rel: 'decoy', size: BIG, variant: 1 },
      { rel: 'last-byte', size: BIG, variant: 2 },
      { rel: 's1', size: 10, variant: 0 },
      { rel: 'sub/s2', size: 10, variant: 0 },
    ]);
    const cache = openCache(path.join(base, 'state.db'));
    const progress = new Float64Array(2);
    const first = await viaNative([root], spec, cache, false, undefined, progress);
    expect(first.stats).toMatchObject({ sampled: 6, fullyHashed: 3, cacheHits: 0 });
    // Progress counts every file and byte hashed, across both phases.
    expect([...progress]).toEqual([9, first.stats.bytesRead]);
    expect(first.stats.bytesRead).toBeGreaterThan(3 * BIG);
    expect(first.rows.map((r) => r.count).reduce((a, b) => a + b)).toBe(6);
    const again = await viaNative([root], spec, cache, false);
    expect(again.stats).toMatchObject({ sampled: 0, fullyHashed: 0, cacheHits: 6, bytesRead: 0 });
    expect(again.rows).toEqual([]);
    expect(again.groups).toEqual(first.groups);
    expect(first.groups.map((g) => g.paths.length)).toEqual([2, 2]);
  });

  it('a file modified between the sample and the whole hash is an error, never a duplicate', async () => {
    const base = tempDir('filer-native-dupes-');
    const root = path.join(base, 'tree');
    writeTree(root, [
      { rel: 'a1', size: BIG, variant: 0 },
      { rel: 'a2', size: BIG, variant: 0 },
      { rel: 'a3', size: BIG, variant: 0 },
    ]);
    const cache = openCache(path.join(base, 'state.db'));
    const phases: DupePhase[] = [];
    const found = await viaNative([root], spec, cache, false, (p) => {
      phases.push(p);
      // Same size, same head and tail, a new middle: only the whole hash (and the mtime) can tell.
      if (p === 'full') fs.writeFileSync(path.join(root, 'a2'), content(BIG, 1));
    });
    expect(phases).toEqual(['size', 'sample', 'full', 'done']);
    expect(found.errors).toEqual([{ path: path.join(root, 'a2'), code: 'E_CHANGED', message: 'changed since it was scanned' }]);
    expect(found.groups).toEqual([
      { size: BIG, hash: expect.stringMatching(/^[0-9a-f]{32}$/), paths: [path.join(root, 'a1'), path.join(root, 'a3')] },
    ]);
    // The changed file is never cached: the next run hashes it (and only it) again.
    const again = await viaNative([root], spec, cache, false);
    expect(again.stats).toMatchObject({ sampled: 1, cacheHits: 2 });
    expect(again.errors).toEqual([]);
  });

  it('hands back the scan when hashes are missing that only the engine makes, applies name filters, and leaves unscannable specs alone', async () => {
    const base = tempDir('filer-native-dupes-');
    const root = path.join(base, 'tree');
    writeTree(root, [
      { rel: 'a1', size: 10, variant: 0 },
      { rel: 'a2', size: 10, variant: 0 },
    ]);
    const opts = { includeEmpty: false, emptyHash: EMPTY, canHash: false };
    const handed = await findDuplicatesNatively(root, spec, opts);
    expect(handed?.kind).toBe('files');
    if (handed?.kind === 'files')
      expect(
        dupeFilesOf(handed.scan)
          .map((f) => path.basename(f.path))
          .sort(),
      ).toEqual(['a1', 'a2']);
    // A filter that keeps neither file: nothing left to hash, so the addon groups it even without sha256.
    const filtered = await findDuplicatesNatively(root, parseFilterSpec({ hidden: true, noIgnore: true, ext: ['csv'] }), opts);
    expect(filtered).toMatchObject({ kind: 'grouped', groups: [], stats: { files: 0, candidates: 0 } });
    expect(await findDuplicatesNatively(root, parseFilterSpec({ hidden: true }), opts)).toBeUndefined();
    expect(await findDuplicatesNatively(root, spec, { ...opts, scan: null })).toBeUndefined();
  });
});
