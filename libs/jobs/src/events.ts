import type { Redis } from 'ioredis';
import { keys } from './redis-keys.js';

/** What the event stream carries: a nudge to re-read progress, or a state change. */
export interface JobEvent {
  id: string;
  type: 'progress' | 'state';
  state?: string;
  phase?: string;
}

export async function publishEvent(redis: Redis, event: JobEvent): Promise<void> {
  await redis.publish(keys.events, JSON.stringify(event));
}

/**
 * One subscription per process, fanned out to listeners by job id (an SSE connection each):
 * a thousand watchers cost one Redis connection.
 */
export class EventHub {
  private readonly listeners = new Map<string, Set<(e: JobEvent) => void>>();
  private started: Promise<unknown> | undefined;

  constructor(private readonly subscriber: Redis) {}

  async listen(id: string, fn: (e: JobEvent) => void): Promise<() => void> {
    this.started ??= this.start();
    await this.started;
    let set = this.listeners.get(id);
    if (set === undefined) this.listeners.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  private async start(): Promise<unknown> {
    this.subscriber.on('message', (_channel: string, message: string) => {
      let e: JobEvent;
      try {
        e = JSON.parse(message) as JobEvent;
      } catch {
        return;
      }
      for (const fn of this.listeners.get(e.id) ?? []) fn(e);
    });
    return this.subscriber.subscribe(keys.events);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber.disconnect();
  }
}
