import * as path from 'node:path';
import type Database from 'better-sqlite3';
import type { CachedHashes, DupeFile, HashAlgorithm, HashCache } from '@filer/engine';

export interface HashCacheLimits {
  /** Rows kept at most; beyond it the least recently seen go first. */
  maxEntries: number;
  /** Rows not seen for this long are dropped. */
  maxAgeMs: number;
}

export const DEFAULT_HASH_CACHE_LIMITS: HashCacheLimits = { maxEntries: 2_000_000, maxAgeMs: 90 * 86_400_000 };

/** A hit refreshes its row's `last_seen` only when older than this: warm runs stay read-only. */
const TOUCH_AFTER_MS = 86_400_000;

/** Paths per lookup statement. */
const LOOKUP_CHUNK = 4096;
/** A range scan pays off from this many paths, while it reads at most this many rows per path asked. */
const RANGE_SCAN_MIN = 256;
const RANGE_SCAN_SLACK = 4;

/** Cache keys are absolute, normalised paths; resolving each directory once keeps that cheap. */
function cacheKeys(paths: readonly string[]): string[] {
  const dirs = new Map<string, string>();
  return paths.map((p) => {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '.' : p.slice(0, slash);
    let abs = dirs.get(dir);
    if (abs === undefined) {
      abs = path.resolve(dir === '' ? '/' : dir);
      dirs.set(dir, abs);
    }
    return (abs === '/' ? '' : abs) + '/' + p.slice(slash + 1);
  });
}

/** The deepest directory holding every path ('' for the file system root). */
export function commonDirectory(keys: readonly string[]): string {
  let lo = keys[0];
  let hi = keys[0];
  for (const k of keys) {
    if (k < lo) lo = k;
    if (k > hi) hi = k;
  }
  let n = 0;
  while (n < lo.length && n < hi.length && lo[n] === hi[n]) n++;
  // lo and hi agree on n characters; the directory is what ends at the last '/' of that prefix,
  // unless the prefix itself ends exactly at a separator in both.
  const prefix = lo.slice(0, n);
  const atBoundary = (n === lo.length || lo[n] === '/') && (n === hi.length || hi[n] === '/');
  const dir = atBoundary && lo !== hi ? prefix : prefix.slice(0, prefix.lastIndexOf('/'));
  return dir === '/' ? '' : dir;
}

type RawRow = [string, number, number, number, number, number, string, string | null, number];

interface Row {
  dev: number;
  ino: number;
  size: number;
  mtime_sec: number;
  mtime_nsec: number;
  sample: string;
  full: string | null;
  last_seen: number;
}

/**
 * Hashes remembered per absolute path. A row is served only while the file's size, mtime (ns), inode and
 * device are all what they were when it was hashed, so a changed file is never given a stale hash.
 */
