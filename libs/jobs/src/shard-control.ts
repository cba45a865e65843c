/** What a running shard may ask of the worker that runs it. */
export interface ShardControl {
  /** The worker is shutting down: a shard that can stop and run again elsewhere should hand itself back. */
  stopping(): boolean;
}

/**
 * Thrown by a shard that stopped early, with nothing written, because its worker is stopping:
 * the wrapper puts it back in the queue (no attempt counted, no stall) for another worker.
 */
export class ShardHandedBack extends Error {
  constructor(shard: string | undefined) {
    super(`shard ${shard} handed back: its worker is stopping`);
    this.name = 'ShardHandedBack';
  }
}
