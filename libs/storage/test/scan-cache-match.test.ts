import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { parseFilterSpec } from '@filer/core';
import type { DupeFile } from '@filer/engine';
import { scanFilesNatively } from '@filer/storage';
import { DEFAULT_HASH_CACHE_LIMITS, openStateDb, SqliteHashCache } from '@filer/storage/state';
import { file, makeTree, nativeAddonOff, type TempTree } from '@filer/testing';

/**
 * A native scan given the cache's rows matches every file in its directory's row as it lists it:
 * each file must carry exactly what a lookup of the same file answers (a hit only for the identity
 * the cache wrote), and the cache must then write as correctly as after a lookup.
 */
const spec = parseFilterSpec({ hidden: true, noIgnore: true });
const DAY = 86_400_000;
let t: TempTree;
let stateDir: string;
const open: Database.Database[] = [];

beforeAll(() => {
  const tree: Parameters<typeof makeTree>[0] = {
    'a.bin': file('a'),
    'b.bin': file('bb'),
    '.hidden/h.bin': file('h'),
    'sub/c.bin': file('ccc'),
    'sub/deeper/d.bin': file('dddd'),
    'fresh/new.bin': file('new'),
    'name with spaces/ü ñ.bin': file('unicode'),
  };
  // More than 64 entries in one directory: its row is searched by a table, not a scan.
  for (let i = 0; i < 150; i++) tree[`big/f${i}.bin`] = file(`big ${i}`);
  t = makeTree(tree);
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-scan-cache-'));
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});
afterAll(() => {
  t?.cleanup();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

let dbCount = 0;
function newCache(now?: () => number): { db: Database.Database; cache: SqliteHashCache } {
  const db = openStateDb(path.join(stateDir, `state-${dbCount++}.db`));
  open.push(db);
  return { db, cache: new SqliteHashCache(db, undefined, now) };
}

const scan = (roots: string[], cache?: SqliteHashCache): DupeFile[] => {
  const cacheRows = cache?.rowsUnder(roots, 'xxh128');
  return scanFilesNatively(roots, spec, { cacheRows })!.files;
};
/** The file as a lookup is asked about it: no hint. */
const unhinted = (f: DupeFile): DupeFile => ({ ...f, cached: undefined });
const fakeHashes = (f: DupeFile): { sample: string; full?: string } => ({
  sample: `s:${path.basename(f.path)}`,
  full: f.path.includes('big') ? undefined : `f:${path.basename(f.path)}`,
});

describe.skipIf(nativeAddonOff)('native scan matched against the hash cache', () => {
  it('gives every file what a lookup answers: hits for unchanged files, null for changed, new or unstored ones', () => {
    const { cache } = newCache();
    const before = scan([t.root]);
    // Everything but fresh/ is stored; the big directory in reverse order, so walk order and row order differ.
    const stored = before.filter((f) => !f.path.includes('/fresh/'));
    stored.sort((a, b) => (a.path.includes('/big/') && b.path.includes('/big/') ? (a.path < b.path ? 1 : -1) : 0));
    cache.store(
      stored.map((f) => ({ file: f, ...fakeHashes(f) })),
      'xxh128',
    );
    cache.flush();
    // One stored file changes (new mtime), one is replaced (new inode).
    fs.utimesSync(t.path('sub/c.bin'), new Date(), new Date('2001-01-01T00:00:00.123Z'));
    fs.rmSync(t.path('b.bin'));
    fs.writeFileSync(t.path('b.bin'), 'bb');

    const files = scan([t.root], cache);
    expect(files).toHaveLength(before.length);
    const asked = files.map(unhinted);
    const answers = cache.lookup(asked, 'xxh128');
    files.forEach((f, i) => expect(f.cached ?? undefined, f.path).toEqual(answers[i]));
    const byName = new Map(files.map((f) => [path.relative(t.root, f.path), f.cached]));
    expect(byName.get('a.bin')).toEqual({ sample: 's:a.bin', full: 'f:a.bin' });
    expect(byName.get('big/f7.bin')).toEqual({ sample: 's:f7.bin', full: undefined });
    expect(byName.get('name with spaces/ü ñ.bin')).toEqual({ sample: 's:ü ñ.bin', full: 'f:ü ñ.bin' });
    expect(byName.get('.hidden/h.bin')).toEqual({ sample: 's:h.bin', full: 'f:h.bin' });
    for (const miss of ['sub/c.bin', 'b.bin', 'fresh/new.bin']) expect(byName.get(miss), miss).toBeNull();
    expect(files.filter((f) => f.cached !== null)).toHaveLength(before.length - 3);
  });

  it('matches under any spelling of the root: relative, with a trailing slash, through ..', () => {
    const { cache } = newCache();
    const files = scan([t.root]);
    cache.store(
      files.map((f) => ({ file: f, ...fakeHashes(f) })),
      'xxh128',
    );
    cache.flush();
    const rel = path.relative(process.cwd(), t.root);
    for (const root of [rel, rel + '/', path.join(t.root, 'sub', '..'), `${t.root}/sub/../`]) {
      const got = scan([root], cache);
      expect(got, root).toHaveLength(files.length);
      expect(
        got.every((f) => f.cached !== null && f.cached?.sample === `s:${path.basename(f.path)}`),
        root,
      ).toBe(true);
    }
    // Overlapping roots: the inner directory is listed twice and matched both times.
    const twice = scan([t.root, t.path('sub')], cache);
    expect(twice.filter((f) => f.path.endsWith('/c.bin')).map((f) => f.cached?.sample)).toEqual(['s:c.bin', 's:c.bin']);
  });

  it('serves a name written twice (two runs at once) by the entry with the file’s identity', () => {
    const { cache } = newCache();
    const [a] = scan([t.root]).filter((f) => f.path.endsWith('/a.bin'));
    const plain = unhinted(a);
    const rows = cache.rowsUnder([t.root], 'xxh128')!; // no rows yet: the directory is new, both entries append
    expect(rows.rows).toHaveLength(0);
    cache.store([{ file: plain, sample: 'right' }], 'xxh128');
    cache.store([{ file: { ...plain, size: plain.size + 1 }, sample: 'wrong' }], 'xxh128');
    cache.flush();
    const again = scan([t.root], cache).find((f) => f.path === a.path)!;
    expect(again.cached).toEqual({ sample: 'right', full: undefined });
  });

  it('reads only rows at or below the roots and of the algorithm asked; says which rows served a file', () => {
    const { cache } = newCache();
    const files = scan([t.root]);
    const sibling = { ...files[0], path: `${t.root}-other/x.bin` };
    const gone = { ...files[0], path: path.join(t.root, 'deleted-dir', 'x.bin') };
    cache.store(
      [...files, sibling, gone].map((f) => ({ file: f, sample: 's' })),
      'xxh128',
    );
    cache.store([{ file: files[0], sample: 'sha' }], 'sha256');
    cache.flush();
    const rows = cache.rowsUnder([path.join(t.root, 'sub')], 'xxh128')!;
    expect(rows.keys.split('\0').sort()).toEqual([`${t.root}/sub/`, `${t.root}/sub/deeper/`]);
    const all = cache.rowsUnder([t.root], 'xxh128')!;
    const keys = all.keys.split('\0');
    expect(keys).not.toContain(`${t.root}-other/`);
    expect(keys).toContain(`${t.root}/deleted-dir/`);
    const result = scanFilesNatively([t.root], spec, { cacheRows: all })!;
    const served = new Map(keys.map((k, r) => [k, result.served![r]]));
    expect(served.get(`${t.root}/deleted-dir/`)).toBe(0);
    expect(served.get(`${t.root}/sub/deeper/`)).toBe(1);
    expect([...served.values()].filter((v) => v === 1)).toHaveLength(keys.length - 1);
  });

  it('after reading rows, appends to new directories and merges into known ones, keeping other entries', () => {
    const { db, cache } = newCache();
    const files = scan([t.root]);
    const known = files.filter((f) => f.path.includes('/sub/'));
    cache.store(
      [...known, { ...known[0], path: path.join(t.root, 'sub', 'was-here.bin') }].map((f) => ({ file: f, sample: 'old' })),
      'xxh128',
    );
    cache.flush();
    const rows = cache.rowsUnder([t.root], 'xxh128')!;
    const again = scanFilesNatively([t.root], spec, { cacheRows: rows })!.files;
    cache.store(
      again.filter((f) => f.cached === null).map((f) => ({ file: f, sample: 'new' })),
      'xxh128',
    );
    cache.flush();
    const rowOf = (dir: string): { n: number; entries: string } =>
      db.prepare('SELECT n, entries FROM dir_hashes WHERE algo = ? AND dir = ?').get('xxh128', dir) as { n: number; entries: string };
    // sub/ kept its entry for a file no longer there (only age removes it) and gained nothing twice.
    expect(rowOf(`${t.root}/sub/`).n).toBe(2);
    expect(rowOf(`${t.root}/big/`).n).toBe(150);
    const fresh = new SqliteHashCache(db);
    const hits = fresh.lookup(again.map(unhinted), 'xxh128');
    expect(hits.every((h) => h !== undefined)).toBe(true);
    expect(hits.filter((h) => h!.sample === 'old')).toHaveLength(known.length);
  });

  it('reads no rows beyond maxPrefetchBytes: lookups answer instead', () => {
    const { db } = newCache();
    const files = scan([t.root]);
    const small = new SqliteHashCache(db, { ...DEFAULT_HASH_CACHE_LIMITS, maxPrefetchBytes: 200 });
    small.store(
      files.map((f) => ({ file: f, sample: 's' })),
      'xxh128',
    );
    small.flush();
    expect(small.rowsUnder([t.root], 'xxh128')).toBeUndefined();
    expect(small.rowsUnder([t.path('sub/deeper')], 'xxh128')?.rows).toHaveLength(1);
    expect(small.lookup(files.map(unhinted), 'xxh128').every((h) => h?.sample === 's')).toBe(true);
  });

  it("refreshes a serving row's last_seen only when it is older than a day", () => {
    let now = 10 * DAY;
    const { db, cache } = newCache(() => now);
    const files = scan([t.root]);
    cache.store(
      files.map((f) => ({ file: f, sample: 's' })),
      'xxh128',
    );
    cache.flush();
    const seen = (dir: string): number =>
      db.prepare('SELECT last_seen FROM dir_hashes WHERE dir = ?').pluck().get(`${t.root}/${dir}`) as number;
    now = 10 * DAY + DAY / 2;
    let rows = cache.rowsUnder([t.root], 'xxh128')!;
    cache.markServed(rows, scanFilesNatively([t.root], spec, { cacheRows: rows })!.served!, 'xxh128');
    expect(seen('sub/')).toBe(10 * DAY);
    now = 12 * DAY;
    rows = cache.rowsUnder([t.path('sub')], 'xxh128')!;
    cache.markServed(rows, scanFilesNatively([t.path('sub')], spec, { cacheRows: rows })!.served!, 'xxh128');
    expect(seen('sub/')).toBe(12 * DAY);
    expect(seen('big/')).toBe(10 * DAY);
  });
});
