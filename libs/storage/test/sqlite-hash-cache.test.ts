import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { DupeFile, HashAlgorithm } from '@filer/engine';
import { runProcess } from '@filer/testing';
import { openStateDb, SqliteHashCache, type HashCacheLimits } from '@filer/storage/state';
import { nativeScan } from '../src/local/native-scan.js';

const dirs: string[] = [];
const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh state database file (in a directory that does not exist yet). */
function dbFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cache-test-'));
  dirs.push(d);
  return path.join(d, 'nested', 'state.db');
}
function openDb(file: string): Database.Database {
  const db = openStateDb(file);
  open.push(db);
  return db;
}

const F: DupeFile = { path: '/data/a.bin', size: 12_345, dev: 66_306, ino: 2 ** 53 - 1, mtimeSec: 1_700_000_123, mtimeNsec: 987_654_321 };
const at = (p: string, extra: Partial<DupeFile> = {}): DupeFile => ({ ...F, path: p, ...extra });
/** `store`, then `flush`: the entries are in the database when it returns. */
const put = (cache: SqliteHashCache, entries: Parameters<SqliteHashCache['store']>[0], algorithm: HashAlgorithm): void => {
  cache.store(entries, algorithm);
  cache.flush();
};

/** Every cached path (directory + entry name), sorted. Entries are five NUL-terminated fields. */
const rowPaths = (db: Database.Database): string[] =>
  (db.prepare('SELECT dir, entries FROM dir_hashes').all() as { dir: string; entries: string }[])
    .flatMap(({ dir, entries }) => {
      const fields = entries.split('\0');
      return fields.filter((_, k) => k % 5 === 0 && k < fields.length - 1).map((name) => dir + name);
    })
    .sort();
const lastSeen = (db: Database.Database, p: string): number =>
  (db.prepare('SELECT last_seen FROM dir_hashes WHERE dir = ?').get(p.slice(0, p.lastIndexOf('/') + 1)) as { last_seen: number }).last_seen;

