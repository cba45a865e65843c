import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTree, startRedis, type RedisHandle } from '@filer/testing';
import { ALL_QUEUES, IdempotencyStore, openClusterContext, readClusterConfig, redisKeys, type ClusterContext } from '@filer/jobs';
import { parseTokens } from '../src/auth/tokens.js';
import { requestFingerprint } from '../src/jobs/idempotency.js';
import { FILER_TOKENS, startApi, TOKENS, type ApiProcess } from './api-harness.js';

/**
 * The API's limits against the built process and a redis-server of the test's own (battery 19
 * and 28): Idempotency-Key on POST /v1/jobs, per-token rate limits with 429 and Retry-After,
 * the body limit and the page limits. No worker runs: accepted jobs stay queued, which is all
 * these tests look at.
 */

interface ErrorBody {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
}
interface Accepted {
  id: string;
  state: string;
  links: { self: string };
}

/** A read token used only by the burst test, so the other tests' calls do not touch its bucket. */
const BURST = 'burst-t0ken';
const RATE_LIMIT = 100;
const WINDOW_S = 10;

/**
 * POSTs with node:http: the headers at once, then `chunks` (if any) and the end of the body,
 * stopping early if the server answers. A 413 comes before the body is read and the server then
 * closes the connection, which fetch reports as a broken pipe instead of the answer.
 */
function postUntilAnswered(
  url: string,
  headers: Record<string, string>,
  chunks?: Buffer[],
): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    let onAnswer: () => void = () => undefined;
    const answer = new Promise<void>((r) => (onAnswer = r));
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      onAnswer();
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, body: text, sent });
        req.destroy();
      });
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.flushHeaders();
    if (chunks === undefined) return;
    void (async () => {
      for (const chunk of chunks) {
        if (answered) return;
        sent += chunk.length;
        if (!req.write(chunk)) await Promise.race([new Promise((r) => req.once('drain', r)), answer]);
      }
      if (!answered) req.end();
    })();
  });
}

