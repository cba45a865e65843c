import type { ClusterContext } from './cluster-context.js';

/** Rejects when `p` has not settled within `ms`: a probe must answer even when Redis does not. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Redis answers PING (without queueing one more command on a connection that is down). */
export async function checkRedis(ctx: ClusterContext, ms = 2000): Promise<void> {
  // Commands queue while the connection is down (it retries for ever): do not add to that queue.
  if (ctx.redis.status !== 'ready') throw new Error(`connection is ${ctx.redis.status}`);
  await withTimeout(ctx.redis.ping(), ms, 'PING');
}

export interface RedisPersistence {
  appendonly: 'yes' | 'no';
  maxmemoryPolicy: string;
  /** What these settings put at risk, in words; empty when they are safe. */
  warnings: string[];
}

/**
 * Reads the settings that decide whether queued jobs survive a Redis restart or memory pressure.
 * INFO answers even where CONFIG is renamed or forbidden (managed Redis, ACLs).
 */
export async function redisPersistence(ctx: ClusterContext, ms = 2000): Promise<RedisPersistence> {
  const info = await withTimeout(ctx.redis.info(), ms, 'INFO');
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const appendonly = field('aof_enabled') === '1' ? 'yes' : 'no';
  const maxmemoryPolicy = field('maxmemory_policy') ?? 'unknown';
  const warnings: string[] = [];
  if (appendonly !== 'yes') warnings.push('Redis appendonly is off: a Redis restart loses every queued job');
  if (maxmemoryPolicy !== 'noeviction')
    warnings.push(`Redis maxmemory-policy is ${maxmemoryPolicy}: under memory pressure Redis may evict queued jobs (use noeviction)`);
  return { appendonly, maxmemoryPolicy, warnings };
}