// Lookups match natively when the scanner is built, in JS otherwise: both must answer alike.
describe.each([
  ['native matching', nativeScan],
  ['matching in JS', null],
] as const)('SqliteHashCache lookups (%s)', (_how, native) => {
  const newCache = (db: Database.Database, limits?: HashCacheLimits, now?: () => number): SqliteHashCache =>
    new SqliteHashCache(db, limits, now, native);

  it('returns stored hashes while size, mtime (s and ns), inode and device all match', () => {
    const cache = newCache(openDb(dbFile()));
    put(cache, [{ file: F, sample: 's1', full: 'f1' }], 'xxh128');
    expect(cache.lookup([F], 'xxh128')).toEqual([{ sample: 's1', full: 'f1' }]);
    expect(cache.lookup([{ ...F }], 'xxh128')).toEqual([{ sample: 's1', full: 'f1' }]);
  });

  it.each([
    ['size', { size: F.size + 1 }],
    ['mtimeSec', { mtimeSec: F.mtimeSec + 1 }],
    ['mtimeNsec', { mtimeNsec: F.mtimeNsec - 1 }],
    ['ino', { ino: F.ino - 1 }],
    ['dev', { dev: F.dev + 1 }],
    ['path', { path: '/data/b.bin' }],
  ] as [string, Partial<DupeFile>][])('misses when %s differs', (_field, change) => {
    const cache = newCache(openDb(dbFile()));
    put(cache, [{ file: F, sample: 's1', full: 'f1' }], 'xxh128');
    expect(cache.lookup([{ ...F, ...change }, F], 'xxh128')).toEqual([undefined, { sample: 's1', full: 'f1' }]);
  });

  it('answers every file with a miss from a new database, and hits once rows exist', () => {
    const cache = newCache(openDb(dbFile()));
    const files = [F, at('/data/other')];
    expect(cache.lookup(files, 'xxh128')).toEqual([undefined, undefined]);
    expect(cache.lookup([], 'xxh128')).toEqual([]);
    put(cache, [{ file: F, sample: 's' }], 'xxh128');
    expect(cache.lookup(files, 'xxh128')).toEqual([{ sample: 's', full: undefined }, undefined]);
  });

  it('checkpoints its WAL every 10,000 pages rather than every 1,000', () => {
    const db = openDb(dbFile());
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    newCache(db);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
  });

  it('keeps algorithms apart', () => {
    const cache = newCache(openDb(dbFile()));
    put(cache, [{ file: F, sample: 'x-sample' }], 'xxh128');
    expect(cache.lookup([F], 'sha256')).toEqual([undefined]);
    put(cache, [{ file: F, sample: 'sha-sample', full: 'sha-full' }], 'sha256');
    expect(cache.lookup([F], 'xxh128')).toEqual([{ sample: 'x-sample', full: undefined }]);
    expect(cache.lookup([F], 'sha256')).toEqual([{ sample: 'sha-sample', full: 'sha-full' }]);
  });

  it('stores many rows, skips entries without a sample, and replaces a path on a new store', () => {
    const db = openDb(dbFile());
    const cache = newCache(db);
    const files = Array.from({ length: 50 }, (_, i) => at(`/d/f${String(i).padStart(2, '0')}`, { ino: 1000 + i, size: i }));
    put(
      cache,
      files.map((file, i) => ({ file, sample: `s${i}`, full: i % 2 === 0 ? `f${i}` : undefined })),
      'sha256',
    );
    put(cache, [{ file: at('/d/nosample') }], 'sha256');
    expect(rowPaths(db)).toEqual(files.map((f) => f.path));
    expect(cache.lookup(files, 'sha256')).toEqual(files.map((_, i) => ({ sample: `s${i}`, full: i % 2 === 0 ? `f${i}` : undefined })));

    const changed = { ...files[3], mtimeNsec: 1 };
    put(cache, [{ file: changed, sample: 'new', full: 'newfull' }], 'sha256');
    expect(cache.lookup([files[3], changed], 'sha256')).toEqual([undefined, { sample: 'new', full: 'newfull' }]);
    expect(rowPaths(db)).toHaveLength(50);
  });

  it('compares each identity field as a whole number: digits never run across fields', () => {
    const db = openDb(dbFile());
    const cache = newCache(db);
    const a = at('/d/a', { size: 12, mtimeSec: 34, mtimeNsec: 0, ino: 1, dev: 10 });
    put(cache, [{ file: a, sample: 'sa' }], 'xxh128');
    expect(cache.lookup([{ ...a, size: 123, mtimeSec: 4 }, { ...a, size: 1, mtimeSec: 234 }, { ...a, dev: 1 }, a], 'xxh128')).toEqual([
      undefined,
      undefined,
      undefined,
      { sample: 'sa', full: undefined },
    ]);
    // An identity written any other way than this cache writes the file's (here a fraction) is a miss, never a hit.
    const entries = db.prepare("SELECT entries FROM dir_hashes WHERE dir = '/d/'").pluck().get() as string;
    db.prepare("UPDATE dir_hashes SET entries = ? WHERE dir = '/d/'").run(entries.replace('\u000012,34,', '\u000012.5,34,'));
    expect(cache.lookup([a], 'xxh128')).toEqual([undefined]);
  });

  it('looks up many paths in chunks, in the order asked, with misses and paths asked twice', () => {
    const db = openDb(dbFile());
    const cache = newCache(db);
    const files = Array.from({ length: 20_000 }, (_, i) => at(`/many/${i}`, { ino: i + 1 }));
    put(
      cache,
      files.filter((_, i) => i % 3 !== 0).map((file) => ({ file, sample: `s${file.ino}` })),
      'xxh128',
    );
    const asked = [...files, files[5], files[6]];
    const got = cache.lookup(asked, 'xxh128');
    expect(got).toHaveLength(asked.length);
    asked.forEach((f, i) => expect(got[i]).toEqual((f.ino - 1) % 3 === 0 ? undefined : { sample: `s${f.ino}`, full: undefined }));
  });

  it("keeps a directory's other entries when one of its files is stored again", () => {
    const db = openDb(dbFile());
    const cache = newCache(db);
    const files = ['/d/a', '/d/ab', '/d/b,c', '/d/new\nline', '/d/é ü', '/e/a'].map((p, i) => at(p, { ino: 10 + i }));
    put(
      cache,
      files.map((file, i) => ({ file, sample: `s${i}`, full: `f${i}` })),
      'xxh128',
    );
    const changed = { ...files[1], size: 99 };
    put(cache, [{ file: changed, sample: 'S', full: 'F' }], 'xxh128');
    expect(rowPaths(db)).toEqual(files.map((f) => f.path).sort());
    // Asked in another order than stored, with a name that is a prefix of another.
    const asked = [files[4], changed, files[0], files[1], files[3], files[2], files[5], at('/d/missing')];
    expect(cache.lookup(asked, 'xxh128')).toEqual([
      { sample: 's4', full: 'f4' },
      { sample: 'S', full: 'F' },
      { sample: 's0', full: 'f0' },
      undefined,
      { sample: 's3', full: 'f3' },
      { sample: 's2', full: 'f2' },
      { sample: 's5', full: 'f5' },
      undefined,
    ]);
  });

  it('resolves relative paths to the same entries as absolute ones', () => {
    const cache = newCache(openDb(dbFile()));
    const abs = at(path.join(process.cwd(), 'sub', 'x.bin'));
    put(cache, [{ file: abs, sample: 'rel' }], 'xxh128');
    expect(cache.lookup([at('sub/x.bin'), at('./sub/../sub/x.bin'), abs], 'xxh128')).toEqual([
      { sample: 'rel', full: undefined },
      { sample: 'rel', full: undefined },
      { sample: 'rel', full: undefined },
    ]);
  });

  it("drops a directory's entries hashed longer ago than maxAgeMs when its row is written again", () => {
    const db = openDb(dbFile());
    let now = 1_000;
    const cache = newCache(db, { maxEntries: 100, maxAgeMs: 10_000 }, () => now);
    put(cache, [{ file: at('/d/old'), sample: 'o' }], 'xxh128');
    now = 6_000;
    put(cache, [{ file: at('/d/mid'), sample: 'm' }], 'xxh128');
    now = 11_500; // cut-off 1,500: /d/old is too old, /d/mid is not
    put(cache, [{ file: at('/d/new'), sample: 'n' }], 'xxh128');
    expect(rowPaths(db)).toEqual(['/d/mid', '/d/new']);
  });

  it('says whether it holds entries at or below a root, never for a sibling that shares a prefix', () => {
    const cache = newCache(openDb(dbFile()));
    put(cache, [{ file: at('/data/photos/2024/a.jpg'), sample: 's' }], 'xxh128');
    expect(cache.hasEntriesUnder(['/data/photos'], 'xxh128')).toBe(true);
    expect(cache.hasEntriesUnder(['/data/photos/2024/'], 'xxh128')).toBe(true);
    expect(cache.hasEntriesUnder(['/'], 'xxh128')).toBe(true);
    expect(cache.hasEntriesUnder(['/data/photos/2024/a.jpg/x'], 'xxh128')).toBe(false);
    expect(cache.hasEntriesUnder(['/data/photo', '/data/photos-old', '/data/photos0'], 'xxh128')).toBe(false);
    expect(cache.hasEntriesUnder(['/data/photos'], 'sha256')).toBe(false);
  });

  it('appends to directories a lookup found empty; a name written twice is served by either entry and merged to its last', () => {
    const db = openDb(dbFile());
    const cache = newCache(db);
    const a = at('/new/a');
    const b = at('/new/b', { ino: 7 });
    expect(cache.lookup([a, b], 'xxh128')).toEqual([undefined, undefined]);
    put(cache, [{ file: b, sample: 'sb' }], 'xxh128');
    put(cache, [{ file: a, sample: 'sa' }], 'xxh128');
    // Another run of the same moment hashed a changed /new/a: appended too, so the name appears twice.
    const changed = { ...a, size: 1 };
    put(cache, [{ file: changed, sample: 'sa2' }], 'xxh128');
    expect(db.prepare("SELECT n FROM dir_hashes WHERE dir = '/new/'").pluck().get()).toBe(3);
    expect(cache.lookup([a, b, changed], 'xxh128')).toEqual([
      { sample: 'sa', full: undefined },
      { sample: 'sb', full: undefined },
      { sample: 'sa2', full: undefined },
    ]);
    // A fresh instance merges: the row is rewritten with one entry per name.
    const later = newCache(db);
    put(later, [{ file: b, sample: 'sb', full: 'fb' }], 'xxh128');
    expect(rowPaths(db)).toEqual(['/new/a', '/new/b']);
    expect(later.lookup([changed, b], 'xxh128')).toEqual([
      { sample: 'sa2', full: undefined },
      { sample: 'sb', full: 'fb' },
    ]);
  });

  it('holds stored entries in memory until flushed (or looked up), then writes each directory once', () => {
    const file = dbFile();
    const db = openDb(file);
    let now = 1_000;
    const cache = newCache(db, undefined, () => now);
    const other = newCache(openDb(file));
    cache.store([{ file: at('/w/a'), sample: 'a' }], 'xxh128');
    now = 2_000;
    cache.store([{ file: at('/w/b', { ino: 2 }), sample: 'b' }], 'xxh128');
    expect(rowPaths(db)).toEqual([]);
    expect(other.lookup([at('/w/a')], 'xxh128')).toEqual([undefined]);
    cache.flush();
    expect(rowPaths(db)).toEqual(['/w/a', '/w/b']);
    expect(db.prepare("SELECT last_seen FROM dir_hashes WHERE dir = '/w/'").pluck().get()).toBe(2_000);
    expect(other.lookup([at('/w/a'), at('/w/b', { ino: 2 })], 'xxh128')).toEqual([
      { sample: 'a', full: undefined },
      { sample: 'b', full: undefined },
    ]);
    // A lookup on the storing connection writes what is pending first.
    cache.store([{ file: at('/w/c', { ino: 3 }), sample: 'c' }], 'xxh128');
    expect(cache.lookup([at('/w/c', { ino: 3 })], 'xxh128')).toEqual([{ sample: 'c', full: undefined }]);
    expect(rowPaths(db)).toEqual(['/w/a', '/w/b', '/w/c']);
  });

  it('keeps the time each entry was stored, not the time it was written', () => {
    const db = openDb(dbFile());
    let now = 1_000;
    const cache = newCache(db, { maxEntries: 100, maxAgeMs: 10_000 }, () => now);
    cache.store([{ file: at('/k/early'), sample: 'e' }], 'xxh128');
    now = 4_000;
    cache.store([{ file: at('/k/late', { ino: 2 }), sample: 'l' }], 'xxh128');
    now = 4_500;
    cache.flush();
    expect(db.prepare("SELECT last_seen FROM dir_hashes WHERE dir = '/k/'").pluck().get()).toBe(4_000);
    now = 11_200; // cut-off 1,200: the entry stored at 1,000 is too old, the one at 4,000 is not
    put(cache, [{ file: at('/k/new', { ino: 3 }), sample: 'n' }], 'xxh128');
    expect(rowPaths(db)).toEqual(['/k/late', '/k/new']);
  });

  it('writes by itself once 50,000 entries are pending or 5 s have passed since its last write', () => {
    const db = openDb(dbFile());
    let now = 0;
    const cache = newCache(db, undefined, () => now);
    const many = Array.from({ length: 50_000 }, (_, i) => ({ file: at(`/m/${i}`, { ino: i }), sample: 's' }));
    cache.store(many.slice(0, 49_999), 'xxh128');
    expect(db.prepare('SELECT count(*) FROM dir_hashes').pluck().get()).toBe(0);
    cache.store(many.slice(49_999), 'xxh128');
    expect(db.prepare('SELECT sum(n) FROM dir_hashes').pluck().get()).toBe(50_000);
    now = 4_999;
    cache.store([{ file: at('/t/x'), sample: 'x' }], 'xxh128');
    expect(rowPaths(db)).not.toContain('/t/x');
    now = 5_000;
    cache.store([{ file: at('/t/y'), sample: 'y' }], 'xxh128');
    expect(rowPaths(db)).toEqual(expect.arrayContaining(['/t/x', '/t/y']));
  });

  it('persists across connections (reopening the file)', () => {
    const file = dbFile();
    const db = openDb(file);
    put(newCache(db), [{ file: F, sample: 'kept', full: 'kept-full' }], 'xxh128');
    db.close();
    expect(newCache(openDb(file)).lookup([F], 'xxh128')).toEqual([{ sample: 'kept', full: 'kept-full' }]);
  });
});

