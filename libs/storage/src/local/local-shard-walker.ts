import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compileFilter } from '@filer/core';
import { DirWalker, seedTask } from '@filer/engine';
import type { OpenShardWalker } from '../shard-walker.js';
import { admitPath } from './allowed-roots.js';
import { ancestorIgnoreSources } from './ancestor-ignores.js';
import { LocalSource } from './local-source.js';
import type { NativeScan } from './native-scan.js';

/** The walk keeps the event loop this long at most, so a worker's lock keeps being renewed. */
const SLICE_MS = 50;

/**
 * A scan shard over local directories: the engine's DirWalker in slices of SLICE_MS, yielding
 * between them. Directories whose records are `filer find --format ndjson`'s go to the native
 * lister when the sink takes text (`WalkSink.records`), as in the CLI's walk.
 */
export function localShardWalker(native: NativeScan | null): OpenShardWalker {
  return (opts, sink, stats) => {
    const source = new LocalSource(native);
    const walker = new DirWalker(
      source,
      { filter: compileFilter(opts.spec), statAll: opts.statAll, identity: opts.identity, ndjson: source.ndjsonLister },
      sink,
      stats,
    );
    return {
      splitVaries: false,
      seed: (root) => {
        // Checked again where it is opened: a symlink swapped since the API admitted it cannot lead out.
        admitPath(root, opts.allowedRoots, 'roots');
        const task = seedTask(source, root, opts.spec.follow);
        if (opts.spec.ignoreFiles) task.ignores = ancestorIgnoreSources(root);
        return Promise.resolve(task);
      },
      async walk(stack, shouldStop, skip) {
        if (skip !== undefined && skip.size > 0) throw new Error('a local shard walk splits the same way every time: it skips nothing');
        while (stack.length > 0 && !shouldStop()) {
          const sliceEnd = performance.now() + SLICE_MS;
          walker.run(stack, () => shouldStop() || performance.now() > sliceEnd);
          await yieldToLoop();
        }
      },
    };
  };
}
