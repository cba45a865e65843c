import type { DupeFile, HashAlgorithm } from '@filer/engine';
import { mountedVolumes } from '@filer/storage';
import type { ClusterContext } from './cluster-context.js';
import { hashKeyOf, type HashKey } from './hash-index-key.js';
import { PgHashIndex } from './pg/pg-hash-index.js';
import { ShardHashCache } from './shard-hash-cache.js';

/** A hash shard's view of the shared index: the cache the engine reads, and the save at shard end. */
export interface ShardHashIndex {
  cache: ShardHashCache;
  /** Writes the shard's new hashes in one batch; the number written. */
  save(): Promise<number>;
}

/**
 * Prefetches, in one query per volume or bucket, the index's rows for a hash shard's files, and
 * hands them to the engine as an in-memory HashCache (the engine's port is synchronous). Undefined
 * without a job database, or when none of the files can be keyed (no configured volume holds them).
 */
export async function openShardHashIndex(
  ctx: ClusterContext,
  files: readonly DupeFile[],
  algorithm: HashAlgorithm,
): Promise<ShardHashIndex | undefined> {
  if (ctx.db === undefined) return undefined;
  const volumes = mountedVolumes(ctx.config.volumes);
  // Keyed once per file: the engine asks again by object, and paths are long.
  const keys = new Map<DupeFile, HashKey | undefined>();
  for (const f of files) keys.set(f, hashKeyOf(f, volumes));
  const wanted = [...keys.values()].filter((k): k is HashKey => k !== undefined);
  if (wanted.length === 0) return undefined;
  const index = new PgHashIndex(ctx.db);
  const known = await index.load(wanted, algorithm);
  // The engine hands back the same objects it was given; a file it made itself is keyed afresh.
  const cache = new ShardHashCache(algorithm, known, (f) => (keys.has(f) ? keys.get(f) : hashKeyOf(f, volumes)));
  return {
    cache,
    async save() {
      const fresh = cache.newHashes();
      if (fresh.length > 0) await index.save(fresh, algorithm);
      return fresh.length;
    },
  };
}
