import { checkRedis, redisSettings, type ClusterContext } from '@filer/jobs';
import type { Logger, Metrics } from '@filer/observability';

/** Readiness: Redis answers, and the results (a directory or an S3 bucket), where both apps write their parts, can be written. */
export async function readiness(ctx: ClusterContext, closing: () => boolean): Promise<Record<string, string>> {
  const checks: Record<string, string> = { worker: closing() ? 'shutting down' : 'ok', redis: 'ok', results: 'ok' };
  try {
    await checkRedis(ctx);
  } catch (e) {
    checks.redis = `error: ${(e as Error).message}`;
  }
  try {
    await ctx.results.check();
  } catch (e) {
    checks.results = `error: ${(e as Error).message}`;
  }
  return checks;
}

/** Redis runs with a setting the workers refuse (an evicting maxmemory-policy): the process exits with code 2. */
export class UnsafeRedisError extends Error {
  constructor(readonly problems: string[]) {
    super(`refusing to start: ${problems.join('; ')}`);
    this.name = 'UnsafeRedisError';
  }
}

/**
 * Before any shard is taken: waits for Redis, then refuses an evicting maxmemory-policy (it may
 * drop queued shards, and their jobs would never finish). Where Redis will not tell its policy
 * (INFO and CONFIG both refused), logs an error and sets a metric, and starts.
 */
export async function requireSafeRedis(ctx: ClusterContext, log: Logger, metrics: Metrics, closing: () => boolean): Promise<void> {
  for (let waited = 0; !closing(); waited++) {
    if (ctx.redis.status === 'ready') {
      try {
        const settings = await redisSettings(ctx.redis, 10_000);
        if (settings.problems.length > 0) {
          for (const p of settings.problems) log.error(p);
          throw new UnsafeRedisError(settings.problems);
        }
        metrics.redisSettingsUnreadable.set(settings.unreadable === undefined ? 0 : 1);
        if (settings.unreadable !== undefined) log.error(settings.unreadable);
        for (const w of settings.warnings) log.warn(w);
        return;
      } catch (e) {
        if (e instanceof UnsafeRedisError) throw e;
      }
    }
    if (waited % 50 === 10) log.warn({ redis: ctx.redis.status }, 'waiting for Redis before taking shards');
    await new Promise((r) => setTimeout(r, 200));
  }
}
