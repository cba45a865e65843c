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
 * Hashes remembered per path. A row is served only while the file's size, mtime (ns), inode and
 * device are all what they were when it was hashed, so a changed file is never given a stale hash.
 */
export class SqliteHashCache implements HashCache {
  private readonly select: Database.Statement<[string, string], Row>;
  private readonly upsert: Database.Statement;
  private readonly touch: Database.Statement;
  private stored = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly limits: HashCacheLimits = DEFAULT_HASH_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.select = db.prepare(
      'SELECT dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen FROM file_hashes WHERE algo = ? AND path = ?',
    );
    this.upsert = db.prepare(
      `INSERT INTO file_hashes (algo, path, dev, ino, size, mtime_sec, mtime_nsec, sample, full, last_seen)
       VALUES (@algo, @path, @dev, @ino, @size, @mtimeSec, @mtimeNsec, @sample, @full, @now)
       ON CONFLICT (algo, path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
         mtime_sec = excluded.mtime_sec, mtime_nsec = excluded.mtime_nsec, sample = excluded.sample,
         full = excluded.full, last_seen = excluded.last_seen`,
    );
    this.touch = db.prepare('UPDATE file_hashes SET last_seen = ? WHERE algo = ? AND path = ?');
  }

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    const now = this.now();
    const stale: string[] = [];
    const out = files.map((f) => {
      const r = this.select.get(algorithm, f.path);
      if (!r || r.size !== f.size || r.mtime_sec !== f.mtimeSec || r.mtime_nsec !== f.mtimeNsec || r.ino !== f.ino || r.dev !== f.dev) {
        return undefined;
      }
      if (now - r.last_seen > TOUCH_AFTER_MS) stale.push(f.path);
      return { sample: r.sample, full: r.full ?? undefined };
    });
    if (stale.length > 0) this.db.transaction(() => stale.forEach((p) => this.touch.run(now, algorithm, p)))();
    return out;
  }

  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void {
    const now = this.now();
    this.db.transaction(() => {
      for (const { file: f, sample, full } of entries) {
        if (sample === undefined) continue;
        this.upsert.run({
          algo: algorithm,
          path: f.path,
          dev: f.dev,
          ino: f.ino,
          size: f.size,
          mtimeSec: f.mtimeSec,
          mtimeNsec: f.mtimeNsec,
          sample,
          full: full ?? null,
          now,
        });
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
