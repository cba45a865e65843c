import type { Redis } from 'ioredis';
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

/** What Filer needs of Redis' own settings, read from Redis. */
export interface RedisSettings {
  appendonly: 'yes' | 'no' | 'unknown';
  /** `unknown` when neither INFO nor CONFIG GET would tell. */
  maxmemoryPolicy: string;
  /** Settings the cluster refuses to run with, each naming the setting: the API is not ready, workers do not start. */
  problems: string[];
  /** Settings that put queued jobs at risk but are allowed (appendonly off: a restart loses the queues, which the reconciler reports). */
  warnings: string[];
  /** Why maxmemory-policy could not be read (INFO and CONFIG both refused), when it could not: eviction cannot be ruled out. */
  unreadable?: string;
}

/** The only policy under which Redis never drops a queued shard: a full Redis refuses writes instead. */
export const SAFE_MAXMEMORY_POLICY = 'noeviction';

/** An error Redis answered with (a command refused by ACL or renamed), as opposed to no answer at all. */
const isReplyError = (e: unknown): boolean => (e as Error | undefined)?.name === 'ReplyError';

/**
 * Reads the settings that decide whether queued jobs survive a Redis restart or memory pressure.
 * INFO answers on most managed services (where CONFIG is renamed or forbidden); where INFO is
 * refused too, CONFIG GET is tried; where both are refused the policy is `unknown`. A Redis that
 * does not answer at all rejects (readiness reports the connection).
 */
export async function redisSettings(redis: Redis, ms = 2000): Promise<RedisSettings> {
  let appendonly: RedisSettings['appendonly'] = 'unknown';
  let policy: string | undefined;
  const refused: string[] = [];
  try {
    const info = await withTimeout(redis.info(), ms, 'INFO');
    const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const aof = field('aof_enabled');
    if (aof !== undefined) appendonly = aof === '1' ? 'yes' : 'no';
    policy = field('maxmemory_policy');
    if (policy === undefined) refused.push('INFO has no maxmemory_policy field');
  } catch (e) {
    if (!isReplyError(e)) throw e;
    refused.push(`INFO: ${(e as Error).message}`);
  }
  if (policy === undefined || appendonly === 'unknown') {
    try {
      const config = async (name: string): Promise<string | undefined> =>
        ((await withTimeout(redis.config('GET', name), ms, 'CONFIG GET')) as string[])[1];
      policy ??= await config('maxmemory-policy');
      if (appendonly === 'unknown') appendonly = (await config('appendonly')) === 'yes' ? 'yes' : 'no';
    } catch (e) {
      if (!isReplyError(e)) throw e;
      refused.push(`CONFIG GET: ${(e as Error).message}`);
    }
  }
  const out: RedisSettings = { appendonly, maxmemoryPolicy: policy ?? 'unknown', problems: [], warnings: [] };
  if (policy === undefined)
    out.unreadable = `cannot read Redis maxmemory-policy (${refused.join('; ')}): make sure it is ${SAFE_MAXMEMORY_POLICY}`;
  else if (policy !== SAFE_MAXMEMORY_POLICY)
    out.problems.push(
      `Redis maxmemory-policy is ${policy}: under memory pressure Redis would evict queued shards and their jobs would never finish; set maxmemory-policy ${SAFE_MAXMEMORY_POLICY}`,
    );
  if (appendonly === 'no')
    out.warnings.push(
      'Redis appendonly is off: a Redis restart loses every queued job (the reconciler then fails them with E_QUEUE_STATE_LOST)',
    );
  return out;
}
