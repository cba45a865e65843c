import type { CachedHashes, HashAlgorithm } from '@filer/engine';
import { hashKeyText, type FileHashKey, type HashKey, type ObjectHashKey } from '../hash-index-key.js';
import type { NewHash } from '../shard-hash-cache.js';
import type { JobDatabase } from './job-database.js';

/** Keys per lookup or insert: one parameter per column either way (arrays), a shard (2,000 files by default) is one batch. */
const BATCH = 5_000;

interface FileRow {
  ino: number;
  size: number;
  mtime_s: number;
  mtime_ns: number;
  scope: 'sample' | 'full';
  hash: string;
}

interface ObjectRow {
  key: string;
  etag: string;
  size: number;
  last_modified_ms: number;
  scope: 'sample' | 'full';
  hash: string;
}

/**
 * The cluster's shared hash index (`file_hashes`, `object_hashes`): what any worker on any host
 * hashed, by the file's identity. Lookups select by volume (or bucket) and inode (or key) with
 * `= ANY`, so old versions of a file come back too and are matched exactly here; a save replaces
 * every other version of the files it writes, so a file has one identity's rows at most.
 */
export class PgHashIndex {
  constructor(private readonly db: JobDatabase) {}

  /** The hashes the index holds for exactly these identities, by `hashKeyText`. */
  async load(keys: readonly HashKey[], algorithm: HashAlgorithm): Promise<Map<string, CachedHashes>> {
    const found = new Map<string, CachedHashes>();
    const put = (text: string, scope: 'sample' | 'full', hash: string): void => {
      let h = found.get(text);
      if (h === undefined) found.set(text, (h = {}));
      h[scope] = hash;
    };
    const wanted = new Set(keys.map(hashKeyText));
    for (const [volume, files] of groupBy(keys.filter(isFile), (k) => k.volume)) {
      for (const b of batches(files)) {
        const inos = [...new Set(b.map((k) => k.ino))];
        const { rows } = await this.db.query<FileRow>(
          'SELECT ino, size, mtime_s, mtime_ns, scope, hash FROM file_hashes WHERE volume = $1 AND algo = $2 AND ino = ANY($3::bigint[])',
          [volume, algorithm, inos],
        );
        for (const r of rows) {
          const text = hashKeyText({ kind: 'file', volume, ino: r.ino, size: r.size, mtimeSec: r.mtime_s, mtimeNsec: r.mtime_ns });
          if (wanted.has(text)) put(text, r.scope, r.hash);
        }
      }
    }
    for (const [bucket, objects] of groupBy(keys.filter(isObject), (k) => k.bucket)) {
      for (const b of batches(objects)) {
        const names = [...new Set(b.map((k) => k.key))];
        const { rows } = await this.db.query<ObjectRow>(
          'SELECT key, etag, size, last_modified_ms, scope, hash FROM object_hashes WHERE bucket = $1 AND algo = $2 AND key = ANY($3::text[])',
          [bucket, algorithm, names],
        );
        for (const r of rows) {
          const text = hashKeyText({ kind: 'object', bucket, key: r.key, etag: r.etag, size: r.size, mtimeMs: r.last_modified_ms });
          if (wanted.has(text)) put(text, r.scope, r.hash);
        }
      }
    }
    return found;
  }

  /** Writes new hashes in batches of arrays (`unnest`), dropping other versions of the same files. */
  async save(hashes: readonly NewHash[], algorithm: HashAlgorithm): Promise<void> {
    // One order for every writer: two shards saving overlapping files lock rows in the same order.
    const sorted = [...hashes].sort((a, b) => cmp(hashKeyText(a.key) + a.scope, hashKeyText(b.key) + b.scope));
    const files = sorted.filter((h): h is NewHash & { key: FileHashKey } => h.key.kind === 'file');
    const objects = sorted.filter((h): h is NewHash & { key: ObjectHashKey } => h.key.kind === 'object');
    for (const b of batches(files)) {
      await this.db.query(
        `WITH k AS (
           SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::integer[], $7::text[], $8::text[])
             AS k(volume, ino, size, mtime_s, mtime_ns, scope, hash)
         ), gone AS (
           DELETE FROM file_hashes f USING k
           WHERE f.volume = k.volume AND f.ino = k.ino AND f.algo = $1
             AND (f.size, f.mtime_s, f.mtime_ns) <> (k.size, k.mtime_s, k.mtime_ns)
         )
         INSERT INTO file_hashes (volume, ino, algo, scope, size, mtime_s, mtime_ns, hash)
         SELECT volume, ino, $1, scope, size, mtime_s, mtime_ns, hash FROM k
         ON CONFLICT (volume, ino, algo, scope, size, mtime_s, mtime_ns) DO UPDATE SET hash = EXCLUDED.hash, hashed_at = now()`,
        [
          algorithm,
          b.map((h) => h.key.volume),
          b.map((h) => h.key.ino),
          b.map((h) => h.key.size),
          b.map((h) => h.key.mtimeSec),
          b.map((h) => h.key.mtimeNsec),
          b.map((h) => h.scope),
          b.map((h) => h.hash),
        ],
      );
    }
    for (const b of batches(objects)) {
      await this.db.query(
        `WITH k AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
             AS k(bucket, key, etag, size, last_modified_ms, scope, hash)
         ), gone AS (
           DELETE FROM object_hashes o USING k
           WHERE o.bucket = k.bucket AND o.key = k.key AND o.algo = $1
             AND (o.etag, o.size, o.last_modified_ms) <> (k.etag, k.size, k.last_modified_ms)
         )
         INSERT INTO object_hashes (bucket, key, algo, scope, etag, size, last_modified_ms, hash)
         SELECT bucket, key, $1, scope, etag, size, last_modified_ms, hash FROM k
         ON CONFLICT (bucket, key, algo, scope, etag, size, last_modified_ms) DO UPDATE SET hash = EXCLUDED.hash, hashed_at = now()`,
        [
          algorithm,
          b.map((h) => h.key.bucket),
          b.map((h) => h.key.key),
          b.map((h) => h.key.etag),
          b.map((h) => h.key.size),
          b.map((h) => h.key.mtimeMs),
          b.map((h) => h.scope),
          b.map((h) => h.hash),
        ],
      );
    }
  }
}

const isFile = (k: HashKey): k is FileHashKey => k.kind === 'file';
const isObject = (k: HashKey): k is ObjectHashKey => k.kind === 'object';
function* batches<T>(items: readonly T[]): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += BATCH) yield items.slice(i, i + BATCH);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function groupBy<T>(items: readonly T[], by: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = by(t);
    let list = out.get(k);
    if (list === undefined) out.set(k, (list = []));
    list.push(t);
  }
  return out;
}
