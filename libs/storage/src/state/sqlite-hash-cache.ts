import * as path from 'node:path';
import type Database from 'better-sqlite3';
import type { CachedHashes, DupeFile, HashAlgorithm, HashCache } from '@filer/engine';

export interface HashCacheLimits {
  /** Entries (hashed files) kept at most; beyond it the least recently seen directories go first. */
  maxEntries: number;
  /** Directories not seen for this long are dropped, and so are entries hashed longer ago when their row is rewritten. */
  maxAgeMs: number;
}

export const DEFAULT_HASH_CACHE_LIMITS: HashCacheLimits = { maxEntries: 2_000_000, maxAgeMs: 90 * 86_400_000 };

/** A hit refreshes its directory's `last_seen` only when older than this: warm runs stay read-only. */
const TOUCH_AFTER_MS = 86_400_000;

/** WAL pages between automatic checkpoints of the cache's connection (SQLite's default is 1,000). */
const WAL_CHECKPOINT_PAGES = 10_000;

/** NUL ends every field of an entry: no file name and no hex digest contains one. */
const NUL = '\0';

/**
 * A directory's entries, each five NUL-terminated fields:
 *
 *     name \0 size,mtime_sec,mtime_nsec,ino,dev \0 stored_at \0 sample \0 full \0
 *
 * (`full` empty when only the sample is known). One row per directory, read in one statement and
 * matched against the walk in place, is what makes a warm run's lookup of every file of a large tree
 * cheap: a few thousand rows instead of one B-tree search by long absolute path per file.
 */
function entryText(name: string, f: DupeFile, storedAt: number, sample: string, full: string | undefined): string {
  return `${name}\0${f.size},${f.mtimeSec},${f.mtimeNsec},${f.ino},${f.dev}\0${storedAt}\0${sample}\0${full ?? ''}\0`;
}

/** Where field `k` (0–5; 5 is the next entry) of the entry starting at `at` starts. */
function fieldAt(row: string, at: number, k: number): number {
  for (let j = 0; j < k; j++) at = row.indexOf(NUL, at) + 1;
  return at;
}

/** Where the entry starting at `at` ends (just past its last NUL). */
const entryEnd = (row: string, at: number): number => fieldAt(row, at, 5);

/**
 * Where the entry's identity field, starting at `at`, ends (just past its NUL) when it is exactly the
 * file's size, mtime (s, ns), inode and device; -1 otherwise. Digits are read in place, without building
 * strings. Anything that is not a plain decimal integer (a fraction, a sign) fails to match: a miss,
 * never a stale hit.
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

/** Cache keys: the absolute directory (ending in '/', resolved once per directory) and the base name. */
interface DirGroup {
  dir: string;
  /** Positions in the caller's list, in its order. */
  indices: number[];
  names: string[];
}

function groupByDirectory(paths: readonly string[]): DirGroup[] {
  const byKey = new Map<string, DirGroup>();
  const resolved = new Map<string, DirGroup>();
  let lastDir: string | undefined;
  let last: DirGroup | undefined;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '.' : p.slice(0, slash);
    // Walk order keeps a directory's files together: most files reuse the previous group.
    let g = dir === lastDir ? last : resolved.get(dir);
    if (g === undefined) {
      const abs = path.resolve(dir === '' ? '/' : dir);
      const key = abs === '/' ? '/' : abs + '/';
      g = byKey.get(key);
      if (g === undefined) byKey.set(key, (g = { dir: key, indices: [], names: [] }));
      resolved.set(dir, g);
    }
    lastDir = dir;
    last = g;
    g.indices.push(i);
    g.names.push(p.slice(slash + 1));
  }
  return [...byKey.values()];
}

/** Start of each entry by name (a later entry of the same name wins, as it was written later). */
function indexEntries(row: string): Map<string, number> {
  const at = new Map<string, number>();
  for (let i = 0; i < row.length; i = entryEnd(row, i)) at.set(row.slice(i, row.indexOf(NUL, i)), i);
  return at;
}

/**
 * Hashes remembered per file, stored one row per directory. An entry is served only while the file's
 * size, mtime (ns), inode and device are all what they were when it was hashed, so a changed file is
 * never given a stale hash.
 */
