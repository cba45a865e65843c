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

/** WAL pages between automatic checkpoints of the cache's connection (SQLite's default is 1,000). */
const WAL_CHECKPOINT_PAGES = 10_000;

/** Paths per lookup statement. */
const LOOKUP_CHUNK = 16384;

/**
 * Cache keys are absolute, normalised paths: a directory part (resolved once per directory, one
 * string shared by its files) and the base name, so that key is `dirs[i] + names[i]`.
 */
function splitKeys(paths: readonly string[]): { dirs: string[]; names: string[] } {
  const resolved = new Map<string, string>();
  const dirs = new Array<string>(paths.length);
  const names = new Array<string>(paths.length);
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '.' : p.slice(0, slash);
    let abs = resolved.get(dir);
    if (abs === undefined) {
      abs = path.resolve(dir === '' ? '/' : dir);
      abs = abs === '/' ? '/' : abs + '/';
      resolved.set(dir, abs);
    }
    dirs[i] = abs;
    names[i] = p.slice(slash + 1);
  }
  return { dirs, names };
}

function cacheKeys(paths: readonly string[]): string[] {
  const { dirs, names } = splitKeys(paths);
  return dirs.map((d, i) => d + names[i]);
}

/**
 * Indices grouped by directory, directories in key order. Within a directory (a few leaf pages of
 * the B-tree) the order hardly matters to SQLite, so only the distinct directories are sorted, not
 * whole paths with their long common prefixes.
 */
function directoryOrder(dirs: readonly string[]): number[] {
  const byDir = new Map<string, number[]>();
  for (let i = 0; i < dirs.length; i++) {
    const list = byDir.get(dirs[i]);
    if (list === undefined) byDir.set(dirs[i], [i]);
    else list.push(i);
  }
  const order: number[] = [];
  for (const d of [...byDir.keys()].sort()) for (const i of byDir.get(d)!) order.push(i);
  return order;
}

/**
 * What a lookup returns per path asked, in the order asked: `size,mtime_sec,mtime_nsec,ino,dev \0 last_seen
 * \0 sample \0 full`, or null when the path has no row. One string per file instead of a row of values,
 * and no path sent back, is what makes looking up every file of a large tree cheap. A missing full hash is ''.
 */
const LOOKUP_SQL = `SELECT h.size || ',' || h.mtime_sec || ',' || h.mtime_nsec || ',' || h.ino || ',' || h.dev || char(0) || h.last_seen
    || char(0) || h.sample || char(0) || ifnull(h.full, '')
  FROM json_each(?) AS j LEFT JOIN file_hashes AS h ON h.algo = ? AND h.path = j.value ORDER BY j.key`;

/**
 * Where the row's identity, starting at `at`, ends (just past its NUL) when it is exactly the file's
 * size, mtime (s, ns), inode and device; -1 otherwise. Digits are read in place, without building strings.
 * Anything that is not a plain decimal integer (a REAL, a sign) fails to match: a miss, never a stale hit.
 */
function identityEnd(row: string, at: number, f: DupeFile): number {
  for (let k = 0; k < 5; k++) {
    const want = k === 0 ? f.size : k === 1 ? f.mtimeSec : k === 2 ? f.mtimeNsec : k === 3 ? f.ino : f.dev;
    const start = at;
    let v = 0;
    let c = row.charCodeAt(at);
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      c = row.charCodeAt(++at);
    }
    if (at === start || v !== want || c !== (k < 4 ? 44 : 0)) return -1;
    at++;
  }
  return at;
}

/**
 * Hashes remembered per absolute path. A row is served only while the file's size, mtime (ns), inode and
 * device are all what they were when it was hashed, so a changed file is never given a stale hash.
 */
export class SqliteHashCache implements HashCache {
  private readonly select: Database.Statement<[string, string]>;
  private readonly anyRow: Database.Statement<[string]>;
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
    // A run writes the cache in several transactions while it hashes; checkpointing every 4 MB of
    // WAL (the default) made each of them pay a fsync. This connection checkpoints every 40 MB,
    // and when it closes.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    this.select = db.prepare(LOOKUP_SQL).pluck(true);
    this.anyRow = db.prepare('SELECT EXISTS (SELECT 1 FROM file_hashes WHERE algo = ?)').pluck(true);
    // One prepared statement run per row inside one transaction: cheaper than building and parsing JSON.
    this.upsert = db.prepare(
      `INSERT INTO file_hashes (algo, path, dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (algo, path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
         mtime_sec = excluded.mtime_sec, mtime_nsec = excluded.mtime_nsec, sample = excluded.sample,
         full = excluded.full, last_seen = excluded.last_seen`,
    );
    this.touch = db.prepare('UPDATE file_hashes SET last_seen = ? WHERE algo = ? AND path = ?');
  }

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    const out = new Array<CachedHashes | undefined>(files.length);
    // A new cache (or none for this algorithm) answers at once: no keys built, no paths looked up.
    if (files.length === 0 || this.anyRow.get(algorithm) === 0) return out;
    const now = this.now();
    const stale: string[] = [];
    const keys = cacheKeys(files.map((f) => f.path));
    for (let start = 0; start < keys.length; start += LOOKUP_CHUNK) {
      const rows = this.select.all(JSON.stringify(keys.slice(start, start + LOOKUP_CHUNK)), algorithm) as (string | null)[];
      for (let k = 0; k < rows.length; k++) {
        const row = rows[k];
        if (row === null) continue;
        const i = start + k;
        // The row's identity must equal the file's, field for field, or the hash is not served.
        const at = identityEnd(row, 0, files[i]);
        if (at < 0) continue;
        const sampleAt = row.indexOf('\0', at) + 1;
        const fullAt = row.indexOf('\0', sampleAt) + 1;
        if (now - Number(row.slice(at, sampleAt - 1)) > TOUCH_AFTER_MS) stale.push(keys[i]);
        out[i] = { sample: row.slice(sampleAt, fullAt - 1), full: fullAt === row.length ? undefined : row.slice(fullAt) };
      }
    }
    if (stale.length > 0) this.db.transaction(() => stale.forEach((p) => this.touch.run(now, algorithm, p)))();
    return out;
  }

  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void {
    const now = this.now();
    const kept = entries.filter((e) => e.sample !== undefined);
    const { dirs, names } = splitKeys(kept.map((e) => e.file.path));
    // Inserts in (nearly) key order keep SQLite's B-tree writes local.
    const order = directoryOrder(dirs);
    const upsert = this.upsert;
    this.db.transaction(() => {
      for (const i of order) {
        const { file: f, sample, full } = kept[i];
        upsert.run(algorithm, dirs[i] + names[i], f.dev, f.ino, f.size, f.mtimeSec, f.mtimeNsec, sample, full ?? null, now);
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
