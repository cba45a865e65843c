import type { Redis } from 'ioredis';

/**
 * GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp): a client may
 * spend `limit` requests at once, and the bucket refills at `limit / window`. The key holds the
 * bucket's "theoretical arrival time" in µs; Redis' own clock is used, so API replicas with
 * skewed clocks share one bucket per client exactly. A refused request takes nothing.
 * Replies: allowed (1/0), µs until the next request is allowed (0 when allowed), requests left.
 */
const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next = tat + interval
local allowAt = next - burst
if now < allowAt then
  return {0, math.ceil(allowAt - now), 0}
end
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000))
return {1, 0, math.floor((burst - (next - now)) / interval)}`;

const KEY_PREFIX = 'filer:ratelimit:';

export interface RateLimitOptions {
  /** Requests a client may make at once, and per `windowMs` on average. */
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Requests the client may still make at once. */
  remaining: number;
  /** When refused: how long until one more request is allowed. */
  retryAfterMs: number;
}

/** Per-client request limits shared by every API replica through Redis (one atomic script per request). */
export class RateLimiter {
  private readonly intervalUs: number;
  private readonly burstUs: number;

  constructor(
    private readonly redis: Redis,
    readonly options: RateLimitOptions,
  ) {
    if (!(options.limit >= 1 && options.windowMs >= 1)) throw new RangeError('RateLimiter: limit and windowMs must be at least 1');
    this.burstUs = options.windowMs * 1000;
    this.intervalUs = this.burstUs / options.limit;
  }

  /** Counts one request of `client` (an opaque identity, never a secret) and says whether it may go on. */
  async take(client: string): Promise<RateDecision> {
    const [allowed, waitUs, remaining] = (await this.redis.eval(
      GCRA_SCRIPT,
      1,
      KEY_PREFIX + client,
      String(this.intervalUs),
      String(this.burstUs),
    )) as [number, number, number];
    return { allowed: allowed === 1, remaining, retryAfterMs: Math.ceil(waitUs / 1000) };
  }
}