describe('SqliteHashCache eviction', () => {
  const DAY = 86_400_000;

  it('does nothing after a run that stored nothing, even with expired rows', () => {
    const db = openDb(dbFile());
    let now = 1_000;
    put(
      new SqliteHashCache(db, { maxEntries: 1, maxAgeMs: 10 }, () => now),
      [at('/a/f'), at('/b/f'), at('/c/f')].map((file) => ({ file, sample: 's' })),
      'xxh128',
    );
    now = 1_000_000;
    const warm = new SqliteHashCache(db, { maxEntries: 1, maxAgeMs: 10 }, () => now);
    expect(warm.lookup([at('/a/f')], 'xxh128')).toEqual([{ sample: 's', full: undefined }]);
    expect(warm.evict()).toBe(0);
    expect(rowPaths(db)).toEqual(['/a/f', '/b/f', '/c/f']);
  });

  it('drops directories not seen for maxAgeMs (one exactly at the cut-off stays)', () => {
    const db = openDb(dbFile());
    let now = 0;
    const cache = new SqliteHashCache(db, { maxEntries: 100, maxAgeMs: 10_000 }, () => now);
    for (const [t, p] of [
      [1_000, '/t1000/f'],
      [2_000, '/t2000/f'],
      [5_000, '/t5000/f'],
    ] as const) {
      now = t;
      put(
        cache,
        [
          { file: at(p), sample: p },
          { file: at(p + '2'), sample: p },
        ],
        'xxh128',
      );
    }
    now = 12_000; // cut-off 2000: only /t1000 is older
    put(cache, [{ file: at('/t12000/f'), sample: 'x' }], 'xxh128');
    expect(cache.evict()).toBe(2); // the two entries of /t1000/
    expect(rowPaths(db)).toEqual(['/t12000/f', '/t2000/f', '/t2000/f2', '/t5000/f', '/t5000/f2']);
    now = 15_001; // cut-off 5001
    expect(cache.evict()).toBe(4);
    expect(rowPaths(db)).toEqual(['/t12000/f']);
  });

  it('keeps at most maxEntries entries, dropping the least recently seen directories', () => {
    const db = openDb(dbFile());
    let now = 0;
    const cache = new SqliteHashCache(db, { maxEntries: 3, maxAgeMs: 365 * DAY }, () => now);
    for (const i of [5, 1, 4, 2, 3]) {
      now = i * 1000;
      put(cache, [{ file: at(`/r${i}/f`), sample: `s${i}` }], 'sha256');
    }
    expect(cache.evict()).toBe(2);
    expect(rowPaths(db)).toEqual(['/r3/f', '/r4/f', '/r5/f']);
    expect(cache.evict()).toBe(0);
  });

  it("a hit refreshes its directory's last_seen only when older than a day, so it survives age eviction", () => {
    const db = openDb(dbFile());
    let now = 10 * DAY;
    const cache = new SqliteHashCache(db, { maxEntries: 100, maxAgeMs: 3 * DAY }, () => now);
    put(
      cache,
      [
        { file: at('/used/f'), sample: 'u' },
        { file: at('/unused/f'), sample: 'n' },
      ],
      'xxh128',
    );
    now = 10 * DAY + DAY / 2;
    expect(cache.lookup([at('/used/f')], 'xxh128')).toHaveLength(1);
    expect(lastSeen(db, '/used/f')).toBe(10 * DAY); // recent: a warm run writes nothing
    now = 12 * DAY;
    cache.lookup([at('/used/f')], 'xxh128');
    expect(lastSeen(db, '/used/f')).toBe(12 * DAY);
    expect(lastSeen(db, '/unused/f')).toBe(10 * DAY);
    cache.lookup([at('/used/f', { size: 1 })], 'xxh128'); // a miss touches nothing
    now = 13 * DAY + 1; // cut-off 10 days + 1 ms
    put(cache, [{ file: at('/new/f'), sample: 'x' }], 'xxh128');
    expect(cache.evict()).toBe(1);
    expect(rowPaths(db)).toEqual(['/new/f', '/used/f']);
  });
});

