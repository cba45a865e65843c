import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Claims the key when it is free (SET NX, with a short expiry while the request runs), else
 * returns what it holds: one atomic step, so of two concurrent requests exactly one claims.
 */
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`;

/** Replaces the key's value only while this request's claim still holds it (the claim may have lapsed). */
const SETTLE_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v).owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

const KEY_PREFIX = 'filer:idempotency:';

/** What a key holds: a request under way (`pending`), or the response it ended with. */
interface Entry<R> {
  owner: string;
  fingerprint: string;
  state: 'pending' | 'done';
  response?: R;
}

export type IdempotencyOutcome<R> =
  /** This request holds the key: do the work, then `complete` or `release`. */
  | { kind: 'claimed'; complete(response: R): Promise<boolean>; release(): Promise<void> }
  /** An earlier request with the same key and body finished: send its response again. */
  | { kind: 'replay'; response: R }
  /** The key was used with another body. */
  | { kind: 'mismatch' }
  /** A request with the same key and body is still under way. */
  | { kind: 'pending' };

export interface IdempotencyOptions {
  /** How long a finished request's response is kept for replays. */
  ttlMs: number;
  /** How long a claim lasts when its request never finishes (its process died). */
  pendingTtlMs: number;
}

/**
 * Idempotency keys in Redis, scoped by client: the first request with a key claims it, and its
 * response is kept for `ttlMs` and returned to every later request with the same key and body.
 * A request that fails before it changed anything releases its claim, so a retry runs afresh.
 */
export class IdempotencyStore<R> {
  constructor(
    private readonly redis: Redis,
    readonly options: IdempotencyOptions,
  ) {}

  /** `scope` and `key` are opaque (a client's hashed identity, the client's key); `fingerprint` identifies the body. */
  async claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyOutcome<R>> {
    const redisKey = `${KEY_PREFIX}${scope}:${key}`;
    const owner = randomUUID();
    const pending: Entry<R> = { owner, fingerprint, state: 'pending' };
    const held = (await this.redis.eval(CLAIM_SCRIPT, 1, redisKey, JSON.stringify(pending), String(this.options.pendingTtlMs))) as
      string | null;
    if (held === null) {
      const settle = async (value: string): Promise<boolean> =>
        (await this.redis.eval(SETTLE_SCRIPT, 1, redisKey, owner, value, String(this.options.ttlMs))) === 1;
      return {
        kind: 'claimed',
        complete: (response) => settle(JSON.stringify({ owner, fingerprint, state: 'done', response } satisfies Entry<R>)),
        release: async () => void (await settle('')),
      };
    }
    const entry = JSON.parse(held) as Entry<R>;
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (entry.state === 'done' && entry.response !== undefined) return { kind: 'replay', response: entry.response };
    return { kind: 'pending' };
  }
}