describe('api limits (built process, real Redis)', () => {
  let redis: RedisHandle;
  let api: ApiProcess;
  let ctx: ClusterContext;
  let root: string;
  let results: string;
  let env: Record<string, string>;

  const call = (
    base: string,
    method: string,
    url: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(base + url, {
      method,
      headers: {
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const submit = (spec: unknown, key?: string, token: string = TOKENS.write, base = api.base) =>
    call(base, 'POST', '/v1/jobs', token, spec, key === undefined ? {} : { 'idempotency-key': key });

  const jobCount = (): Promise<number> => ctx.redis.zcard(redisKeys.index);
  const idempotencyKeys = (): Promise<string[]> => ctx.redis.keys('filer:idempotency:*');
  async function queued(): Promise<number> {
    let n = 0;
    for (const name of ALL_QUEUES) for (const c of Object.values(await ctx.queues[name].getJobCounts())) n += c;
    return n;
  }

  beforeAll(async () => {
    redis = await startRedis();
    results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-api-limits-results-'));
    root = fs.realpathSync(makeTree({ 'a/x.txt': 'x', 'b/y.txt': 'y' }, { prefix: 'filer-api-limits-' }).root);
    env = {
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: results,
      FILER_ALLOWED_ROOTS: root,
      FILER_TOKENS: `${FILER_TOKENS},${BURST}:read`,
      FILER_RATE_LIMIT: String(RATE_LIMIT),
      FILER_RATE_LIMIT_WINDOW_S: String(WINDOW_S),
      FILER_LOG_LEVEL: 'info',
    };
    api = await startApi(env);
    ctx = openClusterContext(readClusterConfig(env));
  });

  afterAll(async () => {
    await api?.stop(8_000);
    await Promise.race([ctx?.close(), new Promise((r) => setTimeout(r, 2_000))]);
    await redis?.stop();
    for (const d of [root, results]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('Idempotency-Key on POST /v1/jobs', () => {
    it('returns the first job again for the same key and body, and keeps the key 24 h', async () => {
      const spec = { kind: 'find', roots: [`${root}/a`], filter: { ext: 'txt' } };
      const before = await jobCount();
      const first = await submit(spec, 'order-7f3a');
      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const firstText = await first.text();
      const accepted = JSON.parse(firstText) as Accepted;

      const again = await submit(spec, 'order-7f3a');
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('location')).toBe(`/v1/jobs/${accepted.id}`);
      expect(await again.text()).toBe(firstText);
      // The same body with its keys in another order is the same request.
      const reordered = await submit({ filter: { ext: 'txt' }, roots: [`${root}/a`], kind: 'find' }, 'order-7f3a');
      expect(((await reordered.json()) as Accepted).id).toBe(accepted.id);
      // The structured-field form of the header ("…") names the same key.
      const quoted = await submit(spec, '"order-7f3a"');
      expect(((await quoted.json()) as Accepted).id).toBe(accepted.id);

      expect(await jobCount()).toBe(before + 1);
      const stored = await idempotencyKeys();
      expect(stored).toHaveLength(1);
      // Kept for FILER_IDEMPOTENCY_TTL_S (default 24 h), under the token's hashed identity, never the token.
      const ttl = await ctx.redis.pttl(stored[0]);
      expect(ttl).toBeGreaterThan(86_400_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(86_400_000);
      const digest = createHash('sha256').update(TOKENS.write).digest('hex');
      expect(stored[0]).not.toContain(TOKENS.write);
      expect(stored[0]).not.toContain(digest.slice(0, 16));
      expect(await ctx.redis.get(stored[0])).not.toContain(TOKENS.write);
    });

    it('makes one job of concurrent requests with one key', async () => {
      const spec = { kind: 'find', roots: [`${root}/b`] };
      const before = await jobCount();
      const replies = await Promise.all(Array.from({ length: 8 }, () => submit(spec, 'concurrent-1')));
      const bodies = await Promise.all(replies.map((r) => r.json() as Promise<Accepted>));
      expect(replies.map((r) => r.status)).toEqual(Array(8).fill(202));
      expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
      expect(replies.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
      expect(await jobCount()).toBe(before + 1);
    });

    it('refuses a key reused with another body (422), and changes nothing', async () => {
      const first = await submit({ kind: 'find', roots: [`${root}/a`] }, 'reused-key');
      expect(first.status).toBe(202);
      const before = { jobs: await jobCount(), queued: await queued() };
      const other = await submit({ kind: 'find', roots: [`${root}/b`] }, 'reused-key');
      expect(other.status).toBe(422);
      const body = (await other.json()) as ErrorBody;
      expect(body.error.code).toBe('E_IDEMPOTENCY_KEY_REUSED');
      expect(body.error.message).toMatch(/Idempotency-Key 'reused-key' was already used with a different request body/);
      expect(body.error.fields?.[0].field).toBe('Idempotency-Key');
      expect({ jobs: await jobCount(), queued: await queued() }).toEqual(before);
    });

    it('makes a job per request without a key, and keys of different tokens never meet', async () => {
      const spec = { kind: 'find', roots: [`${root}/a`] };
      const before = await jobCount();
      const [one, two] = await Promise.all([submit(spec), submit(spec)]);
      expect([one.status, two.status]).toEqual([202, 202]);
      expect(((await one.json()) as Accepted).id).not.toBe(((await two.json()) as Accepted).id);
      const mine = (await (await submit(spec, 'shared-name')).json()) as Accepted;
      const theirs = (await (await submit(spec, 'shared-name', TOKENS.admin)).json()) as Accepted;
      expect(theirs.id).not.toBe(mine.id);
      expect(await jobCount()).toBe(before + 4);
    });

    it('releases the key of a request that fails validation, so a corrected retry goes through', async () => {
      const before = await jobCount();
      const bad = await submit({ kind: 'find', roots: [`${root}/a`], filter: { minSize: 'lots' } }, 'fix-and-retry');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as ErrorBody).error.fields?.[0].field).toBe('filter.minSize');
      expect(await jobCount()).toBe(before);
      // The same bad request again is checked again (not a replayed 400), then the corrected one is accepted.
      expect((await submit({ kind: 'find', roots: [`${root}/a`], filter: { minSize: 'lots' } }, 'fix-and-retry')).status).toBe(400);
      const good = await submit({ kind: 'find', roots: [`${root}/a`], filter: { minSize: '1' } }, 'fix-and-retry');
      expect(good.status).toBe(202);
      expect(await jobCount()).toBe(before + 1);
    });

    it('answers 400 naming the header for a malformed key, before anything is written', async () => {
      const before = { jobs: await jobCount(), keys: (await idempotencyKeys()).length, queued: await queued() };
      for (const key of ['', 'has space', 'a,b', 'k'.repeat(256), 'naïve', '""']) {
        const res = await submit({ kind: 'find', roots: [`${root}/a`] }, key);
        expect(res.status, JSON.stringify(key)).toBe(400);
        const body = (await res.json()) as ErrorBody;
        expect(body.error.code).toBe('E_INVALID_ARGUMENT');
        expect(body.error.fields?.[0].field).toBe('Idempotency-Key');
        expect(body.error.message).toMatch(/Idempotency-Key must be 1 to 255 characters/);
      }
      expect(await submit({ kind: 'find', roots: [`${root}/a`] }, 'k'.repeat(255))).toHaveProperty('status', 202);
      expect(await jobCount()).toBe(before.jobs + 1);
      expect((await idempotencyKeys()).length).toBe(before.keys + 1);
    });

    it('waits for a request with the same key still under way, and answers 409 if it does not end within 5 s', async () => {
      // Another replica holds the key (same token, same body): claimed through the store the API uses.
      const writer = parseTokens(FILER_TOKENS, []).find((t) => t.scopes.has('write') && !t.scopes.has('admin'))!;
      const other = new IdempotencyStore(ctx.redis, { ttlMs: 60_000, pendingTtlMs: 60_000 });
      const spec = { kind: 'find', roots: [`${root}/b`] };
      const before = await jobCount();

      // That request fails (its claim is released) while this one waits: this one then makes the job.
      const held = await other.claim(writer.id, 'held-briefly', requestFingerprint(spec));
      expect(held.kind).toBe('claimed');
      const waiting = submit(spec, 'held-briefly');
      await new Promise((r) => setTimeout(r, 500));
      if (held.kind === 'claimed') await held.release();
      const res = await waiting;
      expect(res.status).toBe(202);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      expect(await jobCount()).toBe(before + 1);

      // It never ends: 409 with Retry-After, nothing made; once the key is free, the retry goes through.
      const stuck = await other.claim(writer.id, 'held-long', requestFingerprint(spec));
      const t0 = Date.now();
      const busy = await submit(spec, 'held-long');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(4_900);
      expect(busy.status).toBe(409);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(((await busy.json()) as ErrorBody).error.code).toBe('E_IDEMPOTENCY_IN_PROGRESS');
      expect(await jobCount()).toBe(before + 1);
      if (stuck.kind === 'claimed') await stuck.release();
      expect((await submit(spec, 'held-long')).status).toBe(202);
    });

    it('forgets a key after FILER_IDEMPOTENCY_TTL_S', async () => {
      const short = await startApi({ ...env, FILER_IDEMPOTENCY_TTL_S: '1' });
      try {
        const spec = { kind: 'find', roots: [`${root}/a`] };
        const first = (await (await submit(spec, 'short-lived', TOKENS.write, short.base)).json()) as Accepted;
        const replay = (await (await submit(spec, 'short-lived', TOKENS.write, short.base)).json()) as Accepted;
        expect(replay.id).toBe(first.id);
        const deadline = Date.now() + 10_000;
        while ((await ctx.redis.keys('filer:idempotency:*short-lived')).length > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        const later = await submit(spec, 'short-lived', TOKENS.write, short.base);
        expect(later.status).toBe(202);
        expect(later.headers.get('idempotent-replayed')).toBeNull();
        expect(((await later.json()) as Accepted).id).not.toBe(first.id);
      } finally {
        await short.stop(5_000);
        // The last submit's key lives 1 s more: gone now, not in the middle of a later test that counts keys.
        const left = await ctx.redis.keys('filer:idempotency:*short-lived');
        if (left.length > 0) await ctx.redis.del(...left);
      }
    });
  });

  describe('request and page limits', () => {
    it('answers 413 above FILER_MAX_BODY_BYTES (default 1 MiB), sized or chunked, and accepts exactly 1 MiB', async () => {
      const before = { jobs: await jobCount(), keys: (await idempotencyKeys()).length };
      const MiB = 1024 * 1024;
      // A body of exactly the limit is read and validated (400 for the unknown option), one byte more is refused unread.
      const bodyOf = (size: number): string => {
        const head = `{"kind":"find","roots":["${root}/a"],"options":{"padding":"`;
        return head + 'x'.repeat(size - head.length - 3) + '"}}';
      };
      expect(Buffer.byteLength(bodyOf(MiB))).toBe(MiB);
      const exact = await submit(bodyOf(MiB), 'big-body');
      expect(exact.status).toBe(400);
      expect(((await exact.json()) as ErrorBody).error.fields?.[0].field).toBe('options.padding');
      // One byte more, announced by Content-Length: refused from the header alone, before a byte of the body is sent.
      const headers = { authorization: `Bearer ${TOKENS.write}`, 'content-type': 'application/json', 'idempotency-key': 'big-body' };
      const over = await postUntilAnswered(`${api.base}/v1/jobs`, { ...headers, 'content-length': String(MiB + 1) });
      expect(over.sent).toBe(0);
      expect(over.status).toBe(413);
      const body = JSON.parse(over.body) as ErrorBody;
      expect(body.error.code).toBe('E_PAYLOAD_TOO_LARGE');
      expect(body.error.message).toMatch(/FILER_MAX_BODY_BYTES/);
      // Without a Content-Length (chunked), bytes are counted as they come: one byte past the limit is refused.
      const chunks = [...Array.from({ length: 16 }, () => Buffer.alloc(MiB / 16, 'x')), Buffer.from('x')];
      const chunked = await postUntilAnswered(`${api.base}/v1/jobs`, { ...headers, 'transfer-encoding': 'chunked' }, chunks);
      expect(chunked.status).toBe(413);
      expect(chunked.sent).toBe(MiB + 1);
      expect({ jobs: await jobCount(), keys: (await idempotencyKeys()).length }).toEqual(before);
    });

    it('answers 400 for limit=10^6 on the list and results routes, naming the largest page', async () => {
      const list = await call(api.base, 'GET', '/v1/jobs?limit=1000000', TOKENS.read);
      expect(list.status).toBe(400);
      const listBody = (await list.json()) as ErrorBody;
      expect(listBody.error.fields?.[0].field).toBe('limit');
      expect(listBody.error.message).toMatch(/from 1 to 500/);
      const id = (await ctx.redis.zrange(redisKeys.index, '0', '0'))[0];
      const res = await call(api.base, 'GET', `/v1/jobs/${id}/results?limit=1000000`, TOKENS.read);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.message).toMatch(/from 1 to 100000/);
      expect((await call(api.base, 'GET', '/v1/jobs?limit=500', TOKENS.read)).status).toBe(200);
    });
  });

  describe('per-token rate limit', () => {
    it('answers 429 with Retry-After once a token sending 300 requests a second passes its limit; others go on', async () => {
      const N = 300;
      const t0 = performance.now();
      const replies = await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          // 300 a second: request i leaves at i × 3.3 ms.
          await new Promise((r) => setTimeout(r, (i * 1000) / N));
          const res = await call(api.base, 'GET', '/v1/jobs?limit=1', BURST);
          return { status: res.status, headers: res.headers, body: await res.text() };
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const ok = replies.filter((r) => r.status === 200);
      const limited = replies.filter((r) => r.status === 429);
      expect(ok.length + limited.length, JSON.stringify(replies.map((r) => r.status))).toBe(N);
      // The bucket holds 100 and refills at 100 / 10 s: at most 10 more a second while the burst lasts.
      expect(ok.length).toBeGreaterThanOrEqual(RATE_LIMIT);
      expect(ok.length).toBeLessThanOrEqual(RATE_LIMIT + Math.ceil((seconds * RATE_LIMIT) / WINDOW_S) + 1);
      console.log(`rate limit: ${N} requests in ${seconds.toFixed(2)} s from one token: ${ok.length} × 200, ${limited.length} × 429`);
      for (const r of limited) {
        expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'E_TOO_MANY_REQUESTS' } });
        const retryAfter = Number(r.headers.get('retry-after'));
        expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_S, String(retryAfter)).toBe(true);
        expect(r.headers.get('ratelimit-remaining')).toBe('0');
      }
      for (const r of ok) expect(r.headers.get('ratelimit-limit')).toBe(String(RATE_LIMIT));

      // Only that token is limited: of 20 more at once, at most a few pass (the bucket refills one every
      // 100 ms), while another token's request goes through. Probes are never limited, and a request
      // without a valid token is still a 401.
      const [other, ...more] = await Promise.all([
        call(api.base, 'GET', '/v1/jobs?limit=1', TOKENS.read),
        ...Array.from({ length: 20 }, () => call(api.base, 'GET', '/v1/jobs?limit=1', BURST)),
      ]);
      expect(other.status).toBe(200);
      expect(more.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(15);
      for (const probe of ['/health', '/health/ready']) {
        const res = await call(api.base, 'GET', probe, BURST);
        expect(res.status, probe).toBe(200);
        expect(res.headers.get('ratelimit-limit'), probe).toBeNull();
      }
      expect((await call(api.base, 'GET', '/v1/jobs', undefined)).status).toBe(401);
      expect((await call(api.base, 'GET', '/v1/jobs', 'not-a-t0ken')).status).toBe(401);

      // Buckets are named by the token's identity, a hash that is neither the token nor its digest
      // (a full bucket expires, so only the busy token's is sure to be there); an unknown token has none.
      const ids = parseTokens(env.FILER_TOKENS, []).map((t) => t.id);
      const buckets = await ctx.redis.keys('filer:ratelimit:*');
      expect(buckets).toContain(`filer:ratelimit:${parseTokens(`${BURST}:read`, [])[0].id}`);
      for (const b of buckets) {
        expect(ids).toContain(b.slice('filer:ratelimit:'.length));
        for (const t of [BURST, ...Object.values(TOKENS), 'not-a-t0ken']) {
          expect(b).not.toContain(t);
          expect(b).not.toContain(createHash('sha256').update(t).digest('hex').slice(0, 16));
        }
      }

      // After Retry-After, the token may go on.
      const wait = Number(limited.at(-1)!.headers.get('retry-after'));
      await new Promise((r) => setTimeout(r, wait * 1000 + 200));
      expect((await call(api.base, 'GET', '/v1/jobs?limit=1', BURST)).status).toBe(200);
    });
  });
});
