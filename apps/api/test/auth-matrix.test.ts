import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job, type Queue } from 'bullmq';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { makeTree, startRedis, type RedisHandle } from '@filer/testing';
import { ALL_QUEUES, openClusterContext, QUEUE_PREFIX, QUEUES, readClusterConfig, type ClusterContext } from '@filer/jobs';
import { FILER_TOKENS, startApi, TOKENS, type ApiProcess } from './api-harness.js';

/**
 * Battery 26, against the built API and a redis-server of the test's own: every route × {no
 * token, an unknown token, read, write, admin} answers 401 or 403 exactly as specified, only
 * /health* is open, Bull Board needs admin and is read-only for Filer's queues (every mutating
 * route of bull-board's own route table is refused and the queues are unchanged), and no token
 * ever reaches the logs (the API logs at trace level here).
 */

type Who = 'none' | 'bad' | 'read' | 'write' | 'admin';
type Need = 'public' | 'read' | 'write' | 'admin';
const WHO: readonly Who[] = ['none', 'bad', 'read', 'write', 'admin'];
const BAD_TOKEN = 'n0t-a-valid-t0ken';
/** admin ⊃ write ⊃ read. */
const GRANTS: Record<Exclude<Who, 'none' | 'bad'>, readonly Need[]> = {
  read: ['read'],
  write: ['read', 'write'],
  admin: ['read', 'write', 'admin'],
};
/** A well-formed job id no job has: a route that lets the caller through answers 404 for it, and changes nothing. */
const UNKNOWN_JOB = '0000000000zzzzzz';

interface Case {
  method: string;
  url: string;
  /** `METHOD /path/{param}` as the OpenAPI document names the route (or the browser page's path). */
  route: string;
  needs: Need;
  /** The status when the caller may pass. */
  allowed: number;
  body?: unknown;
}