export class SqliteHashCache implements HashCache {
  private readonly selectMany: Database.Statement<[string, string]>;
  private readonly selectRange: Database.Statement<[string, string, string, number]>;
  private readonly upsert: Database.Statement;
  private readonly touch: Database.Statement;
  private stored = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly limits: HashCacheLimits = DEFAULT_HASH_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    // One statement per chunk of paths: SQLite walks the primary key for each path of a JSON list,
    // far cheaper than a prepared lookup per path.
    this.selectMany = db
      .prepare(
        'SELECT path, dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen FROM file_hashes WHERE algo = ? AND path IN (SELECT value FROM json_each(?))',
      )
      .raw(true);
    this.selectRange = db
      .prepare(
        'SELECT path, dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen FROM file_hashes WHERE algo = ? AND path >= ? AND path < ? LIMIT ?',
      )
      .raw(true);
    // Rows go in as one JSON array per chunk: SQLite unpacks and inserts them without a JS call per row.
    this.upsert = db.prepare(
      `INSERT INTO file_hashes (algo, path, dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen)
       SELECT @algo, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6, r.value ->> 7, @now
       FROM json_each(@rows) AS r WHERE true
       ON CONFLICT (algo, path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
         mtime_sec = excluded.mtime_sec, mtime_nsec = excluded.mtime_nsec, sample = excluded.sample,
         full = excluded.full, last_seen = excluded.last_seen`,
    );
    this.touch = db.prepare('UPDATE file_hashes SET last_seen = ? WHERE algo = ? AND path = ?');
  }

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    const now = this.now();
    const stale: string[] = [];
    const keys = cacheKeys(files.map((f) => f.path));
    const rows = this.fetchRows(keys, algorithm);
    const out = files.map((f, i) => {
      const r = rows.get(keys[i]);
      if (!r || r.size !== f.size || r.mtime_sec !== f.mtimeSec || r.mtime_nsec !== f.mtimeNsec || r.ino !== f.ino || r.dev !== f.dev) {
        return undefined;
      }
      if (now - r.last_seen > TOUCH_AFTER_MS) stale.push(keys[i]);
      return { sample: r.sample, full: r.full ?? undefined };
    });
    if (stale.length > 0) this.db.transaction(() => stale.forEach((p) => this.touch.run(now, algorithm, p)))();
    return out;
  }

  /**
   * Rows for these absolute paths. Files of one run usually share a directory, so one range scan
   * over that directory's rows is tried first; if the cache holds far more rows there than asked
   * for, it falls back to primary-key lookups.
   */
  private fetchRows(keys: readonly string[], algorithm: HashAlgorithm): Map<string, Row> {
    const rows = new Map<string, Row>();
    if (keys.length === 0) return rows;
    const add = (raw: RawRow): void => {
      const [p, dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen] = raw;
      rows.set(p, { dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen });
    };
    if (keys.length >= RANGE_SCAN_MIN) {
      const wanted = new Set(keys);
      const dir = commonDirectory(keys);
      const limit = keys.length * RANGE_SCAN_SLACK;
      const found = this.selectRange.all(algorithm, dir + '/', dir + '0', limit + 1) as RawRow[];
      if (found.length <= limit) {
        for (const raw of found) if (wanted.has(raw[0])) add(raw);
        return rows;
      }
    }
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      for (const raw of this.selectMany.all(algorithm, JSON.stringify(keys.slice(i, i + LOOKUP_CHUNK))) as RawRow[]) add(raw);
    }
    return rows;
  }

  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void {
    const now = this.now();
    const kept = entries.filter((e) => e.sample !== undefined);
    const keys = cacheKeys(kept.map((e) => e.file.path));
    const rows = kept.map(({ file: f, sample, full }, i) => [keys[i], f.dev, f.ino, f.size, f.mtimeSec, f.mtimeNsec, sample, full ?? null]);
    // Key order keeps the B-tree inserts local.
    rows.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
    this.db.transaction(() => {
      for (let i = 0; i < rows.length; i += LOOKUP_CHUNK) {
        this.upsert.run({ algo: algorithm, rows: JSON.stringify(rows.slice(i, i + LOOKUP_CHUNK)), now });
      }
    })();
    this.stored += entries.length;
  }

  /**
   * Keeps the cache bounded: rows unseen for `maxAgeMs` go, then the least recently seen beyond
   * `maxEntries`. Runs only after a run that added rows, so warm runs write nothing.
   */
  evict(): number {
    if (this.stored === 0) return 0;
    const cutoff = this.now() - this.limits.maxAgeMs;
    let removed = this.db.prepare('DELETE FROM file_hashes WHERE last_seen < ?').run(cutoff).changes;
    const count = (this.db.prepare('SELECT count(*) AS n FROM file_hashes').get() as { n: number }).n;
    if (count > this.limits.maxEntries) {
      removed += this.db
        .prepare('DELETE FROM file_hashes WHERE (algo, path) IN (SELECT algo, path FROM file_hashes ORDER BY last_seen ASC LIMIT ?)')
        .run(count - this.limits.maxEntries).changes;
    }
    return removed;
  }
}