describe('two connections to one state database (WAL)', () => {
  it('opens in WAL mode and migrates once', () => {
    const file = dbFile();
    const a = openDb(file);
    const b = openDb(file);
    expect(a.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(b.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(b.pragma('user_version', { simple: true })).toBe(8);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('one connection sees what the other committed, never what it has not', () => {
    const file = dbFile();
    const dbA = openDb(file);
    const dbB = openDb(file);
    const a = new SqliteHashCache(dbA);
    const b = new SqliteHashCache(dbB);
    put(a, [{ file: at('/one'), sample: 'one' }], 'xxh128');
    expect(b.lookup([at('/one')], 'xxh128')).toEqual([{ sample: 'one', full: undefined }]);

    // A writer holding its transaction open does not block a reader.
    dbA.exec('BEGIN IMMEDIATE');
    put(a, [{ file: at('/two'), sample: 'two' }], 'xxh128');
    expect(b.lookup([at('/one'), at('/two')], 'xxh128')).toEqual([{ sample: 'one', full: undefined }, undefined]);
    dbA.exec('COMMIT');
    expect(b.lookup([at('/two')], 'xxh128')).toEqual([{ sample: 'two', full: undefined }]);
  });

  it('a reader holding a snapshot does not block a writer (commits without waiting)', () => {
    const file = dbFile();
    const dbA = openDb(file);
    const dbB = openDb(file);
    const a = new SqliteHashCache(dbA);
    const b = new SqliteHashCache(dbB);
    put(a, [{ file: at('/one'), sample: 'one' }], 'sha256');
    dbB.exec('BEGIN');
    expect(b.lookup([at('/one')], 'sha256')).toEqual([{ sample: 'one', full: undefined }]); // snapshot taken
    const started = Date.now();
    put(a, [{ file: at('/three'), sample: 'three' }], 'sha256');
    expect(Date.now() - started).toBeLessThan(2000); // busy_timeout is 10 s: no wait at all in WAL
    expect(b.lookup([at('/three')], 'sha256')).toEqual([undefined]); // still the old snapshot
    dbB.exec('COMMIT');
    expect(b.lookup([at('/three')], 'sha256')).toEqual([{ sample: 'three', full: undefined }]);
  });

  it('interleaved writes from both connections all land', () => {
    const file = dbFile();
    const dbA = openDb(file);
    const dbB = openDb(file);
    const a = new SqliteHashCache(dbA);
    const b = new SqliteHashCache(dbB);
    const files: DupeFile[] = [];
    for (let i = 0; i < 100; i++) {
      const fa = at(`/a/${i}`, { ino: i });
      const fb = at(`/b/${i}`, { ino: 1000 + i });
      put(a, [{ file: fa, sample: `a${i}`, full: `A${i}` }], 'xxh128');
      put(b, [{ file: fb, sample: `b${i}` }], 'xxh128');
      files.push(fa, fb);
    }
    const expected = files.map((f) =>
      f.path.startsWith('/a/') ? { sample: `a${f.ino}`, full: `A${f.ino}` } : { sample: `b${f.ino - 1000}`, full: undefined },
    );
    expect(a.lookup(files, 'xxh128')).toEqual(expected);
    expect(b.lookup(files, 'xxh128')).toEqual(expected);
    expect(rowPaths(dbA)).toHaveLength(200);
  });

  it('two connections storing files of the same directory keep both', () => {
    const file = dbFile();
    const a = new SqliteHashCache(openDb(file));
    const b = new SqliteHashCache(openDb(file));
    for (let i = 0; i < 20; i++) {
      put(a, [{ file: at(`/same/a${i}`), sample: `a${i}` }], 'xxh128');
      put(b, [{ file: at(`/same/b${i}`), sample: `b${i}` }], 'xxh128');
    }
    const asked = Array.from({ length: 20 }, (_, i) => [at(`/same/a${i}`), at(`/same/b${i}`)]).flat();
    expect(a.lookup(asked, 'xxh128').map((h) => h?.sample)).toEqual(asked.map((f) => f.path.slice(6)));
  });

  it('several processes opening a new database at the same moment all succeed (migration is race-free)', async () => {
    // Each child loads the built module, waits for a shared start time, then opens the same fresh file.
    const mod = new URL('../dist/state/state-db.js', import.meta.url).href;
    const script = `
      const [mod, file, goAt] = process.argv.slice(1);
      const { openStateDb } = await import(mod);
      while (Date.now() < Number(goAt)) {}
      try { openStateDb(file).close(); console.log('ok'); } catch (e) { console.log('ERR ' + e.message); }
    `;
    for (let round = 0; round < 3; round++) {
      const file = dbFile();
      const goAt = String(Date.now() + 1200);
      const runs = await Promise.all(
        Array.from({ length: 6 }, () => runProcess(process.execPath, ['--input-type=module', '-e', script, mod, file, goAt])),
      );
      expect(runs.map((r) => r.stdout.trim())).toEqual(Array(6).fill('ok'));
      const db = openDb(file);
      expect(db.pragma('user_version', { simple: true })).toBe(8); // hash cache, jobs, the hash cache by directory, journal format 2, path errors, created dirs, path error count, dedupe steps
    }
  });
});