describe('auth and dashboard matrix (built process, real Redis)', () => {
  let redis: RedisHandle;
  let api: ApiProcess;
  let ctx: ClusterContext;
  let root: string;
  let results: string;
  let failedShard: Job;
  let delayedShard: Job;
  let waitingShard: Job;

  const tokenOf = (who: Who): string | undefined => (who === 'none' ? undefined : who === 'bad' ? BAD_TOKEN : TOKENS[who]);
  const call = (c: Pick<Case, 'method' | 'url' | 'body'>, who: Who, headers: Record<string, string> = {}) => {
    const token = tokenOf(who);
    return fetch(api.base + c.url, {
      method: c.method,
      headers: {
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
      redirect: 'manual',
    });
  };

  beforeAll(async () => {
    redis = await startRedis();
    results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-api-auth-results-'));
    root = fs.realpathSync(makeTree({ 'a/x.txt': 'x' }, { prefix: 'filer-api-auth-' }).root);
    const env = {
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: results,
      FILER_ALLOWED_ROOTS: root,
      FILER_TOKENS,
      FILER_LOG_LEVEL: 'trace',
    };
    api = await startApi(env);
    ctx = openClusterContext(readClusterConfig(env));

    // Shards of every kind Bull Board could act on, in the batch queue: one failed, one delayed, one waiting.
    const batch = ctx.queues[QUEUES.batch];
    failedShard = await batch.add('planted-failed', { n: 1 }, { jobId: 'planted-failed', attempts: 1 });
    const worker = new Worker(
      QUEUES.batch,
      async () => {
        throw new Error('planted failure');
      },
      { connection: ctx.connect(), prefix: QUEUE_PREFIX },
    );
    const deadline = Date.now() + 20_000;
    while ((await failedShard.getState()) !== 'failed') {
      if (Date.now() > deadline) throw new Error('the planted shard did not fail');
      await new Promise((r) => setTimeout(r, 50));
    }
    await worker.close();
    delayedShard = await batch.add('planted-delayed', { n: 2 }, { jobId: 'planted-delayed', delay: 3_600_000 });
    waitingShard = await batch.add('planted-waiting', { n: 3 }, { jobId: 'planted-waiting' });
  });

  afterAll(async () => {
    await api?.stop(8_000);
    if (process.env.FILER_API_TEST_LOG) fs.writeFileSync(process.env.FILER_API_TEST_LOG, api?.output() ?? '');
    await Promise.race([ctx?.close(), new Promise((r) => setTimeout(r, 2_000))]);
    await redis?.stop();
    for (const d of [root, results]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  const CASES = (): Case[] => [
    { method: 'GET', url: '/health', route: 'GET /health', needs: 'public', allowed: 200 },
    { method: 'GET', url: '/health/ready', route: 'GET /health/ready', needs: 'public', allowed: 200 },
    { method: 'GET', url: '/metrics', route: 'GET /metrics', needs: 'read', allowed: 200 },
    { method: 'GET', url: '/docs', route: 'GET /docs', needs: 'read', allowed: 200 },
    { method: 'GET', url: '/docs-json', route: 'GET /docs-json', needs: 'read', allowed: 200 },
    { method: 'GET', url: '/docs-yaml', route: 'GET /docs-yaml', needs: 'read', allowed: 200 },
    { method: 'GET', url: '/v1/jobs', route: 'GET /v1/jobs', needs: 'read', allowed: 200 },
    // An empty body: a caller that passes gets 400 for it, and nothing is queued.
    { method: 'POST', url: '/v1/jobs', route: 'POST /v1/jobs', needs: 'write', allowed: 400, body: {} },
    { method: 'GET', url: `/v1/jobs/${UNKNOWN_JOB}`, route: 'GET /v1/jobs/{id}', needs: 'read', allowed: 404 },
    { method: 'GET', url: `/v1/jobs/${UNKNOWN_JOB}/results`, route: 'GET /v1/jobs/{id}/results', needs: 'read', allowed: 404 },
    { method: 'GET', url: `/v1/jobs/${UNKNOWN_JOB}/events`, route: 'GET /v1/jobs/{id}/events', needs: 'read', allowed: 404 },
    { method: 'POST', url: `/v1/jobs/${UNKNOWN_JOB}/apply`, route: 'POST /v1/jobs/{id}/apply', needs: 'write', allowed: 404 },
    { method: 'POST', url: `/v1/jobs/${UNKNOWN_JOB}/cancel`, route: 'POST /v1/jobs/{id}/cancel', needs: 'write', allowed: 404 },
    { method: 'POST', url: `/v1/jobs/${UNKNOWN_JOB}/undo`, route: 'POST /v1/jobs/{id}/undo', needs: 'write', allowed: 404 },
    { method: 'POST', url: `/v1/jobs/${UNKNOWN_JOB}/resume`, route: 'POST /v1/jobs/{id}/resume', needs: 'write', allowed: 404 },
    { method: 'POST', url: `/v1/jobs/${UNKNOWN_JOB}/purge`, route: 'POST /v1/jobs/{id}/purge', needs: 'write', allowed: 404 },
    { method: 'DELETE', url: `/v1/jobs/${UNKNOWN_JOB}`, route: 'DELETE /v1/jobs/{id}', needs: 'write', allowed: 404 },
    // This API has no job database (FILER_DATABASE_URL): a valid question is answered 501 E_NO_DATABASE.
    { method: 'GET', url: '/v1/items?path=%2Fdata%2Fx', route: 'GET /v1/items', needs: 'read', allowed: 501 },
    { method: 'GET', url: '/admin/queues', route: 'GET /admin/queues', needs: 'admin', allowed: 200 },
    { method: 'GET', url: '/admin/queues/api/queues', route: 'GET /admin/queues/api/queues', needs: 'admin', allowed: 200 },
    {
      method: 'PUT',
      url: `/admin/queues/api/queues/${QUEUES.batch}/${failedShard.id}/retry`,
      route: 'PUT /admin/queues/api/queues/{queueName}/{jobId}/retry',
      needs: 'admin',
      allowed: 405,
    },
  ];

  it('answers every route × {no token, unknown token, read, write, admin} with 401 / 403 exactly; only /health* is open', async () => {
    const seen: string[] = [];
    for (const c of CASES()) {
      for (const who of WHO) {
        const res = await call(c, who);
        const what = `${c.route} as ${who}`;
        seen.push(`${what}: ${res.status}`);
        const text = await res.text();
        if (c.needs === 'public') {
          // A token, valid or not, changes nothing on an open route.
          expect(res.status, what).toBe(c.allowed);
        } else if (who === 'none') {
          expect(res.status, what).toBe(401);
          expect(res.headers.get('www-authenticate'), what).toBe('Bearer realm="filer"');
          expect(JSON.parse(text), what).toEqual({ error: { code: 'E_UNAUTHORIZED', message: 'a bearer token is required' } });
        } else if (who === 'bad') {
          expect(res.status, what).toBe(401);
          expect(res.headers.get('www-authenticate'), what).toBe('Bearer realm="filer", error="invalid_token"');
          expect(JSON.parse(text), what).toEqual({ error: { code: 'E_UNAUTHORIZED', message: 'the bearer token is not valid' } });
        } else if (!GRANTS[who].includes(c.needs)) {
          expect(res.status, what).toBe(403);
          expect(res.headers.get('www-authenticate'), what).toBe(`Bearer realm="filer", error="insufficient_scope", scope="${c.needs}"`);
          expect(JSON.parse(text), what).toEqual({ error: { code: 'E_FORBIDDEN', message: `this token lacks the '${c.needs}' scope` } });
        } else {
          expect(res.status, `${what}: ${text.slice(0, 200)}`).toBe(c.allowed);
        }
      }
    }
    expect(seen).toHaveLength(CASES().length * WHO.length);
    // Nothing any of them did queued a job.
    expect(await ctx.redis.zcard('filer:jobs')).toBe(0);
  });

  it('covers every route of the OpenAPI document, and nothing but /health* answers without a token', async () => {
    const doc = (await (await call({ method: 'GET', url: '/docs-json' }, 'read')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.length).toBeGreaterThanOrEqual(11);
    const covered = new Set(CASES().map((c) => c.route));
    expect(documented.filter((r) => !covered.has(r))).toEqual([]);
    const open = documented.filter((r) => CASES().find((c) => c.route === r)?.needs === 'public');
    expect(open.sort()).toEqual(['GET /health', 'GET /health/ready']);
  });

  it('takes Authorization: Bearer only; the browser cookie opens the browser pages and nothing else', async () => {
    const jobs = { method: 'GET', url: '/v1/jobs' };
    for (const authorization of [
      `Basic ${Buffer.from(`x:${TOKENS.admin}`).toString('base64')}`,
      `Bearer ${TOKENS.admin} ${TOKENS.admin}`,
      'Bearer',
      TOKENS.admin,
    ])
      expect((await call(jobs, 'none', { authorization })).status, authorization.slice(0, 12)).toBe(401);
    expect((await call(jobs, 'none', { authorization: `bearer ${TOKENS.read}` })).status).toBe(200);

    const cookie = (who: keyof typeof TOKENS) => ({ cookie: `filer_token=${TOKENS[who]}` });
    expect((await call(jobs, 'none', cookie('admin'))).status).toBe(401);
    expect((await call({ method: 'GET', url: '/metrics' }, 'none', cookie('admin'))).status).toBe(401);
    expect((await call({ method: 'POST', url: '/v1/jobs', body: {} }, 'none', cookie('admin'))).status).toBe(401);
    expect((await call({ method: 'GET', url: '/admin/queues/api/queues' }, 'none', cookie('admin'))).status).toBe(200);
    expect((await call({ method: 'GET', url: '/admin/queues/api/queues' }, 'none', cookie('write'))).status).toBe(403);
    expect((await call({ method: 'GET', url: '/docs-json' }, 'none', cookie('read'))).status).toBe(200);
  });

  /** Everything about the queues a board action could change. */
  async function snapshot(): Promise<unknown> {
    const queue = async (q: Queue) => ({
      paused: await q.isPaused(),
      counts: await q.getJobCounts(),
      concurrency: await q.getGlobalConcurrency(),
      schedulers: await q.getJobSchedulersCount(),
      ids: (await q.getJobs()).map((j) => j.id).sort(),
    });
    const shard = async (j: Job) => {
      const now = await ctx.queues[QUEUES.batch].getJob(j.id!);
      return now && { state: await now.getState(), attempts: now.attemptsMade, data: now.data, priority: now.priority, delay: now.delay };
    };
    return {
      queues: Object.fromEntries(await Promise.all(ALL_QUEUES.map(async (n) => [n, await queue(ctx.queues[n])]))),
      shards: await Promise.all([failedShard, delayedShard, waitingShard].map(shard)),
    };
  }

  /** A body each mutating route accepts, so that what refuses it is the read-only mode and not validation. */
  const BODIES: Record<string, unknown> = {
    AddJobBody: { name: 'injected', data: { n: 4 } },
    UpdateJobDataBody: { jobData: { n: 5 } },
    ChangeJobDelayBody: { runAt: Date.now() },
    ChangeJobPriorityBody: { priority: 1 },
    SetGlobalConcurrencyBody: { concurrency: 1 },
    SetRateLimitBody: { max: 1, duration: 1000 },
    ObliterateQueueBody: { force: true },
    UpdateJobSchedulerBody: { every: 1000 },
  };

  it("refuses every mutating Bull Board route for Filer's queues (405, read-only) and leaves them unchanged", async () => {
    const before = await snapshot();
    expect(before).toMatchObject({ shards: [{ state: 'failed' }, { state: 'delayed' }, { state: 'waiting' }] });

    const board = (await (await call({ method: 'GET', url: '/admin/queues/api/queues' }, 'admin')).json()) as {
      queues: { name: string; readOnlyMode: boolean }[];
    };
    expect(board.queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([...ALL_QUEUES].sort().map((n) => [n, true]));

    const mutating = appRoutes.api.filter((r) => r.method !== 'get');
    expect(mutating.length).toBeGreaterThanOrEqual(20);
    const tried: string[] = [];
    for (const route of mutating) {
      const template = Array.isArray(route.route) ? route.route[0] : route.route;
      const url =
        '/admin/queues' +
        template
          .replace(':queueName', QUEUES.batch)
          // retry and promote aim at the shard they would move; everything else at the waiting one.
          .replace(
            ':jobId',
            String(/retry/.test(template) ? failedShard.id : /promote|delay/.test(template) ? delayedShard.id : waitingShard.id),
          )
          .replace(':queueStatus', /retry/.test(template) ? 'failed' : 'completed')
          .replace(':schedulerId', 'none');
      const bodyName = (route.spec as { body?: string } | undefined)?.body;
      const body = bodyName === undefined ? undefined : BODIES[bodyName];
      expect(bodyName === undefined || body !== undefined, `a body for ${bodyName}`).toBe(true);
      const c = { method: String(route.method).toUpperCase(), url, body };
      const what = `${c.method} ${template}`;
      tried.push(what);
      expect((await call(c, 'write')).status, `${what} as write`).toBe(403);
      const res = await call(c, 'admin');
      const text = await res.text();
      if (template === '/api/queues/pause' || template === '/api/queues/resume') {
        // "Pause all" and "resume all" skip read-only queues: nothing to refuse, nothing done.
        expect(res.status, `${what}: ${text}`).toBe(200);
      } else {
        expect(res.status, `${what}: ${text}`).toBe(405);
        expect(JSON.parse(text), what).toEqual({ error: { key: 'ERRORS.QUEUE_READ_ONLY' } });
      }
    }
    expect(tried).toEqual(
      expect.arrayContaining([
        'PUT /api/queues/:queueName/:jobId/retry',
        'PUT /api/queues/:queueName/promote',
        'POST /api/queues/:queueName/add',
      ]),
    );
    expect(await snapshot()).toEqual(before);
  });

  it('never writes a token to its logs', async () => {
    // A browser login carries the token in the URL once: it is redacted in the request log.
    expect((await call({ method: 'GET', url: `/admin/queues?token=${TOKENS.admin}` }, 'none')).status).toBe(303);
    expect((await call({ method: 'GET', url: `/docs?token=${BAD_TOKEN}` }, 'none')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    const out = api.output();
    // The request log is there (so its silence about tokens means something)…
    expect(out).toMatch(/"url":"\/v1\/jobs\/0000000000zzzzzz\/apply".*"statusCode":403/);
    expect(out).toContain('token=[redacted]');
    // …and holds no token, no Authorization or Cookie header, and no token digest.
    for (const t of [...Object.values(TOKENS), BAD_TOKEN]) {
      expect(out).not.toContain(t);
      expect(out).not.toContain(createHash('sha256').update(t).digest('hex'));
      expect(out).not.toContain(Buffer.from(t).toString('base64'));
    }
    expect(out).not.toMatch(/authorization|filer_token=|"cookie"/i);
  });
});