export class SqliteHashCache implements HashCache {
  private readonly selectRow: Database.Statement<[string, string]>;
  private readonly selectEntries: Database.Statement<[string, string]>;
  private readonly anyRow: Database.Statement<[string]>;
  private readonly upsert: Database.Statement;
  private readonly touch: Database.Statement;
  private stored = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly limits: HashCacheLimits = DEFAULT_HASH_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    // A run writes the cache in several transactions while it hashes; checkpointing every 4 MB of
    // WAL (the default) made each of them pay a fsync. This connection checkpoints every 40 MB,
    // and when it closes.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    this.selectRow = db.prepare('SELECT last_seen, entries FROM dir_hashes WHERE algo = ? AND dir = ?').raw(true);
    this.selectEntries = db.prepare('SELECT entries FROM dir_hashes WHERE algo = ? AND dir = ?').pluck(true);
    this.anyRow = db.prepare('SELECT EXISTS (SELECT 1 FROM dir_hashes WHERE algo = ?)').pluck(true);
    this.upsert = db.prepare(
      `INSERT INTO dir_hashes (algo, dir, entries, n, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (algo, dir) DO UPDATE SET entries = excluded.entries, n = excluded.n, last_seen = excluded.last_seen`,
    );
    this.touch = db.prepare('UPDATE dir_hashes SET last_seen = ? WHERE algo = ? AND dir = ?');
  }

  /**
   * Whether any directory at or below one of `roots` has entries: a run on a tree the cache has
   * never seen will hash everything, so its hashing threads may start early.
   */
  hasEntriesUnder(roots: readonly string[], algorithm: HashAlgorithm): boolean {
    const any = this.db.prepare('SELECT EXISTS (SELECT 1 FROM dir_hashes WHERE algo = ? AND dir >= ? AND dir < ?)').pluck(true);
    return roots.some((r) => {
      const abs = path.resolve(r);
      const prefix = abs === '/' ? '/' : abs + '/';
      // Every key starting with `prefix` sorts below the prefix with its final '/' (0x2f) raised to '0' (0x30).
      return any.get(algorithm, prefix, prefix.slice(0, -1) + '0') === 1;
    });
  }

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    const out = new Array<CachedHashes | undefined>(files.length);
    // A new cache (or none for this algorithm) answers at once: no keys built, no rows read.
    if (files.length === 0 || this.anyRow.get(algorithm) === 0) return out;
    const now = this.now();
    const stale: string[] = [];
    for (const g of groupByDirectory(files.map((f) => f.path))) {
      const found = this.selectRow.get(algorithm, g.dir) as [number, string] | undefined;
      if (found === undefined) continue;
      const [lastSeen, row] = found;
      let hit = false;
      let byName: Map<string, number> | undefined;
      // Entries were written in walk order, so the next file's entry is usually the next one.
      let cursor = 0;
      for (let k = 0; k < g.names.length; k++) {
        const name = g.names[k];
        let at: number | undefined = cursor;
        if (!(at < row.length && row.charCodeAt(at + name.length) === 0 && row.startsWith(name, at))) {
          byName ??= indexEntries(row);
          at = byName.get(name);
          if (at === undefined) continue;
        }
        const i = g.indices[k];
        const idEnd = identityEnd(row, at + name.length + 1, files[i]);
        if (idEnd < 0) {
          cursor = entryEnd(row, at);
          continue;
        }
        const sampleAt = row.indexOf(NUL, idEnd) + 1;
        const fullAt = row.indexOf(NUL, sampleAt) + 1;
        const end = row.indexOf(NUL, fullAt);
        out[i] = { sample: row.slice(sampleAt, fullAt - 1), full: end === fullAt ? undefined : row.slice(fullAt, end) };
        cursor = end + 1;
        hit = true;
      }
      if (hit && now - lastSeen > TOUCH_AFTER_MS) stale.push(g.dir);
    }
    if (stale.length > 0) this.db.transaction(() => stale.forEach((d) => this.touch.run(now, algorithm, d)))();
    return out;
  }

  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void {
    const now = this.now();
    const kept = entries.filter((e) => e.sample !== undefined);
    if (kept.length === 0) return;
    const groups = groupByDirectory(kept.map((e) => e.file.path)).sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
    const cutoff = now - this.limits.maxAgeMs;
    // Read, merge and write each row in one write transaction: another process's entries for the
    // same directory, committed in between, are never overwritten by a stale copy.
    this.db
      .transaction(() => {
        for (const g of groups) {
          const fresh = new Map<string, string>();
          for (let k = 0; k < g.names.length; k++) {
            const { file, sample, full } = kept[g.indices[k]];
            fresh.set(g.names[k], entryText(g.names[k], file, now, sample!, full));
          }
          let text = '';
          let n = 0;
          const old = this.selectEntries.get(algorithm, g.dir) as string | undefined;
          if (old !== undefined) {
            for (let at = 0; at < old.length;) {
              const end = entryEnd(old, at);
              const storedAt = fieldAt(old, at, 2);
              // Kept unless this store replaces it or it was hashed longer ago than the age limit.
              if (Number(old.slice(storedAt, old.indexOf(NUL, storedAt))) >= cutoff && !fresh.has(old.slice(at, old.indexOf(NUL, at)))) {
                text += old.slice(at, end);
                n++;
              }
              at = end;
            }
          }
          for (const e of fresh.values()) text += e;
          n += fresh.size;
          this.upsert.run(algorithm, g.dir, text, n, now);
        }
      })
      .immediate();
    this.stored += kept.length;
  }

  /**
   * Keeps the cache bounded: directories unseen for `maxAgeMs` go, then the least recently seen
   * until at most `maxEntries` entries remain. Runs only after a run that added entries, so warm
   * runs write nothing. Returns the number of entries removed.
   */
  evict(): number {
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
