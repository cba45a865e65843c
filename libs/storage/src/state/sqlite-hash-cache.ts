import type Database from 'better-sqlite3';
import type { CachedHashes, DupeFile, HashAlgorithm, HashCache } from '@filer/engine';
import { nativeScan, type NativeScan } from '../local/native-scan.js';
import { packFiles } from '../local/hash-protocol.js';
import { cacheKeyOfDirectory, type CacheRows } from './cache-key.js';
import { entryText, groupByDirectory, keyRange, matchRow, mergeRow } from './hash-cache-rows.js';

export interface HashCacheLimits {
  /** Entries (hashed files) kept at most; beyond it the least recently seen directories go first. */
  maxEntries: number;
  /** Directories not seen for this long are dropped, and so are entries hashed longer ago when their row is rewritten. */
  maxAgeMs: number;
  /** `rowsUnder` gives up (the run looks files up as it goes instead) beyond this many bytes of rows. */
  maxPrefetchBytes?: number;
}

/** About 1.5 million files' entries: a tree that size is held in memory as records anyway. */
const DEFAULT_MAX_PREFETCH_BYTES = 256 << 20;

export const DEFAULT_HASH_CACHE_LIMITS: HashCacheLimits = { maxEntries: 2_000_000, maxAgeMs: 90 * 86_400_000 };

/** A hit refreshes its directory's `last_seen` only when older than this: warm runs stay read-only. */
const TOUCH_AFTER_MS = 86_400_000;

/** WAL pages between automatic checkpoints of the cache's connection (SQLite's default is 1,000). */
const WAL_CHECKPOINT_PAGES = 10_000;

/**
 * Stored entries wait in memory until this many are pending or this long has passed since the last
 * write, then go in one transaction: a directory's files become final in several waves (small files,
 * unique samples, whole hashes), and one write per directory instead of one per wave is what keeps a
 * first run's cost of filling the cache low. `flush` (and lookups and eviction) write them at once.
 */
const FLUSH_ENTRIES = 50_000;
const FLUSH_AFTER_MS = 5_000;

interface StoredEntry {
  file: DupeFile;
  sample?: string;
  full?: string;
}

/**
 * Hashes remembered per file, stored one row per directory. An entry is served only while the file's
 * size, mtime (ns), inode and device are all what they were when it was hashed, so a changed file is
 * never given a stale hash.
 */
