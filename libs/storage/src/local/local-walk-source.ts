import type { FileEntry } from '@filer/core';
import type { DupeFile } from '@filer/engine';
import type { WalkSource } from '../walk-source.js';
import { localShardWalker } from './local-shard-walker.js';
import { nativeScan } from './native-scan.js';
import { startParallelWalk } from './parallel-walk.js';

/** Local roots as a walk source: the threaded walk, with the native scanner (`native`) or node:fs. */
export function localWalkSource(roots: readonly string[], native: boolean): WalkSource {
  return {
    kind: native ? 'local-native' : 'local-portable',
    roots,
    cachesHashes: true,
    notes: () => [],
    walk: (walk) => startParallelWalk({ ...walk, roots, native }),
    shardWalker: localShardWalker(native ? nativeScan : null),
    dupeFiles: () => {
      const files: DupeFile[] = [];
      return {
        files,
        add(entries: readonly FileEntry[]): void {
          // Copied into objects of one shape: entries from the walker threads and from this thread differ,
          // and every later pass over the files is faster monomorphic.
          for (const e of entries) {
            files.push({ path: e.path, size: e.size!, dev: e.dev!, ino: e.ino!, mtimeSec: e.mtimeSec!, mtimeNsec: e.mtimeNsec! });
          }
        },
      };
    },
    // Loaded on use: commands that do not hash never load the hashing threads' code.
    hasher: async (algorithm, follow) => {
      const { LocalFileHasher } = await import('./local-file-hasher.js');
      return new LocalFileHasher(algorithm, undefined, follow, native);
    },
    close: () => undefined,
  };
}
