import type { CachedHashes, DupeFile, HashAlgorithm, HashCache } from '@filer/engine';
import { hashKeyText, type HashKey } from './hash-index-key.js';

/** A hash the shard computed, for the index: which file, which scope, which hash. */
export interface NewHash {
  key: HashKey;
  scope: 'sample' | 'full';
  hash: string;
}

/**
 * The engine's synchronous HashCache over what a hash shard prefetched from the shared index: a
 * lookup answers from memory, a store is kept until the shard saves its new hashes in one batch.
 * Files the index cannot key (`keyOf` undefined) are never served nor stored.
 */
export class ShardHashCache implements HashCache {
  private readonly fresh = new Map<string, NewHash>();

  constructor(
    private readonly algorithm: HashAlgorithm,
    private readonly known: ReadonlyMap<string, CachedHashes>,
    private readonly keyOf: (file: DupeFile) => HashKey | undefined,
  ) {}

  lookup(files: readonly DupeFile[], algorithm: HashAlgorithm): (CachedHashes | undefined)[] {
    if (algorithm !== this.algorithm) return files.map(() => undefined);
    return files.map((f) => {
      const key = this.keyOf(f);
      return key === undefined ? undefined : this.known.get(hashKeyText(key));
    });
  }

  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[], algorithm: HashAlgorithm): void {
    if (algorithm !== this.algorithm) return;
    for (const e of entries) {
      const key = this.keyOf(e.file);
      if (key === undefined) continue;
      const text = hashKeyText(key);
      // Keyed by identity and scope: two names of one inode (hard links) are one row.
      if (e.sample !== undefined) this.fresh.set(`${text}\0s`, { key, scope: 'sample', hash: e.sample });
      if (e.full !== undefined) this.fresh.set(`${text}\0f`, { key, scope: 'full', hash: e.full });
    }
  }

  /** The hashes stored since the prefetch, one per identity and scope. */
  newHashes(): NewHash[] {
    return [...this.fresh.values()];
  }
}
