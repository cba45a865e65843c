/** How long a shard may keep the event loop to itself: well under half the shortest lock (1 s). */
const SLICE_MS = 50;

/**
 * The same file operations, but one call every SLICE_MS or so hands its result back through
 * `setImmediate`, so the worker's event loop turns. The engine awaits each operation, yet an
 * await on a plain value never lets a timer run: without this an apply shard of local moves (all
 * synchronous) held the loop until its last file, BullMQ could not renew its lock, and a shard
 * that outlasted the lock duration was taken for stalled and run a second time at once.
 */
export function yieldingOps<T extends object>(ops: T, sliceMs = SLICE_MS): T {
  let next = performance.now() + sliceMs;
  return new Proxy(ops, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const out: unknown = value.apply(target, args);
        // A promise gives the loop its turn on its own.
        if (out instanceof Promise || performance.now() < next) return out;
        next = performance.now() + sliceMs;
        return new Promise((resolve) => setImmediate(() => resolve(out)));
      };
    },
  });
}

/**
 * A pace for long synchronous loops a worker runs (a plan of a million requests): undefined while
 * the current slice lasts, then a promise that resolves on the next turn of the event loop.
 */
export function timeSlices(sliceMs = SLICE_MS): () => Promise<void> | undefined {
  let next = performance.now() + sliceMs;
  return () => {
    if (performance.now() < next) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        next = performance.now() + sliceMs;
        resolve();
      }),
    );
  };
}
