import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '@filer/testing';
import { IdempotencyStore, RateLimiter } from '../src/index.js';

/** The API's two Redis-backed limits, against a redis-server of the test's own. */
describe('rate limiter and idempotency store (real Redis)', () => {
  let redis: RedisHandle;
  let a: Redis;
  let b: Redis;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    redis = await startRedis();
    a = new Redis(redis.url);
    b = new Redis(redis.url);
  });

  afterAll(async () => {
    a?.disconnect();
    b?.disconnect();
    await redis?.stop();
  });

  describe('RateLimiter (GCRA)', () => {
    it('lets a burst of `limit` through, then one per window/limit, and says how long to wait', async () => {
      const sut = new RateLimiter(a, { limit: 5, windowMs: 1000 });
      const first = [];
      for (let i = 0; i < 5; i++) first.push(await sut.take('c1'));
      expect(first.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 4],
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
      ]);
      const refused = await sut.take('c1');
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(200);
      // A refused request takes nothing: after the wait exactly one more passes.
      await sleep(refused.retryAfterMs + 20);
      expect((await sut.take('c1')).allowed).toBe(true);
      expect((await sut.take('c1')).allowed).toBe(false);
      // Other clients have buckets of their own, and a bucket expires once full again.
      expect((await sut.take('c2')).remaining).toBe(4);
      const ttl = await a.pttl('filer:ratelimit:c1');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1000);
    });

    it('counts exactly under concurrency, across connections (API replicas)', async () => {
      const one = new RateLimiter(a, { limit: 20, windowMs: 60_000 });
      const two = new RateLimiter(b, { limit: 20, windowMs: 60_000 });
      const decisions = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? one : two).take('shared')));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
      for (const d of decisions.filter((x) => !x.allowed)) expect(d.retryAfterMs).toBeGreaterThan(2_000);
    });

    it('refuses nonsense options', () => {
      expect(() => new RateLimiter(a, { limit: 0, windowMs: 1000 })).toThrow(RangeError);
    });
  });

  describe('IdempotencyStore', () => {
    it('claims a key once, replays its response, and tells another body or a pending request apart', async () => {
      const sut = new IdempotencyStore<{ id: string }>(a, { ttlMs: 60_000, pendingTtlMs: 5_000 });
      const first = await sut.claim('tok', 'k1', 'fp1');
      expect(first.kind).toBe('claimed');
      expect((await sut.claim('tok', 'k1', 'fp1')).kind).toBe('pending');
      expect((await sut.claim('tok', 'k1', 'fp2')).kind).toBe('mismatch');
      expect(await a.pttl('filer:idempotency:tok:k1')).toBeLessThanOrEqual(5_000);
      if (first.kind !== 'claimed') throw new Error('unreachable');
      expect(await first.complete({ id: 'job-1' })).toBe(true);
      expect(await sut.claim('tok', 'k1', 'fp1')).toEqual({ kind: 'replay', response: { id: 'job-1' } });
      expect((await sut.claim('tok', 'k1', 'fp2')).kind).toBe('mismatch');
      expect(await a.pttl('filer:idempotency:tok:k1')).toBeGreaterThan(55_000);
      // Another scope (token) with the same key is another key.
      expect((await sut.claim('other', 'k1', 'fp2')).kind).toBe('claimed');
    });

    it('frees a released key, and never lets a lapsed claim overwrite or free the next one', async () => {
      const sut = new IdempotencyStore<{ id: string }>(a, { ttlMs: 60_000, pendingTtlMs: 1_000 });
      const released = await sut.claim('tok', 'k2', 'fp');
      if (released.kind !== 'claimed') throw new Error(released.kind);
      await released.release();
      const late = await sut.claim('tok', 'k2', 'fp');
      if (late.kind !== 'claimed') throw new Error(`after release: ${late.kind}`);
      await sleep(1_300); // its process "died": the claim lapses
      const next = await sut.claim('tok', 'k2', 'fp');
      if (next.kind !== 'claimed') throw new Error(`after lapse: ${next.kind}`);
      expect(await late.complete({ id: 'late' })).toBe(false);
      await late.release();
      expect((await sut.claim('tok', 'k2', 'fp')).kind).toBe('pending');
      expect(await next.complete({ id: 'next' })).toBe(true);
      expect(await sut.claim('tok', 'k2', 'fp')).toEqual({ kind: 'replay', response: { id: 'next' } });
    });
  });
});