export class SqliteHashCache implements HashCache {
  private readonly selectRow: Database.Statement<[string, string]>;
  private readonly selectRowBytes: Database.Statement<[string, string]>;
  private readonly selectEntries: Database.Statement<[string, string]>;
  private readonly anyRow: Database.Statement<[string]>;
  private readonly upsert: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly append: Database.Statement;
  private stored = 0;
  private pending: { entries: readonly StoredEntry[]; algorithm: HashAlgorithm; at: number }[] = [];
  private pendingCount = 0;
  private lastFlush: number;
  /**
   * Directories (per algorithm) a lookup found without a row. A run stores each file at most once, so
   * its entries for such a directory are all new names: they are appended in SQL instead of merged.
   */
  private readonly unseenDirs = new Set<string>();
  /** Algorithms a lookup found no row at all for: every directory was unseen. */
  private readonly unseenAlgorithms = new Set<HashAlgorithm>();
  /** Rows read whole by `rowsUnder`: below those prefixes, a directory without a row is unseen. */
  private prefetched: { algorithm: HashAlgorithm; prefixes: string[]; keys: Set<string> } | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly limits: HashCacheLimits = DEFAULT_HASH_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
    /** Matches files against rows natively when the scanner is built; null keeps it in JS. */
    private readonly native: NativeScan | null = nativeScan,
  ) {
    // A run writes the cache in several transactions while it hashes; checkpointing every 4 MB of
    // WAL (the default) made each of them pay a fsync. This connection checkpoints every 40 MB,
    // and when it closes.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    this.selectRow = db.prepare('SELECT last_seen, entries FROM dir_hashes WHERE algo = ? AND dir = ?').raw(true);
    // The native lookup reads the row's UTF-8 bytes as SQLite holds them: no decoding into a JS string and back.
    this.selectRowBytes = db.prepare('SELECT last_seen, CAST(entries AS BLOB) FROM dir_hashes WHERE algo = ? AND dir = ?').raw(true);
    this.selectEntries = db.prepare('SELECT entries FROM dir_hashes WHERE algo = ? AND dir = ?').pluck(true);
    this.anyRow = db.prepare('SELECT EXISTS (SELECT 1 FROM dir_hashes WHERE algo = ?)').pluck(true);
    this.upsert = db.prepare(
      `INSERT INTO dir_hashes (algo, dir, entries, n, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (algo, dir) DO UPDATE SET entries = excluded.entries, n = excluded.n, last_seen = excluded.last_seen`,
    );
    this.touch = db.prepare('UPDATE dir_hashes SET last_seen = ? WHERE algo = ? AND dir = ?');
    this.lastFlush = now();
    this.append = db.prepare(
      `INSERT INTO dir_hashes (algo, dir, entries, n, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (algo, dir) DO UPDATE SET entries = entries || excluded.entries, n = n + excluded.n, last_seen = excluded.last_seen`,
    );
  }

  /**
   * Whether any directory at or below one of `roots` has entries: a run on a tree the cache has
   * never seen will hash everything, so its hashing threads may start early.
   */
  hasEntriesUnder(roots: readonly string[], algorithm: HashAlgorithm): boolean {
    this.flush();
    const any = this.db.prepare('SELECT EXISTS (SELECT 1 FROM dir_hashes WHERE algo = ? AND dir >= ? AND dir < ?)').pluck(true);
    return roots.some((r) => {
      return any.get(algorithm, ...keyRange(cacheKeyOfDirectory(r))) === 1;
    });
  }

  /**
   * Every row at or below `roots` in one range read, for a native scan to match files against as it
   * lists them (`scanTreeNatively`). Afterwards a directory below the roots without one of these
   * rows is known to be new: its entries are appended, as after a lookup that found none. Undefined
   * when the rows exceed `maxPrefetchBytes`: memory stays bounded, and lookups do the work instead.
   */
  rowsUnder(roots: readonly string[], algorithm: HashAlgorithm): CacheRows | undefined {
    const budget = this.limits.maxPrefetchBytes ?? DEFAULT_MAX_PREFETCH_BYTES;
    let bytes = 0;
    this.flush();
    const range = this.db
      .prepare('SELECT dir, last_seen, CAST(entries AS BLOB) FROM dir_hashes WHERE algo = ? AND dir >= ? AND dir < ?')
      .raw(true);
    const prefixes = [...new Set(roots.map(cacheKeyOfDirectory))];
    const keys: string[] = [];
    const rows: Buffer[] = [];
    const lastSeen: number[] = [];
    const seen = new Set<string>();
    for (const prefix of prefixes) {
      for (const [dir, at, row] of range.iterate(algorithm, ...keyRange(prefix)) as Iterable<[string, number, Buffer]>) {
        if (seen.has(dir)) continue; // overlapping roots
        bytes += row.length + dir.length;
        if (bytes > budget) return undefined;
        seen.add(dir);
        keys.push(dir);
        rows.push(row);
        lastSeen.push(at);
      }
    }
    this.prefetched = { algorithm, prefixes, keys: seen };
    return { keys: keys.join('\0'), rows, lastSeen };
  }

  /** After a scan matched files against `rows`: rows that served a file and were last seen long ago are seen now. */
  markServed(rows: CacheRows, served: Uint8Array, algorithm: HashAlgorithm): void {
    const now = this.now();
    const keys = rows.keys.split('\0');
    const stale = keys.filter((_, r) => served[r] === 1 && now - rows.lastSeen[r] > TOUCH_AFTER_MS);
    if (stale.length > 0) this.db.transaction(() => stale.forEach((d) => this.touch.run(now, algorithm, d)))();
  }

  /** Whether this run knows `dir` had no row: its new entries can be appended without a read. */
  private isUnseen(algorithm: HashAlgorithm, dir: string): boolean {
    if (this.unseenAlgorithms.has(algorithm) || this.unseenDirs.has(`${algorithm}:${dir}`)) return true;
    const p = this.prefetched;
    return p !== undefined && p.algorithm === algorithm && !p.keys.has(dir) && p.prefixes.some((prefix) => dir.startsWith(prefix));
  }

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    this.flush();
    const out = new Array<CachedHashes | undefined>(files.length);
    // A new cache (or none for this algorithm) answers at once: no keys built, no rows read.
    if (files.length === 0) return out;
    if (this.anyRow.get(algorithm) === 0) {
      this.unseenAlgorithms.add(algorithm);
      return out;
    }
    const now = this.now();
    const stale: string[] = [];
    if (this.native !== null) {
      this.lookupNatively(this.native, files, algorithm, out, now, stale);
    } else {
      this.lookupInJs(files, algorithm, out, now, stale);
    }
    if (stale.length > 0) this.db.transaction(() => stale.forEach((d) => this.touch.run(now, algorithm, d)))();
    return out;
  }

  /**
   * The native lookup: the directories are split off and every file matched against its directory's
   * row in two calls, so a warm run's ~50,000 lookups cost no string work per file in JS.
   */
  private lookupNatively(
    native: NativeScan,
    files: readonly DupeFile[],
    algorithm: HashAlgorithm,
    out: (CachedHashes | undefined)[],
    now: number,
    stale: string[],
  ): void {
    const { paths: joined, meta: ids } = packFiles(files);
    const [dirsJoined, dirOf] = native.splitDirs(joined, files.length);
    const dirs = dirsJoined.split('\0');
    const keys = dirs.map(cacheKeyOfDirectory);
    // Two spellings of one directory ('a', './a') share one row.
    const fetched = new Map<string, [number, Buffer] | undefined>();
    const rows = keys.map((key) => {
      if (!fetched.has(key)) {
        const found = this.selectRowBytes.get(algorithm, key) as [number, Buffer] | undefined;
        if (found === undefined) this.unseenDirs.add(`${algorithm}:${key}`);
        fetched.set(key, found);
      }
      return fetched.get(key)?.[1];
    });
    const [answers, hits] = native.matchEntries(joined, files.length, ids, dirOf, rows);
    const parts = answers.split('\0');
    for (let i = 0; i < files.length; i++) {
      const sample = parts[2 * i];
      if (sample !== '') out[i] = { sample, full: parts[2 * i + 1] || undefined };
    }
    const touched = new Set<string>();
    for (let k = 0; k < keys.length; k++) {
      const row = fetched.get(keys[k]);
      if (hits[k] === 1 && row !== undefined && now - row[0] > TOUCH_AFTER_MS && !touched.has(keys[k])) {
        touched.add(keys[k]);
        stale.push(keys[k]);
      }
    }
  }

  /** The same lookup without the native scanner. */
  private lookupInJs(
    files: readonly DupeFile[],
    algorithm: HashAlgorithm,
    out: (CachedHashes | undefined)[],
    now: number,
    stale: string[],
  ): void {
    for (const g of groupByDirectory(files.map((f) => f.path))) {
      const found = this.selectRow.get(algorithm, g.dir) as [number, string] | undefined;
      if (found === undefined) {
        this.unseenDirs.add(`${algorithm}:${g.dir}`);
        continue;
      }
      const [lastSeen, row] = found;
      const hit = matchRow(row, g, files, out);
      if (hit && now - lastSeen > TOUCH_AFTER_MS) stale.push(g.dir);
    }
  }

  store(entries: readonly StoredEntry[], algorithm: HashAlgorithm): void {
    const kept = entries.filter((e) => e.sample !== undefined);
    if (kept.length === 0) return;
    this.pending.push({ entries: kept, algorithm, at: this.now() });
    this.pendingCount += kept.length;
    this.stored += kept.length;
    if (this.pendingCount >= FLUSH_ENTRIES || this.now() - this.lastFlush >= FLUSH_AFTER_MS) this.flush();
  }

  /** Writes the pending entries, one transaction for all, one row write per directory and algorithm. */
  flush(): void {
    const batches = this.pending;
    this.pending = [];
    this.pendingCount = 0;
    this.lastFlush = this.now();
    if (batches.length === 0) return;
    // Per algorithm, the entries and beside them the time each was stored.
    const byAlgorithm = new Map<HashAlgorithm, { entries: StoredEntry[]; times: number[] }>();
    for (const b of batches) {
      let list = byAlgorithm.get(b.algorithm);
      if (list === undefined) byAlgorithm.set(b.algorithm, (list = { entries: [], times: [] }));
      for (const e of b.entries) {
        list.entries.push(e);
        list.times.push(b.at);
      }
    }
    this.db
      .transaction(() => {
        for (const [algorithm, { entries, times }] of byAlgorithm) this.write(entries, times, algorithm);
      })
      .immediate();
  }

  /**
   * Stores rows of entries made elsewhere (the native pipeline's: one directory's entries each, as
   * `entryText` writes them), in one transaction, merged as `store`'s are.
   */
  storeRows(rows: readonly { dir: string; entries: string; count: number }[], algorithm: HashAlgorithm): void {
    this.flush();
    if (rows.length === 0) return;
    const now = this.now();
    const cutoff = now - this.limits.maxAgeMs;
    this.db
      .transaction(() => {
        for (const r of rows) this.writeRow(algorithm, r.dir, r.entries, r.count, now, cutoff);
      })
      .immediate();
    for (const r of rows) this.stored += r.count;
  }

  /**
   * Merges `kept` into their directories' rows, inside the caller's transaction. `times[i]` is when
   * entry i was stored; a row's last_seen is its newest entry's.
   */
  private write(kept: readonly StoredEntry[], times: readonly number[], algorithm: HashAlgorithm): void {
    const cutoff = this.now() - this.limits.maxAgeMs;
    const groups = groupByDirectory(kept.map((e) => e.file.path)).sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
    for (const g of groups) {
      let seen = 0;
      let text = '';
      for (let k = 0; k < g.names.length; k++) {
        const i = g.indices[k];
        const e = kept[i];
        if (times[i] > seen) seen = times[i];
        text += entryText(g.names[k], e.file, times[i], e.sample!, e.full);
      }
      this.writeRow(algorithm, g.dir, text, g.names.length, seen, cutoff);
    }
  }

  /**
   * Writes `count` new entries (`entries`, each file's at most once) to directory `dir`'s row, last
   * seen at `seen`. The row is read, merged and written inside the caller's write transaction:
   * another process's entries for the same directory, committed in between, are never overwritten
   * by a stale copy. A directory that had no row when this run looked only gains new names: they
   * are appended without a read.
   */
  private writeRow(algorithm: HashAlgorithm, dir: string, entries: string, count: number, seen: number, cutoff: number): void {
    if (this.isUnseen(algorithm, dir)) {
      this.append.run(algorithm, dir, entries, count, seen);
      return;
    }
    const old = this.selectEntries.get(algorithm, dir) as string | undefined;
    const merged = mergeRow(old, entries, cutoff);
    this.upsert.run(algorithm, dir, merged.text, merged.count, seen);
  }

  /**
   * Keeps the cache bounded: directories unseen for `maxAgeMs` go, then the least recently seen
   * until at most `maxEntries` entries remain. Runs only after a run that added entries, so warm
   * runs write nothing. Returns the number of entries removed.
   */
  evict(): number {
    this.flush();
    if (this.stored === 0) return 0;
    const cutoff = this.now() - this.limits.maxAgeMs;
    return this.db
      .transaction(() => {
        let removed = (this.db.prepare('SELECT ifnull(sum(n), 0) FROM dir_hashes WHERE last_seen < ?').pluck().get(cutoff) as number) ?? 0;
        this.db.prepare('DELETE FROM dir_hashes WHERE last_seen < ?').run(cutoff);
        let total = this.db.prepare('SELECT ifnull(sum(n), 0) FROM dir_hashes').pluck().get() as number;
        if (total > this.limits.maxEntries) {
          const drop = this.db.prepare('DELETE FROM dir_hashes WHERE algo = ? AND dir = ?');
          const oldest = this.db.prepare('SELECT algo, dir, n FROM dir_hashes ORDER BY last_seen ASC').raw(true);
          const victims: [string, string][] = [];
          for (const [algo, dir, n] of oldest.iterate() as Iterable<[string, string, number]>) {
            if (total <= this.limits.maxEntries) break;
            victims.push([algo, dir]);
            total -= n;
            removed += n;
          }
          for (const [algo, dir] of victims) drop.run(algo, dir);
        }
        return removed;
      })
      .immediate();
  }
}
