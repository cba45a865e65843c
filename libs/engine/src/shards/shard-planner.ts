import type { DirTask } from '../walk/dir-task.js';

// How work splits into shards — the one place that says it, for the cluster's queues and the CLI's
// threads alike. Pure: what is split comes in, the pieces go out; who runs them is the caller's.

/** A spent scan shard hands its unvisited directories to at most this many new shards. */
export const SCAN_FANOUT = 4;

/**
 * A tree walk: the unvisited directories of a scan shard that used its budget, as at most
 * `fanout` groups, one child shard each. Round-robin: the bottom of a depth-first stack holds the
 * big shallow subtrees, the top the small deep ones, so each group gets some of both.
 */
export function splitStack(stack: readonly DirTask[], fanout = SCAN_FANOUT): DirTask[][] {
  const k = Math.min(fanout, stack.length);
  const groups: DirTask[][] = Array.from({ length: k }, () => []);
  stack.forEach((t, i) => groups[i % k].push(t));
  return groups;
}

/**
 * A tree walk between threads: a busy walker gives an idle one the bottom half of its stack (the
 * shallowest directories: the biggest subtrees), taken out of `stack`. Returns them in stack order.
 */
export function donateHalf<T>(stack: T[]): T[] {
  return stack.splice(0, stack.length >> 1);
}

/**
 * A plan: apply shards of about `size` actions. Actions that depend on each other (one's target
 * is another's source: chains) stay in one shard, in plan order; independent ones spread out.
 */
export function partitionActions<T extends { source: string; target: string }>(actions: readonly T[], size: number): T[][] {
  const parent = actions.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const bySource = new Map(actions.map((a, i) => [a.source, i]));
  actions.forEach((a, i) => {
    const j = bySource.get(a.target);
    if (j !== undefined) parent[find(i)] = find(j);
  });
  const components = new Map<number, T[]>();
  actions.forEach((a, i) => {
    const root = find(i);
    let list = components.get(root);
    if (list === undefined) components.set(root, (list = []));
    list.push(a);
  });
  return cutWhole(components.values(), size);
}

/**
 * A size partition (dupes' hash phase): every file of one size lands in the same shard, so each
 * shard's groups are complete; largest sizes first; a shard is closed once it holds `size` files.
 */
export function partitionBySize<T>(bySize: ReadonlyMap<number, readonly T[]>, size: number): T[][] {
  const sizes = [...bySize.keys()].sort((a, b) => b - a);
  return cutWhole(
    sizes.map((s) => bySize.get(s)!),
    size,
  );
}

/** A listing (a manifest's hash phase): consecutive pieces of `size` items, streamed. */
export async function* chunksOf<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Files for the hashing threads: batches cut at `maxFiles` files or `maxBytes` to read, whichever
 * comes first; each batch says where it starts in `files`, so results go back in order.
 */
export function hashBatches<T>(
  files: readonly T[],
  bytesOf: (f: T) => number,
  maxFiles: number,
  maxBytes: number,
): { start: number; files: T[] }[] {
  const batches: { start: number; files: T[] }[] = [];
  let current: T[] = [];
  let bytes = 0;
  let start = 0;
  files.forEach((f, i) => {
    if (current.length === 0) start = i;
    current.push(f);
    bytes += bytesOf(f);
    if (current.length >= maxFiles || bytes >= maxBytes) {
      batches.push({ start, files: current });
      current = [];
      bytes = 0;
    }
  });
  if (current.length > 0) batches.push({ start, files: current });
  return batches;
}

/** Groups that must stay whole, concatenated into shards closed once they reach `size` items. */
function cutWhole<T>(groups: Iterable<readonly T[]>, size: number): T[][] {
  const shards: T[][] = [];
  let current: T[] = [];
  for (const group of groups) {
    for (const item of group) current.push(item); // not push(...group): a size can hold 100,000s of files
    if (current.length >= size) {
      shards.push(current);
      current = [];
    }
  }
  if (current.length > 0) shards.push(current);
  return shards;
}
